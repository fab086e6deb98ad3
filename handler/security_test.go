package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/snapcopy/snapcopy/handler/internal/blobtest"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// spyStorage is a foreign host posing as storage, recording every
// request. It answers like a destination whose copy copyID is pending, or
// with no copyID like an absent destination that accepts a copy, so that a
// handler willing to talk to it would go on to abort, or to send the
// source's SAS.
type spyStorage struct {
	mu       sync.Mutex
	requests []string
	copyID   string
	source   string
}

func (s *spyStorage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	auth := "no credential"
	if r.Header.Get("Authorization") != "" {
		auth = "Authorization: " + strings.SplitN(r.Header.Get("Authorization"), " ", 2)[0]
	}
	s.requests = append(s.requests, fmt.Sprintf("%s %s (%s, copy source %t)", r.Method, r.URL.Path, auth, r.Header.Get("x-ms-copy-source") != ""))
	s.mu.Unlock()
	w.Header().Set("x-ms-version", "2026-12-06")
	if s.copyID == "" {
		if r.Method == http.MethodHead {
			w.Header().Set("x-ms-error-code", "BlobNotFound")
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("x-ms-copy-id", "copy-spy")
		w.Header().Set("x-ms-copy-status", "pending")
		w.WriteHeader(http.StatusAccepted)
		return
	}
	w.Header().Set("x-ms-incremental-copy", "true")
	w.Header().Set("x-ms-copy-id", s.copyID)
	w.Header().Set("x-ms-copy-status", "pending")
	w.Header().Set("x-ms-copy-source", s.source)
	w.WriteHeader(http.StatusOK)
}

// newSpy starts a spy on loopback; at the end of the test it must have
// received nothing.
func newSpy(t *testing.T, copyID, source string) (*spyStorage, string) {
	t.Helper()
	spy := &spyStorage{copyID: copyID, source: source}
	srv := httptest.NewServer(spy)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		spy.mu.Lock()
		defer spy.mu.Unlock()
		if len(spy.requests) > 0 {
			t.Errorf("the foreign host received %d requests, want 0: %v", len(spy.requests), spy.requests)
		}
	})
	return spy, srv.URL
}

// sendPoll puts a poll message on the poll queue, as anyone holding a
// send right (or a namespace connection string) can.
func (s *stack) sendPoll(id string, m copyjob.PollMessage) {
	s.t.Helper()
	body, err := json.Marshal(m)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.bus.sender(pollQueue).SendMessage(context.Background(), &azservicebus.Message{MessageID: to.Ptr(id), Body: body}, nil); err != nil {
		s.t.Fatal(err)
	}
}

// forgedPoll is a poll of the copy of snapshot from source to dest.
func (s *stack) forgedPoll(source, snapshot, dest, copyID string) copyjob.PollMessage {
	now := s.clock.Now()
	return copyjob.PollMessage{Version: copyjob.PollMessageVersion, Job: copyjob.NewJob(source, snapshot, dest), CopyID: copyID,
		Attempt: 1, StartedAt: now, Deadline: now.Add(time.Hour)}
}

func (s *stack) eventByID(id string) (event, bool) {
	for _, e := range s.events() {
		if e.ID == id {
			return e, true
		}
	}
	return event{}, false
}

// TestSecurityForgedPollsEndToEnd: polls forged as the issue describes
// them, through the real handler: S1 copied, S2 not yet. Each forged poll
// ends as Rejected under an id of its own; none publishes an outcome of
// S2's job; and the genuine copy of S2 later publishes its Completed,
// pointing at S2's bytes.
func TestSecurityForgedPollsEndToEnd(t *testing.T) {
	s := newStack(t, nil)
	src := s.disk("vm.vhd")
	s1 := s.writeAndSnapshot(src, 0, 1)
	s.sendSnapshot("e1", src, s1)
	s.run()
	first, ok := s.eventByID(copyjob.NewJob(src.URL(), s1, s.blobURL+"/backups/vm.vhd").Key + "/Completed")
	if !ok {
		t.Fatalf("S1 not completed: %+v", s.events())
	}
	s1CopyID, _ := first.Data["copyId"].(string)
	s2 := s.writeAndSnapshot(src, 4096, 2)
	dest := s.blobURL + "/backups/vm.vhd"
	s2Job := copyjob.NewJob(src.URL(), s2, dest)

	forged := map[string]copyjob.PollMessage{
		"S2, S1's copy id, a made-up source": s.forgedPoll(s.blobURL+"/disks/made-up.vhd", s2, dest, s1CopyID),
		"S2, S1's copy id, the real source":  s.forgedPoll(src.URL(), s2, dest, s1CopyID),
		"S2, a made-up copy id":              s.forgedPoll(src.URL(), s2, dest, "00000000-0000-0000-0000-000000000000"),
		"S1, its copy id, a made-up source":  s.forgedPoll(s.blobURL+"/disks/made-up.vhd", s1, dest, s1CopyID),
	}
	i := 0
	for _, m := range forged {
		i++
		s.sendPoll(fmt.Sprintf("forged-%d", i), m)
	}
	s.run()
	var rejected int
	for _, e := range s.events() {
		if strings.HasPrefix(e.ID, s2Job.Key) {
			t.Fatalf("a forged poll published %s: %v", e.ID, e.Data)
		}
		if e.Type == "Snapcopy.IncrementalCopy.Rejected" {
			rejected++
			if e.Data["failureCode"] != string(copyjob.InputUnproven) || !strings.HasPrefix(e.ID, "msg-") {
				t.Errorf("rejected %s: %v", e.ID, e.Data)
			}
		}
		if e.Type == "Snapcopy.IncrementalCopy.Completed" && e.Data["sourceBlobUrl"] != src.URL() {
			t.Errorf("Completed %s names a made-up source: %v", e.ID, e.Data)
		}
	}
	if rejected != len(forged) {
		t.Fatalf("%d Rejected events for %d forged polls: %+v", rejected, len(forged), s.events())
	}

	s.sendSnapshot("e2", src, s2)
	s.run()
	genuine, ok := s.eventByID(s2Job.Key + "/Completed")
	if !ok {
		t.Fatalf("the genuine copy of S2 published no Completed: %+v", s.events())
	}
	dst, _ := genuine.Data["destinationSnapshot"].(string)
	if !bytes.Equal(blobtest.Download(s.t, s.pageBlob("backups", "vm.vhd"), dst), blobtest.Download(s.t, src, s2)) {
		t.Fatalf("S2's Completed names destination snapshot %s, whose bytes are not S2's", dst)
	}
	s.checkNoSecretsOrDeadLetters()
}

// TestSecurityForgedPollToForeignHostEndToEnd: a poll naming a
// destination on a foreign host, past its deadline, with abort on timeout
// configured: nothing reaches the host (no HEAD with a Shared Key, no
// abort), and the poll is Rejected NotAllowed.
func TestSecurityForgedPollToForeignHostEndToEnd(t *testing.T) {
	s := newStack(t, map[string]string{config.SettingAbortOnTimeout: "true"})
	src := s.disk("vm.vhd")
	snap := s.writeAndSnapshot(src, 0, 1)
	_, foreign := newSpy(t, "copy-forged", src.URL()+"?snapshot="+snap)
	m := s.forgedPoll(src.URL(), snap, foreign+"/devstoreaccount1/backups/vm.vhd", "copy-forged")
	m.StartedAt, m.Deadline = m.StartedAt.Add(-2*time.Hour), m.StartedAt.Add(-time.Hour)
	s.sendPoll("forged-foreign", m)
	s.run()
	events := s.events()
	if len(events) != 1 || events[0].Data["failureCode"] != string(copyjob.InputNotAllowed) {
		t.Fatalf("events %+v, want one Rejected NotAllowed", events)
	}
	s.checkNoSecretsOrDeadLetters()
}

// TestSecurityTriggerToForeignHostEndToEnd: without allow-lists, a valid
// trigger whose destination is on a foreign host sends nothing there (no
// Shared Key, no x-ms-copy-source with a minted SAS of the source).
func TestSecurityTriggerToForeignHostEndToEnd(t *testing.T) {
	s := newStack(t, nil)
	src := s.disk("vm.vhd")
	snap := s.writeAndSnapshot(src, 0, 1)
	_, foreign := newSpy(t, "", "")
	s.send("e1", fmt.Sprintf(`{"sourceBlobUrl":%q,"snapshot":%q,"destinationBlobUrl":%q}`, src.URL(), snap, foreign+"/devstoreaccount1/backups/vm.vhd"))
	s.run()
	events := s.events()
	if len(events) != 1 || events[0].Data["failureCode"] != string(copyjob.InputNotAllowed) {
		t.Fatalf("events %+v, want one Rejected NotAllowed", events)
	}
	s.checkNoSecretsOrDeadLetters()
}
