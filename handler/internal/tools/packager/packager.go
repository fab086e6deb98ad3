// Package packager builds the deployable function app: host.json, one
// folder per function directly under the app root (the Functions host finds
// functions nowhere else), and a static linux/amd64 handler binary whose
// executable bit survives in the zip (a Windows-built zip loses it and the
// app fails to start).
package packager

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"
)

// BinaryName is host.json's defaultExecutablePath.
const BinaryName = "handler"

// Builder compiles the handler binary to out.
type Builder func(ctx context.Context, root, out string) error

// Options configure Build.
type Options struct {
	// Root is the repository root (where go.mod is).
	Root string
	// OutDir receives app/ (the staged folder) and snapcopy.zip.
	OutDir string
	// Build compiles the binary; default GoBuild.
	Build Builder
}

// Result names what Build produced.
type Result struct {
	// AppDir is the staged app root, usable with `func start`.
	AppDir string
	// Zip is the deployable package.
	Zip string
	// Entries are the zip's entry names.
	Entries []string
}

// GoBuild builds a static CGO_ENABLED=0 linux/amd64 binary of ./handler:
// dynamically linked binaries fail on the Functions workers.
func GoBuild(ctx context.Context, root, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./handler")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, msg)
	}
	return nil
}

// Build stages the app and zips it.
func Build(ctx context.Context, opts Options) (Result, error) {
	if opts.Root == "" || opts.OutDir == "" {
		return Result{}, errors.New("packager: Root and OutDir are required")
	}
	if opts.Build == nil {
		opts.Build = GoBuild
	}
	app := filepath.Join(opts.OutDir, "app")
	if err := os.RemoveAll(app); err != nil {
		return Result{}, err
	}
	if err := os.MkdirAll(app, 0o755); err != nil {
		return Result{}, err
	}
	files, err := appFiles(opts.Root)
	if err != nil {
		return Result{}, err
	}
	for dst, src := range files {
		if err := copyFile(src, filepath.Join(app, dst), 0o644); err != nil {
			return Result{}, err
		}
	}
	binary := filepath.Join(app, BinaryName)
	if err := opts.Build(ctx, opts.Root, binary); err != nil {
		return Result{}, err
	}
	if err := os.Chmod(binary, 0o755); err != nil {
		return Result{}, err
	}
	zipPath := filepath.Join(opts.OutDir, "snapcopy.zip")
	entries, err := zipDir(app, zipPath)
	if err != nil {
		return Result{}, err
	}
	return Result{AppDir: app, Zip: zipPath, Entries: entries}, nil
}

// appFiles maps app-root paths to repository files: host.json and every
// function/<Name>/function.json moved to <Name>/function.json.
func appFiles(root string) (map[string]string, error) {
	files := map[string]string{"host.json": filepath.Join(root, "host.json")}
	matches, err := filepath.Glob(filepath.Join(root, "function", "*", "function.json"))
	if err != nil {
		return nil, err
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("packager: no function/<Name>/function.json under %s", root)
	}
	for _, m := range matches {
		name := filepath.Base(filepath.Dir(m))
		files[filepath.Join(name, "function.json")] = m
	}
	return files, nil
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// zipDir zips dir's files with forward-slash names and Unix modes, in a
// stable order with a fixed time so equal inputs give equal zips.
func zipDir(dir, zipPath string) ([]string, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	f, err := os.Create(zipPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	var names []string
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		h, err := zip.FileInfoHeader(info)
		if err != nil {
			return nil, err
		}
		h.Name = filepath.ToSlash(rel)
		h.Method = zip.Deflate
		h.Modified = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		// SetMode records Unix mode bits with a Unix creator, which is what
		// keeps the executable bit; fixed modes keep the zip independent
		// of the umask.
		h.SetMode(0o644)
		if h.Name == BinaryName {
			h.SetMode(0o755)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		in, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(w, in)
		in.Close()
		if err != nil {
			return nil, err
		}
		names = append(names, h.Name)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return names, f.Close()
}
