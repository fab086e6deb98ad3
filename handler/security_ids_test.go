package main

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/snapcopy/snapcopy/handler/internal/blobtest"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// outsiderGuesses bounds how many poll attempts or deferrals ahead an
// outsider takes ids in these tests.
const outsiderGuesses = 3

// outsiderDeferIDs are the deferral ids of job an outsider can compute:
// it knows the job and the trigger's data, but not the id the producer
// gave its CloudEvent and message. Each n is taken bare and under guessed
// ids, with the body the producer would have sent under each.
func outsiderDeferIDs(job copyjob.Job, data string) []string {
	var ids []string
	for n := 1; n <= outsiderGuesses; n++ {
		ids = append(ids, job.Key+"/defer/"+strconv.Itoa(n))
		for _, guess := range []string{"", "e1", "e2", "00000000-0000-0000-0000-000000000000"} {
			ids = append(ids, copyjob.DeferMessageID(job.Key, n, guess, cloudEvent(guess, triggerType, json.RawMessage(data))))
		}
	}
	return ids
}

// outsiderPollIDs are the poll ids of job an outsider can compute: it
// knows the job but not the copy id Storage returned when the copy
// started. Each n is taken bare and under guessed copy ids.
func outsiderPollIDs(job copyjob.Job) []string {
	var ids []string
	for n := 1; n <= outsiderGuesses; n++ {
		ids = append(ids, job.Key+"/poll/"+strconv.Itoa(n))
		for _, guess := range []string{"", "00000000-0000-0000-0000-000000000000"} {
			ids = append(ids, copyjob.PollMessageID(job.Key, guess, n))
		}
	}
	return ids
}

// TestSecurityPreemptedDeferralEndToEnd: another producer, allowed to send
// to the trigger queue, sends messages under every deferral id of S3's job
// it can compute before S3's trigger arrives. S1 is copied, S2 was never
// triggered, so S3's trigger copies S2 first and defers itself: the
// deferral must not be swallowed by duplicate detection, and S3's job
// ends Completed.
func TestSecurityPreemptedDeferralEndToEnd(t *testing.T) {
	s := newStack(t, nil)
	src := s.disk("vm.vhd")
	s.sendSnapshot("e1", src, s.writeAndSnapshot(src, 0, 1))
	s.run()
	s2 := s.writeAndSnapshot(src, 4096, 2)
	s3 := s.writeAndSnapshot(src, 8192, 3)
	dest := s.blobURL + "/backups/vm.vhd"
	s3Job := copyjob.NewJob(src.URL(), s3, dest)

	forged := outsiderDeferIDs(s3Job, snapshotData(src, s3))
	for _, id := range forged {
		s.send(id, `{}`)
	}
	s.sendSnapshot("e3", src, s3)
	s.run()

	for _, snap := range []string{s2, s3} {
		job := copyjob.NewJob(src.URL(), snap, dest)
		e, ok := s.eventByID(job.Key + "/Completed")
		if !ok {
			t.Fatalf("snapshot %s: no Completed after %d forged deferral ids; events: %v", snap, len(forged), s.eventIDs())
		}
		dst, _ := e.Data["destinationSnapshot"].(string)
		if !bytes.Equal(blobtest.Download(s.t, s.pageBlob("backups", "vm.vhd"), dst), blobtest.Download(s.t, src, snap)) {
			t.Errorf("snapshot %s: destination snapshot %s holds other bytes", snap, dst)
		}
	}
	s.checkForgedRejected(len(forged))
	s.checkNoSecretsOrDeadLetters()
}

// TestSecurityPreemptedPollEndToEnd: whoever can send to the poll queue
// (a namespace key holder) sends polls under every poll id of a job it can
// compute before the job's copy starts. The genuine polls must not be
// swallowed by duplicate detection: the job ends Completed.
func TestSecurityPreemptedPollEndToEnd(t *testing.T) {
	s := newStack(t, nil)
	src := s.disk("vm.vhd")
	snap := s.writeAndSnapshot(src, 0, 1)
	dest := s.blobURL + "/backups/vm.vhd"
	job := copyjob.NewJob(src.URL(), snap, dest)

	forged := outsiderPollIDs(job)
	for _, id := range forged {
		s.sendPoll(id, s.forgedPoll(src.URL(), snap, dest, "00000000-0000-0000-0000-000000000000"))
	}
	s.sendSnapshot("e1", src, snap)
	s.run()

	e, ok := s.eventByID(job.Key + "/Completed")
	if !ok {
		t.Fatalf("no Completed after %d forged poll ids; events: %v", len(forged), s.eventIDs())
	}
	dst, _ := e.Data["destinationSnapshot"].(string)
	if !bytes.Equal(blobtest.Download(s.t, s.pageBlob("backups", "vm.vhd"), dst), blobtest.Download(s.t, src, snap)) {
		t.Errorf("destination snapshot %s holds other bytes", dst)
	}
	s.checkForgedRejected(len(forged))
	s.checkNoSecretsOrDeadLetters()
}

// checkForgedRejected: each forged message ended as a Rejected event of
// its own, so none was lost or taken for a genuine one.
func (s *stack) checkForgedRejected(want int) {
	s.t.Helper()
	var rejected int
	for _, e := range s.events() {
		if e.Type == "Snapcopy.IncrementalCopy.Rejected" {
			rejected++
		}
	}
	if rejected != want {
		s.t.Errorf("%d Rejected events for %d forged messages; events: %v", rejected, want, s.eventIDs())
	}
}

func (s *stack) eventIDs() []string {
	var ids []string
	for _, e := range s.events() {
		ids = append(ids, e.ID)
	}
	return ids
}
