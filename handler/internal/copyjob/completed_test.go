package copyjob

import (
	"errors"
	"strings"
	"testing"
)

const completedType = "Snapcopy.IncrementalCopy.Completed"

func TestParseCompleted(t *testing.T) {
	rules := Rules{MaxBytes: 4096, AllowedDestinations: []string{"https://dst.blob.core.windows.net/backups"}}
	event := func(typ, data string) string {
		return `{"specversion":"1.0","id":"k/Completed","source":"/snapcopy","type":"` + typ + `","data":` + data + `}`
	}
	good := `{"destinationBlobUrl":"https://dst.blob.core.windows.net/backups/vm1.vhd","destinationSnapshot":"2026-11-24T10:00:05.1Z"}`
	got, err := ParseCompleted([]byte(event(completedType, good)), completedType, rules)
	if err != nil {
		t.Fatal(err)
	}
	if got.Destination.URL != "https://dst.blob.core.windows.net/backups/vm1.vhd" || got.DestinationSnapshot != "2026-11-24T10:00:05.1000000Z" || got.ID != "k/Completed" {
		t.Fatalf("parsed %+v", got)
	}

	cases := []struct {
		name, body string
		code       InputCode // "" means ErrNotCompleted
	}{
		{"another outcome", event("Snapcopy.IncrementalCopy.Rejected", good), ""},
		{"another prefix", event("Contoso.IncrementalCopy.Completed", good), ""},
		{"not JSON", "Completed!", InputMalformed},
		{"data alone", good, InputMalformed},
		{"too large", event(completedType, good) + strings.Repeat(" ", 4096), InputTooLarge},
		{"no data", `{"specversion":"1.0","type":"` + completedType + `"}`, InputMalformed},
		{"wrong types", event(completedType, `{"destinationBlobUrl":1}`), InputInvalidField},
		{"no snapshot", event(completedType, `{"destinationBlobUrl":"https://dst.blob.core.windows.net/backups/vm1.vhd"}`), InputMissingField},
		{"bad snapshot", event(completedType, `{"destinationBlobUrl":"https://dst.blob.core.windows.net/backups/vm1.vhd","destinationSnapshot":"yesterday"}`), InputInvalidField},
		{"not a blob URL", event(completedType, `{"destinationBlobUrl":"ftp://dst/backups/vm1.vhd","destinationSnapshot":"2026-11-24T10:00:05.1Z"}`), InputInvalidField},
		{"SAS in the URL", event(completedType, `{"destinationBlobUrl":"https://dst.blob.core.windows.net/backups/vm1.vhd?sig=x","destinationSnapshot":"2026-11-24T10:00:05.1Z"}`), InputInvalidField},
		{"not a storage host", event(completedType, `{"destinationBlobUrl":"https://dst.example.com/backups/vm1.vhd","destinationSnapshot":"2026-11-24T10:00:05.1Z"}`), InputNotAllowed},
		{"outside the allow-list", event(completedType, `{"destinationBlobUrl":"https://dst.blob.core.windows.net/backups2/vm1.vhd","destinationSnapshot":"2026-11-24T10:00:05.1Z"}`), InputNotAllowed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseCompleted([]byte(c.body), completedType, rules)
			if c.code == "" {
				if !errors.Is(err, ErrNotCompleted) {
					t.Fatalf("err %v, want ErrNotCompleted", err)
				}
				return
			}
			ie, ok := AsInputError(err)
			if !ok || ie.Code != c.code {
				t.Fatalf("err %v, want %s", err, c.code)
			}
		})
	}
}
