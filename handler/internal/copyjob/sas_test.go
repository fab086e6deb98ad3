package copyjob

import "testing"

// TestSecuritySASValuesHoldNoDelimiters: a SAS value with a character no
// SAS has is refused, so that every accepted signature is one token the
// redactor removes whole; real SAS values still parse.
func TestSecuritySASValuesHoldNoDelimiters(t *testing.T) {
	for _, raw := range []string{
		"sr=b&sp=r&sig=abc def",
		"sr=b&sp=r&sig=abc%20def",
		"sr=b&sp=r&sig=abc\"def",
		"sr=b&sp=r&sig=abc'def",
		"sr=b&sp=r&sig=abc;def",
		"sr=b&sp=r&sig=abc%5Cdef",
		"sr=b&sp=r&sig=abc%0Adef",
		"sr=b&sp=r&sig=abc<def",
		"sr=b&sp=r&se=2026-01-01T00:00:00Z %3E&sig=abc",
	} {
		if _, err := ParseSAS(raw); err == nil {
			t.Errorf("ParseSAS(%q) accepted it", raw)
		}
	}
	for _, raw := range []string{
		"sv=2026-12-06&sr=b&sp=r&se=2026-11-30T00:00:00Z&sig=a+b/c=",
		"sv=2026-12-06&sr=b&sp=r&se=2026-11-30T00%3A00%3A00Z&sig=a%2Bb%2Fc%3D&skoid=3f2a-11",
	} {
		if _, err := ParseSAS(raw); err != nil {
			t.Errorf("ParseSAS(%q): %v", raw, err)
		}
	}
	ref, query, err := ParseBlobURL("https://a.blob.core.windows.net/c/b.vhd?sr=b&sp=r&sig=a+b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sasFromValues(query); err == nil {
		t.Errorf("%s: an unencoded + (a space in a query) was accepted in a signature", ref.URL)
	}
}
