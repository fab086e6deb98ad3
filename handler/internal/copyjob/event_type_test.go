package copyjob

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAcceptsEventType(t *testing.T) {
	cases := []struct {
		name     string
		patterns []string
		accepted []string
		refused  []string
	}{
		{
			name: "default: last words snapshot created",
			accepted: []string{
				"SnapshotCreated", "Contoso.Backup.SnapshotCreated", "com.contoso.backup.snapshot.created",
				"com.contoso.backup.snapshotcreated", "contoso-backup-snapshot-created", "CONTOSO_BACKUP_SNAPSHOT_CREATED",
				"Contoso.Backup.VMSnapshotCreated", "com.contoso.v2SnapshotCreated", "snapshot..created", "Snapshot_Created",
			},
			refused: []string{
				"", "Snapcopy.Other", "Contoso.Backup.SnapshotDeleted", "com.contoso.backup.snapshot.created.v2",
				"com.contoso.backup.notsnapshotcreated", "Contoso.Backup.SnapshotCreatedLater", "created.snapshot",
				"com.contoso.snapshot", "Contoso.Backup.Snapshot Created",
			},
		},
		{
			name:     "exact names narrow the default",
			patterns: []string{"com.contoso.backup.snapshot.created"},
			accepted: []string{"com.contoso.backup.snapshot.created"},
			refused:  []string{"Contoso.Backup.SnapshotCreated", "com.contoso.backup.Snapshot.Created", "com.contoso.backup.snapshot.created.v2"},
		},
		{
			name:     "prefixes widen it",
			patterns: []string{"Contoso.Backup.*", "com.fabrikam.disk.snapshot.taken"},
			accepted: []string{"Contoso.Backup.SnapshotCreated", "Contoso.Backup.DiskSnapshotTaken", "Contoso.Backup.", "com.fabrikam.disk.snapshot.taken"},
			refused:  []string{"com.contoso.backup.snapshot.created", "contoso.backup.SnapshotCreated", "Contoso.BackupSnapshotCreated"},
		},
		{
			name:     "a lone star accepts any type",
			patterns: []string{"*"},
			accepted: []string{"Anything", "", "Contoso.Backup.SnapshotDeleted"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := CheckEventTypePatterns(c.patterns); err != nil {
				t.Fatalf("patterns %q: %v", c.patterns, err)
			}
			rules := Rules{EventTypes: c.patterns}
			for _, typ := range c.accepted {
				if !rules.AcceptsEventType(typ) {
					t.Errorf("%q refused, want accepted", typ)
				}
			}
			for _, typ := range c.refused {
				if rules.AcceptsEventType(typ) {
					t.Errorf("%q accepted, want refused", typ)
				}
			}
		})
	}
}

func TestCheckEventTypePatternsRefusesWhatCannotMatchAsMeant(t *testing.T) {
	for _, patterns := range [][]string{{""}, {"Contoso.*.SnapshotCreated"}, {"**"}, {"Contoso Backup"}, {"ok.*", "Contoso.\tBackup"}} {
		err := CheckEventTypePatterns(patterns)
		if !errors.Is(err, ErrEventTypePattern) {
			t.Errorf("%q: got %v, want ErrEventTypePattern", patterns, err)
		}
	}
}

func TestParseTriggerRejectionSaysWhatIsAccepted(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	body := func(typ string) []byte {
		return []byte(`{"specversion":"1.0","type":"` + typ + `","id":"e1","data":{"sourceBlobUrl":"https://src.blob.core.windows.net/disks/vm1.vhd",` +
			`"snapshot":"2026-11-24T10:00:00.1234567Z","destinationBlobUrl":"https://dst.blob.core.windows.net/backups/vm1.vhd"}}`)
	}
	cases := []struct {
		name     string
		patterns []string
		typ      string
		// wantReason lists words of the reason; empty means accepted.
		wantReason []string
	}{
		{"default accepts the CloudEvents convention", nil, "com.contoso.backup.snapshot.created", nil},
		{"default accepts PascalCase", nil, "Contoso.Backup.SnapshotCreated", nil},
		{"default refuses", nil, "Contoso.Backup.SnapshotDeleted", []string{`"Contoso.Backup.SnapshotDeleted"`, `"snapshot created"`, "com.contoso.backup.snapshot.created"}},
		{"setting accepts", []string{"Contoso.*"}, "Contoso.Backup.DiskSnapshotTaken", nil},
		{"setting refuses", []string{"Contoso.*", "com.contoso.backup.snapshot.created"}, "Contoso-Backup-SnapshotCreated",
			[]string{`"Contoso-Backup-SnapshotCreated"`, "configured types Contoso.*, com.contoso.backup.snapshot.created"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseTrigger(body(c.typ), Rules{EventTypes: c.patterns}, now)
			if len(c.wantReason) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			ie, ok := AsInputError(err)
			if !ok || ie.Code != InputUnknownEventType {
				t.Fatalf("got %v, want %s", err, InputUnknownEventType)
			}
			for _, w := range c.wantReason {
				if !strings.Contains(ie.Reason, w) {
					t.Errorf("reason %q does not say %q", ie.Reason, w)
				}
			}
		})
	}
}
