package copyjob

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestDecideStartErrorRowFields adds to TestDecideStartError the fields it
// does not check: what each refusal must leave empty, the exact service code
// named in each reason, and that a refusal no rule covers (including a kind
// the adapter never produces) is Failed rather than retried for ever.
func TestDecideStartErrorRowFields(t *testing.T) {
	cases := []struct {
		row  string
		err  StartError
		want StartDecision // Reason compared by the parts below
		has  []string
	}{
		{"row requested-pending (409 PendingCopyOperation): already ours, copy id still to be read", StartError{Kind: StartErrPending, Code: "PendingCopyOperation", Status: 409},
			StartDecision{Action: AlreadyPending}, nil},
		{"row earlier-snapshot IncrementalCopyOfEralierVersionSnapshotNotAllowed: Superseded, no failure code", StartError{Kind: StartErrEarlier, Code: "IncrementalCopyOfEralierVersionSnapshotNotAllowed", Status: 409},
			StartDecision{Action: Supersede}, []string{"(IncrementalCopyOfEralierVersionSnapshotNotAllowed)", "older than the last copied"}},
		{"row earlier-snapshot IncrementalCopyOfEarlierVersionSnapshotNotAllowed: Superseded, no failure code", StartError{Kind: StartErrEarlier, Code: "IncrementalCopyOfEarlierVersionSnapshotNotAllowed", Status: 409},
			StartDecision{Action: Supersede}, []string{"(IncrementalCopyOfEarlierVersionSnapshotNotAllowed)"}},
		{"row earlier-snapshot IncrementalCopyOfEarlierSnapshotNotAllowed: Superseded, no failure code", StartError{Kind: StartErrEarlier, Code: "IncrementalCopyOfEarlierSnapshotNotAllowed", Status: 409},
			StartDecision{Action: Supersede}, []string{"(IncrementalCopyOfEarlierSnapshotNotAllowed)"}},
		{"row not-incremental/other-source (refused at start): DestinationConflict", StartError{Kind: StartErrConflict, Code: "InvalidBlobType", Status: 409},
			StartDecision{Action: Fail, Code: DestinationConflict}, []string{"(InvalidBlobType)", "another source"}},
		{"row chain-broken (source re-created): ChainBroken, code then the remedy", StartError{Kind: StartErrChainBroken, Code: "BlobOverwritten", Status: 409},
			StartDecision{Action: Fail, Code: ChainBroken}, []string{"BlobOverwritten: " + ChainBrokenRemedy}},
		{"row chain-broken (previous snapshot gone): remedy says how to start a new chain", StartError{Kind: StartErrChainBroken, Code: "PreviousSnapshotNotFound", Status: 409},
			StartDecision{Action: Fail, Code: ChainBroken}, []string{"PreviousSnapshotNotFound", "delete the destination blob", "new chain"}},
		{"row transient 429 throttled: retry, then RetriesExhausted", StartError{Kind: StartErrTransient, Code: "TooManyRequests", Status: 429},
			StartDecision{Action: RetryLater, Code: RetriesExhausted}, []string{"transient refusal 429 TooManyRequests"}},
		{"row transient 500 timeout: retry, then RetriesExhausted", StartError{Kind: StartErrTransient, Code: "OperationTimedOut", Status: 500},
			StartDecision{Action: RetryLater, Code: RetriesExhausted}, []string{"500 OperationTimedOut"}},
		{"row transient without a service code: retry, then RetriesExhausted", StartError{Kind: StartErrTransient, Status: 502},
			StartDecision{Action: RetryLater, Code: RetriesExhausted}, []string{"502"}},
		{"refusal of a kind no rule knows: Failed CopyRejected, not retried", StartError{Kind: StartErrorKind(99), Code: "Novel", Status: 400},
			StartDecision{Action: Fail, Code: CopyRejected}, []string{"400 Novel"}},
	}
	for _, c := range cases {
		t.Run(c.row, func(t *testing.T) {
			got := DecideStartError(&c.err)
			if got.Action != c.want.Action || got.Code != c.want.Code || got.CopyID != "" || got.DestinationSnapshot != "" {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			if c.want.Action != AlreadyPending && got.Reason == "" {
				t.Fatalf("%v without a reason", got.Action)
			}
			for _, part := range c.has {
				if !strings.Contains(got.Reason, part) {
					t.Errorf("reason %q does not contain %q", got.Reason, part)
				}
			}
		})
	}
}

// TestDecideStartErrorNeverQuotesTheUnderlyingError: StartError.Err may hold
// a request URL with its SAS; the reason (published in Failed, Superseded and
// deferral logs) is built from kind, status and code only, so no
// SAS can leak through it.
func TestDecideStartErrorNeverQuotesTheUnderlyingError(t *testing.T) {
	leak := errors.New("PUT https://dst.blob.core.windows.net/backups/vm1.vhd?comp=incrementalcopy: copy source https://src.blob.core.windows.net/disks/vm1.vhd?sv=2025-01-05&sig=SECRET")
	kinds := []StartErrorKind{StartErrOther, StartErrPending, StartErrEarlier, StartErrConflict, StartErrChainBroken,
		StartErrSourceDenied, StartErrInvalidSource, StartErrTransient}
	for _, k := range kinds {
		got := DecideStartError(&StartError{Kind: k, Code: "SomeCode", Status: 409, Err: leak})
		if strings.Contains(got.Reason, "sig=") || strings.Contains(got.Reason, "SECRET") || strings.Contains(got.Reason, "comp=incrementalcopy") {
			t.Errorf("kind %d: reason quotes the underlying error: %q", k, got.Reason)
		}
	}
}

// TestStartErrorWraps: the adapter's classified error keeps its cause for
// errors.Is/As (the worker finds it with errors.As through further wrapping).
func TestStartErrorWraps(t *testing.T) {
	cause := errors.New("connection reset")
	var err error = fmt.Errorf("start: %w", &StartError{Kind: StartErrTransient, Code: "ServerBusy", Status: 503, Err: cause})
	var se *StartError
	if !errors.As(err, &se) || se.Kind != StartErrTransient || se.Code != "ServerBusy" || se.Status != 503 {
		t.Fatalf("errors.As through wrapping: %v %+v", err, se)
	}
	if !errors.Is(err, cause) {
		t.Fatal("the cause is not reachable through Unwrap")
	}
	if got := se.Error(); got != "incremental copy refused: 503 ServerBusy: connection reset" {
		t.Fatalf("Error() = %q", got)
	}
}

// TestTransientStartErrorBudget is the row "transient errors → retry later
// within budget, then Failed" end to end through the two pure functions the
// worker chains: DecideStartError says RetryLater and which code the Failed
// event will carry; PlanDeferral defers exactly MaxTransientRetries (8, as
// README "Settlement" promises) times with growing delays, then gives up.
func TestTransientStartErrorBudget(t *testing.T) {
	if MaxTransientRetries != 8 {
		t.Fatalf("MaxTransientRetries = %d; README promises at most 8 deferrals", MaxTransientRetries)
	}
	bounds := DeferralBounds{MinDelay: 5 * time.Second, MaxDelay: 10 * time.Minute, MaxWait: time.Hour}
	// With jitter r = 0.5 the factor is exactly 1: 5 s doubling, the 8th
	// (640 s) capped at MaxDelay.
	wantDelays := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second,
		80 * time.Second, 160 * time.Second, 320 * time.Second, 600 * time.Second}
	cases := []struct {
		row    string
		err    StartError
		failAs FailureCode
	}{
		{"row transient 503 ServerBusy: RetriesExhausted", StartError{Kind: StartErrTransient, Code: "ServerBusy", Status: 503}, RetriesExhausted},
		{"row transient 500 CannotVerifyCopySource (not verified in time): SourceUnauthorized", StartError{Kind: StartErrTransient, Code: "CannotVerifyCopySource", Status: 500}, SourceUnauthorized},
		{"row transient 403 AuthorizationPermissionMismatch (RBAC propagating): RetriesExhausted", StartError{Kind: StartErrTransient, Code: "AuthorizationPermissionMismatch", Status: 403}, RetriesExhausted},
		{"row transient 412 ConditionNotMet (destination race): RetriesExhausted", StartError{Kind: StartErrTransient, Code: "ConditionNotMet", Status: 412}, RetriesExhausted},
		{"row transient, no response at all (network): RetriesExhausted", StartError{Kind: StartErrTransient, Err: errors.New("dial tcp: i/o timeout")}, RetriesExhausted},
	}
	for _, c := range cases {
		t.Run(c.row, func(t *testing.T) {
			now := snapNew
			first := now
			var s DeferState
			for i := 1; ; i++ {
				dec := DecideStartError(&c.err)
				if dec.Action != RetryLater || dec.Code != c.failAs {
					t.Fatalf("attempt %d: %+v, want RetryLater failing as %s", i, dec, c.failAs)
				}
				plan := PlanDeferral(testTrigger, s, true, now, bounds, 0.5)
				if i > MaxTransientRetries {
					if !plan.GiveUp {
						t.Fatalf("attempt %d: still deferred after %d retries", i, MaxTransientRetries)
					}
					break
				}
				if plan.GiveUp {
					t.Fatalf("attempt %d: gave up within the budget", i)
				}
				if id := ParseMessageID(plan.MessageID); plan.Delay != wantDelays[i-1] || id.Kind != KindDeferral || id.JobKey != testTrigger.JobKey || id.N != i ||
					plan.Next.Retries != i || plan.Next.Waits != 0 || !plan.Next.FirstAt.Equal(first) {
					t.Fatalf("attempt %d: %+v, want delay %s, deferral %d of job %s", i, plan, wantDelays[i-1], i, testTrigger.JobKey)
				}
				s = plan.Next
				now = now.Add(plan.Delay)
			}
		})
	}
}
