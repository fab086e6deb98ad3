// Package cli holds the command-line conventions every subcommand of the
// handler binary follows, so they behave alike:
//
//   - -h, -help or --help prints the command's usage on stdout and succeeds
//     (ErrHelp; the binary exits 0);
//   - a command line the command cannot run (an unknown flag, a bad value,
//     a missing or extra argument, flags that exclude each other) prints
//     the problem and the usage on stderr and fails with ErrUsage (exit 2);
//   - anything that fails later is an ordinary error (exit 1) whose text
//     says what to set or do.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/snapcopy/snapcopy/handler/internal/redact"
)

var (
	// ErrHelp: the usage was asked for and printed on stdout.
	ErrHelp = flag.ErrHelp
	// ErrUsage: the command line was refused and explained on stderr.
	ErrUsage = errors.New("usage")
)

// NewFlagSet returns the flag set of `handler <name>`. Its usage reads
// "usage: handler <name> <synopsis>", then each note on a line of its own
// (where credentials and defaults come from), then the flags.
func NewFlagSet(name, synopsis string, notes ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, strings.TrimSpace("usage: handler "+name+" "+synopsis))
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(w, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// Parse parses args with fs and returns the positional arguments, which
// may come before, between or after the flags (the README writes
// `handler status <url> -json`, where the flag package alone would stop at
// the URL). Help goes to stdout (ErrHelp); a bad flag is refused with the
// usage on stderr (ErrUsage).
func Parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) ([]string, error) {
	// The flag package would print its own message and the usage to one
	// writer; they are printed here, each to where it belongs.
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		err := fs.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			fs.SetOutput(stdout)
			fs.Usage()
			return nil, ErrHelp
		case err != nil:
			return nil, Refuse(fs, stderr, err)
		case fs.NArg() == 0:
			fs.SetOutput(stderr)
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// Refuse prints problem and fs's usage on stderr and returns an error that
// wraps ErrUsage and problem (so callers and tests can still match it). A
// secret pasted into the command line is not repeated.
func Refuse(fs *flag.FlagSet, stderr io.Writer, problem error) error {
	fmt.Fprintf(stderr, "handler %s: %s\n\n", fs.Name(), redact.Text(problem.Error()))
	fs.SetOutput(stderr)
	fs.Usage()
	return fmt.Errorf("%w: %w", ErrUsage, problem)
}

// ParseFlagsOnly is Parse for a command that takes no positional
// arguments; why tells the user where the argument belongs instead.
func ParseFlagsOnly(fs *flag.FlagSet, args []string, stdout, stderr io.Writer, why string) error {
	positional, err := Parse(fs, args, stdout, stderr)
	if err != nil || len(positional) == 0 {
		return err
	}
	return Refuse(fs, stderr, fmt.Errorf("unexpected argument %q: %s", positional[0], why))
}
