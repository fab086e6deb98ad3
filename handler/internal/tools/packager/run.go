package packager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/snapcopy/snapcopy/handler/internal/tools/cli"
)

// Run is `handler package [-out dist]`: build the app folder and zip from
// the repository the command runs in.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("package", "[-out dist]", "Builds <out>/app (for func start) and <out>/snapcopy.zip (for deployment) from the repository it runs in.")
	out := fs.String("out", "dist", "output directory")
	if err := cli.ParseFlagsOnly(fs, args, stdout, stderr, "give the output directory with -out"); err != nil {
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
			return "", errors.New("no go.mod in the working directory or above it: run `handler package` inside the snapcopy repository (it builds the handler from source)")
		}
		dir = parent
	}
}
