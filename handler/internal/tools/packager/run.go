package packager

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Run is `handler package [-out dist]`: build the app folder and zip from
// the repository the command runs in.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("package", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "dist", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	res, err := Build(ctx, Options{Root: root, OutDir: *out})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "app folder  %s (for func start)\npackage     %s\n", res.AppDir, res.Zip)
	for _, e := range res.Entries {
		fmt.Fprintf(stdout, "  %s\n", e)
	}
	return nil
}

// moduleRoot walks up from the working directory to go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("packager: run it inside the snapcopy repository (no go.mod found)")
		}
		dir = parent
	}
}
