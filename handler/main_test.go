package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/snapcopy/snapcopy/handler/internal/config"
)

// runCLI runs the binary's entry point with args and returns what it
// printed and its exit code.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestHelpPrintsUsageOnStdoutAndSucceeds: help is not an error, whichever
// way it is asked for.
func TestHelpPrintsUsageOnStdoutAndSucceeds(t *testing.T) {
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range commands {
			if !yield(n) {
				return
			}
		}
	})
	for _, help := range [][]string{{"-h"}, {"--help"}, {"-help"}, {"help"}} {
		out, errOut, code := runCLI(t, help...)
		if code != exitOK || errOut != "" || !strings.HasPrefix(out, "usage: handler ") {
			t.Errorf("handler %s: exit %d\nstdout:\n%s\nstderr:\n%s", help[0], code, out, errOut)
		}
		for _, n := range names {
			if !strings.Contains(out, "  "+n+" ") {
				t.Errorf("handler %s does not list %s:\n%s", help[0], n, out)
			}
		}
	}
	for _, name := range names {
		for _, args := range [][]string{{name, "-h"}, {name, "--help"}, {name, "-help"}, {"help", name}} {
			out, errOut, code := runCLI(t, args...)
			if code != exitOK || errOut != "" || !strings.HasPrefix(out, "usage: handler "+name) {
				t.Errorf("handler %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
			}
		}
	}
}

// TestRefusedCommandLinesExitTwoWithUsageOnStderr covers each subcommand's
// command-line refusals: the problem, then the usage, on stderr; exit 2.
func TestRefusedCommandLinesExitTwoWithUsageOnStderr(t *testing.T) {
	const blob = "https://src.blob.core.windows.net/disks/vm1.vhd"
	cases := []struct {
		args    []string
		mention string
	}{
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"help", "bogus"}, `unknown command "bogus"`},
		{[]string{"serve", "now"}, `unexpected argument "now"`},
		{[]string{"serve", "-port", "7071"}, "flag provided but not defined: -port"},
		{[]string{"emulator", "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"emulator", "10000"}, "-addr"},
		{[]string{"emulator", "-copy-rate", "0"}, "-copy-rate 0"},
		{[]string{"busemu", "-addr"}, "flag needs an argument: -addr"},
		{[]string{"busemu", "5672"}, "-addr"},
		{[]string{"local", "-blobs", "0"}, "-blobs 0"},
		{[]string{"local", "-bus", "memory"}, "flag provided but not defined: -bus"},
		{[]string{"local", "-timeout", "soon"}, `invalid value "soon" for flag -timeout`},
		{[]string{"package", "dist"}, "-out"},
		{[]string{"send", "-connection", "Endpoint=sb://ns/;SharedAccessKeyName=k;SharedAccessKey=v", "-namespace", "ns.servicebus.windows.net", "-source", blob, "-snapshot", "2026-11-24T10:00:00.0000000Z"},
			"-connection or -namespace, not both"},
		{[]string{"send", "-source"}, "flag needs an argument: -source"},
		{[]string{"status"}, "give the destination blob URL"},
		{[]string{"status", blob, blob}, "one destination blob URL at a time"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, errOut, code := runCLI(t, c.args...)
			if code != exitUsage || out != "" {
				t.Errorf("exit %d, want %d; stdout:\n%s", code, exitUsage, out)
			}
			if !strings.Contains(errOut, c.mention) || !strings.Contains(errOut, "usage: handler") {
				t.Errorf("stderr does not say %q and show the usage:\n%s", c.mention, errOut)
			}
		})
	}
}

// TestFailuresSayWhatToDo covers failures after the command line was
// accepted: exit 1, one line naming what to set or change.
func TestFailuresSayWhatToDo(t *testing.T) {
	t.Setenv(config.SettingPort, "")
	t.Setenv(config.SettingServiceBusConnection, "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v")
	cases := []struct {
		args    []string
		mention []string
	}{
		{[]string{"serve"}, []string{config.SettingPort, "set it to a free port"}},
		{[]string{"emulator", "-addr", "0.0.0.0:10000"}, []string{"loopback", "-addr 127.0.0.1:"}},
		{[]string{"busemu", "-addr", "192.0.2.1:5672"}, []string{"loopback", "-addr 127.0.0.1:"}},
		{[]string{"status", "http://127.0.0.1:1/devstoreaccount1/backups/vm1.vhd"}, []string{"-connection", config.SettingStorageConnectionString}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			if c.args[0] == "status" {
				t.Setenv(config.SettingStorageConnectionString, "")
			}
			_, errOut, code := runCLI(t, c.args...)
			if code != exitFailure || !strings.HasPrefix(errOut, "handler "+c.args[0]+": ") {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitFailure, errOut)
			}
			for _, m := range c.mention {
				if !strings.Contains(errOut, m) {
					t.Errorf("stderr does not say %q:\n%s", m, errOut)
				}
			}
		})
	}
}
