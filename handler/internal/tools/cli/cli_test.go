package cli

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name           string
		args           []string
		wantPositional []string
		wantErr        error
		wantStdout     string // part of stdout; empty: nothing printed there
		wantStderr     string // part of stderr; empty: nothing printed there
	}{
		{name: "flags and arguments in any order", args: []string{"a", "-json", "b", "-n", "3", "c"}, wantPositional: []string{"a", "b", "c"}},
		{name: "-h", args: []string{"x", "-h"}, wantErr: ErrHelp, wantStdout: "usage: handler demo <thing> [flags]\nDemonstrates.\n\nflags:\n  -json"},
		{name: "--help", args: []string{"--help"}, wantErr: ErrHelp, wantStdout: "  -n int"},
		{name: "unknown flag", args: []string{"-bogus"}, wantErr: ErrUsage, wantStderr: "handler demo: flag provided but not defined: -bogus\n\nusage: handler demo"},
		{name: "bad value", args: []string{"-n", "many"}, wantErr: ErrUsage, wantStderr: `invalid value "many" for flag -n`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := NewFlagSet("demo", "<thing> [flags]", "Demonstrates.")
			fs.Bool("json", false, "print JSON")
			fs.Int("n", 1, "how many")
			var out, errOut bytes.Buffer
			positional, err := Parse(fs, c.args, &out, &errOut)
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			if !slices.Equal(positional, c.wantPositional) {
				t.Errorf("positional %q, want %q", positional, c.wantPositional)
			}
			for _, w := range []struct{ got, want, name string }{{out.String(), c.wantStdout, "stdout"}, {errOut.String(), c.wantStderr, "stderr"}} {
				if (w.want == "") != (w.got == "") || !strings.Contains(w.got, w.want) {
					t.Errorf("%s:\n%s\nwant it to contain:\n%s", w.name, w.got, w.want)
				}
			}
		})
	}
}

func TestRefuseDoesNotRepeatASecret(t *testing.T) {
	fs := NewFlagSet("demo", "")
	var errOut bytes.Buffer
	err := ParseFlagsOnly(fs, []string{"https://a.blob.core.windows.net/c/b?sv=1&sig=SECRET"}, io.Discard, &errOut, "demo takes none")
	if !errors.Is(err, ErrUsage) || strings.Contains(errOut.String(), "SECRET") || !strings.Contains(errOut.String(), "demo takes none") {
		t.Fatalf("err %v, stderr:\n%s", err, errOut.String())
	}
	if errOut.String() != strings.TrimSpace(errOut.String())+"\n" || strings.Contains(errOut.String(), "flags:") {
		t.Errorf("a command without flags lists none:\n%s", errOut.String())
	}
}
