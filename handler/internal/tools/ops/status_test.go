package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"

	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
	"github.com/snapcopy/snapcopy/handler/internal/tools/cli"
)

// statusRun runs `status` on the env's fake clock and returns what it was
// asked to wait.
func (e *storageEnv) statusRun(args ...string) (stdout string, slept []time.Duration, err error) {
	stdout, err = e.runCommand(statusCommand{e.fakeSurroundings(&slept)}.run, args)
	return stdout, slept, err
}

// pendingChain copies a first snapshot (4 KiB, done at +4 s) and starts
// copying a second (8 KiB changed, pending from +10 s, done at +18 s).
func pendingChain(t *testing.T) (e *storageEnv, copyID string) {
	e = newStorageEnv(t)
	e.startCopy(e.writeAndSnapshot(0, 4096))
	e.clock.Advance(10 * time.Second)
	copyID = e.startCopy(e.writeAndSnapshot(16384, 8192))
	e.clock.Advance(2 * time.Second)
	return e, copyID
}

// golden fills a text template with the run's loopback address and copy id.
func golden(e *storageEnv, copyID, text string) string {
	return strings.NewReplacer("BASE", e.baseURL, "COPYID", copyID).Replace(text)
}

func TestStatusTextShowsProgressAndETAFromTwoReadings(t *testing.T) {
	e, copyID := pendingChain(t)
	out, slept, err := e.statusRun(e.destURL, "-sample", "4s")
	if err != nil {
		t.Fatal(err)
	}
	// Readings at +12 s (2048 B) and +16 s (6144 B): 1 KiB/s, 2 s to go.
	want := golden(e, copyID, `destination   BASE/devstoreaccount1/backups/vm.vhd
source        BASE/prodsource/disks/vm.vhd
last copied   2026-11-24T10:00:00.0000000Z
copy          pending  source snapshot 2026-11-24T10:00:10.0000000Z  id COPYID
progress      [######################........]  75.0%  6.0 KiB / 8.0 KiB  ETA 2s (2026-11-24T10:00:18Z, 1.0 KiB/s)

restore points: 1, 4.0 KiB in total
  destination snapshot            source snapshot               changed
  2026-11-24T10:00:04.0000000Z ←  2026-11-24T10:00:00.0000000Z  4.0 KiB
`)
	if out != want {
		t.Errorf("status:\n%s\nwant:\n%s", out, want)
	}
	if len(slept) != 1 || slept[0] != 4*time.Second {
		t.Errorf("slept %v, want one 4s wait", slept)
	}
}

func TestStatusJSONWithoutSampling(t *testing.T) {
	e, copyID := pendingChain(t)
	out, slept, err := e.statusRun("-json", e.destURL, "-sample", "0")
	if err != nil {
		t.Fatal(err)
	}
	if len(slept) != 0 {
		t.Errorf("-sample 0 waited %v", slept)
	}
	var got chain
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	want := chain{
		Destination: e.destURL, Exists: true, Incremental: true,
		Source:             e.baseURL + "/prodsource/disks/vm.vhd",
		LastCopiedSnapshot: "2026-11-24T10:00:00.0000000Z",
		Copy: &copyAttempt{ID: copyID, Status: "pending", SourceSnapshot: "2026-11-24T10:00:10.0000000Z",
			BytesCopied: 2048, BytesTotal: 8192, Percent: 25, ETAUnknown: errSingleReading.Error()},
		// The first copy wrote one 4 KiB page.
		RestorePoints:     []restorePoint{{DestinationSnapshot: "2026-11-24T10:00:04.0000000Z", SourceSnapshot: "2026-11-24T10:00:00.0000000Z", BytesChanged: to.Ptr(int64(4096))}},
		BytesChangedTotal: to.Ptr(int64(4096)),
	}
	if !equalJSON(t, got, want) {
		t.Errorf("json:\n%s", out)
	}
}

func TestStatusAfterTheCopyCompletes(t *testing.T) {
	e, copyID := pendingChain(t)
	e.clock.Advance(time.Minute)
	out, slept, err := e.statusRun(e.destURL)
	if err != nil {
		t.Fatal(err)
	}
	if len(slept) != 0 {
		t.Errorf("a finished copy needs no second reading, slept %v", slept)
	}
	want := golden(e, copyID, `destination   BASE/devstoreaccount1/backups/vm.vhd
source        BASE/prodsource/disks/vm.vhd
last copied   2026-11-24T10:00:10.0000000Z
copy          success  source snapshot 2026-11-24T10:00:10.0000000Z  id COPYID
progress      [##############################] 100.0%  8.0 KiB / 8.0 KiB
completed     2026-11-24T10:00:18Z

restore points: 2, 12.0 KiB in total
  destination snapshot            source snapshot               changed
  2026-11-24T10:00:04.0000000Z ←  2026-11-24T10:00:00.0000000Z  4.0 KiB
  2026-11-24T10:00:18.0000000Z ←  2026-11-24T10:00:10.0000000Z  8.0 KiB
`)
	if out != want {
		t.Errorf("status:\n%s\nwant:\n%s", out, want)
	}
}

func TestStatusOfDestinationsSnapcopyHasNotTouched(t *testing.T) {
	e := newStorageEnv(t)
	out, _, err := e.statusRun(e.destURL)
	if err != nil || !strings.Contains(out, "does not exist yet") {
		t.Errorf("absent destination: %v\n%s", err, out)
	}
	if _, err := e.dest.Create(context.Background(), 4096, nil); err != nil {
		t.Fatal(err)
	}
	out, _, err = e.statusRun(e.destURL)
	if err != nil || !strings.Contains(out, "not an incremental copy") {
		t.Errorf("plain page blob: %v\n%s", err, out)
	}
}

func TestStatusArgumentErrors(t *testing.T) {
	e := newStorageEnv(t)
	cases := map[string]struct {
		args  []string
		usage bool
	}{
		"no destination":       {nil, true},
		"two destinations":     {[]string{e.destURL, e.destURL}, true},
		"unknown flag":         {[]string{"-bogus", e.destURL}, true},
		"destination with SAS": {[]string{e.destURL + "?sv=2025-01-05&sig=SECRET"}, true},
		"not a blob URL":       {[]string{"ftp://host/c/b?sig=SECRET"}, true},
		"negative sample":      {[]string{"-sample", "-1s", e.destURL}, true},
	}
	for name, c := range cases {
		_, _, err := e.statusRun(c.args...)
		switch {
		case err == nil:
			t.Errorf("%s: accepted", name)
		case errors.Is(err, cli.ErrUsage) != c.usage:
			t.Errorf("%s: usage error %v, want %v: %v", name, errors.Is(err, cli.ErrUsage), c.usage, err)
		case strings.Contains(err.Error(), "SECRET"):
			t.Errorf("%s: error shows the SAS: %v", name, err)
		}
	}
}

func TestStatusWithTheWrongAccountKeyFailsClearly(t *testing.T) {
	e := newStorageEnv(t)
	other := storageemu.ConnectionString(e.baseURL, sourceAccount)
	c := statusCommand{storageCommand{getenv: func(string) string { return other }, clock: e.clock}}
	err := c.run(context.Background(), []string{e.destURL}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `"devstoreaccount1"`) || strings.Contains(err.Error(), sourceAccount.Key) {
		t.Fatalf("got %v", err)
	}
}

// equalJSON compares two values by their JSON encoding.
func equalJSON(t *testing.T, got, want any) bool {
	t.Helper()
	g, err1 := json.Marshal(got)
	w, err2 := json.Marshal(want)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, w) {
		t.Errorf("got  %s\nwant %s", g, w)
		return false
	}
	return true
}

func TestHelpGoesToStdoutAndHidesSecretsFromTheEnvironment(t *testing.T) {
	secrets := map[string]string{
		"ServiceBusConnection":               "Endpoint=sb://ns/;SharedAccessKeyName=k;SharedAccessKey=SECRET",
		"SNAPCOPY_STORAGE_CONNECTION_STRING": "AccountName=a;AccountKey=SECRET",
	}
	env := func(k string) string { return secrets[k] }
	cases := map[string]struct {
		run      func(context.Context, []string, io.Writer, io.Writer) error
		mentions string
	}{
		"send":   {sendCommand{getenv: env}.run, "-snapshot-now"},
		"status": {statusCommand{storageCommand{getenv: env}}.run, "-sample"},
	}
	for name, c := range cases {
		for _, help := range []string{"-h", "--help", "-help"} {
			var out, errOut bytes.Buffer
			err := c.run(context.Background(), []string{help}, &out, &errOut)
			if !errors.Is(err, cli.ErrHelp) || !strings.Contains(out.String(), c.mentions) || errOut.Len() != 0 || strings.Contains(out.String(), "SECRET") {
				t.Errorf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, help, err, out.String(), errOut.String())
			}
		}
	}
}
