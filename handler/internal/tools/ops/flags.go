package ops

import (
	"errors"
	"flag"
)

// parseInterspersed parses fs from args and returns the positional
// arguments, which may come before, between or after the flags: the README
// writes `handler status <url> -json`, where the standard flag package would
// stop at the URL.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, errors.Join(ErrUsage, err)
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
