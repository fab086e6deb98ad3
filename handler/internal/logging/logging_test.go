package logging

import (
	"bytes"
	"strings"
	"testing"
)

func TestLevelsAreRoutedAndSecretsScrubbed(t *testing.T) {
	var out, errOut bytes.Buffer
	log := New(&out, &errOut, "debug")
	log.Debug().Msg("debug line")
	log.Info().Str("url", "https://a/c/b?sp=r&sig=c2VjcmV0").Msg("info line")
	log.Warn().Msg("warn line")
	log.Error().Str("conn", "Endpoint=sb://x/;SharedAccessKey=c2VjcmV0").Msg("error line")

	for _, want := range []string{"debug line", "info line"} {
		if !strings.Contains(out.String(), want) || strings.Contains(errOut.String(), want) {
			t.Errorf("%q should go to stdout only", want)
		}
	}
	for _, want := range []string{"warn line", "error line"} {
		if !strings.Contains(errOut.String(), want) || strings.Contains(out.String(), want) {
			t.Errorf("%q should go to stderr only", want)
		}
	}
	if all := out.String() + errOut.String(); strings.Contains(all, "c2VjcmV0") {
		t.Fatalf("secret logged: %s", all)
	}
}

func TestLevelFilter(t *testing.T) {
	var out, errOut bytes.Buffer
	log := New(&out, &errOut, "warn")
	log.Info().Msg("hidden")
	if out.Len() != 0 {
		t.Fatalf("info logged at warn level: %s", out.String())
	}
}
