package packager

import (
	"archive/zip"
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// creatorUnix is the zip "version made by" host for Unix.
const creatorUnix = 3

func fakeBuild(_ context.Context, _, out string) error {
	return os.WriteFile(out, []byte("\x7fELF fake"), 0o600)
}

// TestZipHoldsExactlyTheAppWithExecBit checks the zip's entries and modes:
// the host finds functions only in folders at the app root, and the binary
// must keep its executable bit.
func TestZipHoldsExactlyTheAppWithExecBit(t *testing.T) {
	res, err := Build(context.Background(), Options{Root: repoRoot(t), OutDir: t.TempDir(), Build: fakeBuild})
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(res.Zip)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	modes := map[string]os.FileMode{}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		modes[f.Name] = f.Mode()
		// Unzip tools (and the Functions platform) honour the mode bits
		// only when the creator is Unix.
		if f.CreatorVersion>>8 != creatorUnix {
			t.Errorf("%s: creator %d, want Unix (%d)", f.Name, f.CreatorVersion>>8, creatorUnix)
		}
	}
	sort.Strings(names)
	want := []string{"CopyPoll/function.json", "Retention/function.json", "SnapshotCreated/function.json", "handler", "host.json"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("entries %v, want %v", names, want)
	}
	if modes["handler"] != 0o755 {
		t.Errorf("handler mode %v, want 0755", modes["handler"])
	}
	for _, n := range []string{"CopyPoll/function.json", "Retention/function.json", "SnapshotCreated/function.json", "host.json"} {
		if modes[n] != 0o644 {
			t.Errorf("%s mode %v, want -rw-r--r--", n, modes[n])
		}
	}
	if info, err := os.Stat(filepath.Join(res.AppDir, "handler")); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("staged binary: %v %v", info, err)
	}
}

func TestMissingFunctionsIsAnError(t *testing.T) {
	root := t.TempDir()
	_ = os.WriteFile(filepath.Join(root, "host.json"), []byte("{}"), 0o644)
	if _, err := Build(context.Background(), Options{Root: root, OutDir: t.TempDir(), Build: fakeBuild}); err == nil {
		t.Fatal("want an error without function folders")
	}
}

// TestRealBuildIsStaticLinuxAmd64 builds the real binary (tens of seconds
// on a cold cache) and checks it is a static linux/amd64 executable.
func TestRealBuildIsStaticLinuxAmd64(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the handler")
	}
	res, err := Build(context.Background(), Options{Root: repoRoot(t), OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(filepath.Join(res.AppDir, "handler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 || f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		t.Fatalf("machine %v osabi %v", f.Machine, f.OSABI)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("binary is dynamically linked (has an interpreter)")
		}
	}
}
