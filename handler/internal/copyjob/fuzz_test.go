package copyjob

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParseTrigger feeds arbitrary message bodies to the validator.
// Properties: it never panics; a rejected body is always an *InputError;
// an accepted one obeys the rules (size, allow-lists, SAS policy, snapshot
// not in the future) and its Job, which poll messages, events and logs
// carry, never contains a SAS signature ("sig=").
//
//	go test -run '^$' -fuzz FuzzParseTrigger -fuzztime 60s ./handler/internal/copyjob/
func FuzzParseTrigger(f *testing.F) {
	seeds := []string{
		`{"specversion":"1.0","type":"Contoso.Backup.SnapshotCreated","id":"e1","data":{"sourceBlobUrl":"https://src.blob.core.windows.net/disks/vm1.vhd","snapshot":"2026-11-24T10:00:00.1234567Z"}}`,
		`{"sourceBlobUrl":"https://src.blob.core.windows.net/disks/vm1.vhd","snapshot":"2026-11-24T10:00:00Z","destinationBlobUrl":"https://dst.blob.core.windows.net/backups/vm1.vhd"}`,
		`{"snapshotUrl":"https://src.blob.core.windows.net/disks/vm1.vhd?snapshot=2026-11-24T10:00:00.1234567Z&sv=2025-01-05&sr=b&sp=r&se=2027-01-01T00:00:00Z&sig=c2VjcmV0"}`,
		`{"sourceBlobUrl":"https://src.blob.core.windows.net/disks/vm1.vhd","snapshot":"2026-11-24T10:00:00.1234567Z","sourceSas":"?sv=2025-01-05&sr=b&sp=r&sig=a%2Bb%2F%3D"}`,
		`{"sourceBlobUrl":"https://src.blob.core.windows.net/disks/vm1.vhd","snapshot":"2026-11-24T10:00:00.1234567Z","sourceSas":"sv=2025-01-05&sr=bs&sp=r&sig=x"}`,
		`{"sourceBlobUrl":"http://127.0.0.1:10000/devstoreaccount1/disks/vm1.vhd","snapshot":"2026-11-24T10:00:00.1234567Z"}`,
		`{"sourceBlobUrl":"https://src.blob.core.windows.net/disks/a%20b/c.vhd","snapshot":"2026-11-24T10:00:00.1234567Z"}`,
		`{"sourceBlobUrl":"https://src.blob.core.windows.net/disks/vm1.vhd%3Fsig=x","snapshot":"2026-11-24T10:00:00.1234567Z"}`,
		`{"specversion":"1.0","type":"Contoso.Backup.SnapshotDeleted","data":{}}`,
		`{"specversion":"0.3","type":"SnapshotCreated","data":{"sourceBlobUrl":"x"}}`,
		`{"specversion":"1.0","type":"SnapshotCreated","data":"{\"sourceBlobUrl\":\"x\"}"}`,
		`{"sourceBlobUrl":42,"snapshot":true}`,
		`{"sourceBlobUrl":"ftp://x/y/z","snapshot":"yesterday"}`,
		`{"sourceBlobUrl":"https://src.blob.core.windows.net/disks","snapshot":"2026-11-24T10:00:00Z"}`,
		`{"sourceBlobUrl":"https://src.blob.core.windows.net/disks/vm1.vhd","snapshot":"2030-01-01T00:00:00Z"}`,
		`{"sourceBlobUrl":"https://src.blob.core.windows.net/disks/vm1.vhd","snapshot":"2026-11-24T10:00:00.1234567Z","destinationBlobUrl":"https://dst.blob.core.windows.net/backups/vm1.vhd?sig=x"}`,
		`{"sourceBlobUrl":"https://src.blob.core.windows.net/other/vm1.vhd","snapshot":"2026-11-24T10:00:00.1234567Z"}`,
		`{"sourceBlobUrl":"https://src.blob.core.windows.net/disks/vm1.vhd","snapshot":"2026-11-24T10:00:00.1234567Z","sourceSas":"sv=1&\u0073ig=x&sr=b&sp=r"}`,
		`[]`, `"x"`, ``, `{`, `null`, ` {"a":1} `,
	}
	for _, s := range seeds {
		f.Add([]byte(s), true, true)
		f.Add([]byte(s), false, false)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte, allowSAS, allowLists bool) {
		rules := Rules{
			MaxBytes:                4096,
			DestinationContainerURL: "https://dst.blob.core.windows.net/backups",
			AllowMessageSAS:         allowSAS,
		}
		if allowLists {
			rules.AllowedSources = []string{"https://src.blob.core.windows.net/disks", "http://127.0.0.1:10000/devstoreaccount1"}
			rules.AllowedDestinations = []string{"https://dst.blob.core.windows.net/backups", "http://127.0.0.1:10000/devstoreaccount1/backups"}
		}
		trig, err := ParseTrigger(body, rules, now)
		if err != nil {
			ie, ok := err.(*InputError)
			if !ok {
				t.Fatalf("error %T %v is not an *InputError", err, err)
			}
			if ie.Code == "" || ie.Reason == "" {
				t.Fatalf("InputError without code or reason: %#v", ie)
			}
			if len(body) > rules.MaxBytes && ie.Code != InputTooLarge {
				t.Fatalf("%d-byte body rejected as %s, want %s", len(body), ie.Code, InputTooLarge)
			}
			return
		}
		if len(body) > rules.MaxBytes {
			t.Fatalf("%d-byte body accepted; limit %d", len(body), rules.MaxBytes)
		}
		job := trig.Job()
		raw, _ := json.Marshal(job)
		inPath := false
		for _, u := range []string{job.SourceBlobURL, job.DestinationBlobURL} {
			p, err := url.Parse(u)
			if err != nil || p.RawQuery != "" || p.Fragment != "" || p.User != nil {
				t.Fatalf("Job URL %q must parse and carry no query, fragment or user info (%v)", u, err)
			}
			inPath = inPath || strings.Contains(strings.ToLower(p.Path), "sig=")
		}
		if strings.Contains(strings.ToLower(string(raw)), "sig=") {
			if inPath && !strings.Contains(strings.ToLower(job.Key+job.Snapshot), "sig=") {
				// The URL's query is dropped, but an escaped "?" (%3F) makes
				// "…?sv=…&sig=…" part of the blob name, and the default
				// destination repeats it.
				t.Fatalf("a source URL whose path carries an escaped query with sig= is accepted; the signature becomes part of the blob name and of Job(): %s", raw)
			}
			t.Fatalf("accepted trigger's Job carries sig=: %s", raw)
		}
		if job.Key != JobKey(job.DestinationBlobURL, job.Snapshot) {
			t.Fatalf("Job key %s is not JobKey(%s, %s)", job.Key, job.DestinationBlobURL, job.Snapshot)
		}
		if s, err := ParseSnapshot(job.Snapshot); err != nil || !s.Equal(trig.Snapshot) || FormatSnapshot(s) != job.Snapshot {
			t.Fatalf("Job snapshot %q does not round-trip (%v)", job.Snapshot, err)
		}
		if trig.Snapshot.After(now.Add(time.Hour)) {
			t.Fatalf("snapshot %s in the future accepted", job.Snapshot)
		}
		if !trig.SAS.IsZero() {
			if !allowSAS {
				t.Fatalf("message SAS accepted although not allowed")
			}
			if err := trig.SAS.CheckForIncrementalCopy(now); err != nil {
				t.Fatalf("accepted SAS fails its own check: %v", err)
			}
		}
		if trig.Destination.URL == trig.Source.URL {
			t.Fatalf("destination is the source: %s", trig.Source.URL)
		}
		if allowLists && (!allowed(trig.Source, rules.AllowedSources) || !allowed(trig.Destination, rules.AllowedDestinations)) {
			t.Fatalf("accepted a source or destination outside the allow-lists: %s -> %s", trig.Source.URL, trig.Destination.URL)
		}
	})
}
