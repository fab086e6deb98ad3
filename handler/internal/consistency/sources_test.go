package consistency

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// root is the repository root, seen from this package's directory.
const root = "../../.."

func read(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// problems collects every disagreement so one run names them all.
type problems struct {
	t    *testing.T
	list []string
}

func (p *problems) addf(format string, args ...any) {
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *problems) report() {
	p.t.Helper()
	if len(p.list) > 0 {
		p.t.Errorf("%d disagreement(s):\n  %s", len(p.list), strings.Join(p.list, "\n  "))
	}
}

const settingsFile = "handler/internal/config/settings.go"

// declaredSettings parses config/settings.go for every Setting* constant
// (value → constant name), so a new setting cannot escape this test.
func declaredSettings(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, settingsFile), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING || !strings.HasPrefix(n.Name, "Setting") {
					continue
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				names[v] = n.Name
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("found only %d Setting* constants in %s", len(names), settingsFile)
	}
	return names
}

// bicepFile is one template, read with the few patterns our templates use:
// top-level var/param declarations and resource blocks with one property
// per line.
type bicepFile struct {
	path, text string
}

func loadBicep(t *testing.T) []bicepFile {
	t.Helper()
	var files []bicepFile
	for _, pattern := range []string{"infra/*.bicep", "infra/modules/*.bicep"} {
		matches, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range matches {
			rel, _ := filepath.Rel(root, m)
			files = append(files, bicepFile{path: filepath.ToSlash(rel), text: string(read(t, rel))})
		}
	}
	if len(files) == 0 {
		t.Fatal("no infra/*.bicep templates")
	}
	return files
}

var (
	bicepVar      = regexp.MustCompile(`(?m)^var (\w+) = '([^'$]*)'\s*$`)
	bicepParam    = regexp.MustCompile(`(?m)^param (\w+) \w+(?:\[\])?(?: = (.+?))?\s*$`)
	bicepResource = regexp.MustCompile(`(?m)^resource (\w+) '([^'@]+)@[^']+'( existing)? = (?:if \(([^)]*)\) )?\{`)
	bicepModule   = regexp.MustCompile(`(?m)^module (\w+) '([^']+)' = (?:\[\s*for [^\n]*: )?(?:if \(([^)]*)\) )?\{`)
	bicepProperty = regexp.MustCompile(`(?m)^\s*(\w+): (.+?)\s*$`)
)

// vars returns the template's string-literal variables.
func (b bicepFile) vars() map[string]string {
	out := map[string]string{}
	for _, m := range bicepVar.FindAllStringSubmatch(b.text, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// paramDefaults returns each parameter's default expression ("" if none).
func (b bicepFile) paramDefaults() map[string]string {
	out := map[string]string{}
	for _, m := range bicepParam.FindAllStringSubmatch(b.text, -1) {
		out[m[1]] = m[2]
	}
	return out
}

type bicepResourceBlock struct {
	symbol, typ, body string
	existing          bool   // declared `existing`: referenced, never written
	condition         string // the `if (...)` expression, "" if unconditional
}

// resources returns the non-loop resource blocks of the template.
func (b bicepFile) resources() []bicepResourceBlock {
	var out []bicepResourceBlock
	for _, loc := range bicepResource.FindAllStringSubmatchIndex(b.text, -1) {
		open := loc[1] - 1
		r := bicepResourceBlock{
			symbol:   b.text[loc[2]:loc[3]],
			typ:      b.text[loc[4]:loc[5]],
			body:     braceBlock(b.text, open),
			existing: loc[6] >= 0,
		}
		if loc[8] >= 0 {
			r.condition = b.text[loc[8]:loc[9]]
		}
		out = append(out, r)
	}
	return out
}

// bicepModuleBlock is one module declaration (looped or not).
type bicepModuleBlock struct {
	symbol, path, body string
}

func (b bicepFile) modules() []bicepModuleBlock {
	var out []bicepModuleBlock
	for _, loc := range bicepModule.FindAllStringSubmatchIndex(b.text, -1) {
		out = append(out, bicepModuleBlock{symbol: b.text[loc[2]:loc[3]], path: b.text[loc[4]:loc[5]], body: braceBlock(b.text, loc[1]-1)})
	}
	return out
}

// braceBlock returns text[open:] up to the brace that closes text[open].
// Interpolations ('${x}') are balanced, so plain counting is enough.
func braceBlock(text string, open int) string {
	depth := 0
	for i := open; i < len(text); i++ {
		switch text[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return text[open : i+1]
			}
		}
	}
	return text[open:]
}

// topLevelProperties returns the "key: value" lines directly inside block
// (a {...} string), skipping nested objects.
func topLevelProperties(block string) map[string]string {
	out := map[string]string{}
	depth := 0
	for _, line := range strings.Split(block, "\n") {
		if depth == 1 {
			if m := bicepProperty.FindStringSubmatch(line); m != nil {
				out[m[1]] = m[2]
			}
		}
		depth += strings.Count(line, "{") - strings.Count(line, "}")
	}
	return out
}

// nestedBlock returns the {...} value of key inside block.
func nestedBlock(block, key string) (string, bool) {
	i := strings.Index(block, key+": {")
	if i < 0 {
		return "", false
	}
	return braceBlock(block, i+len(key)+2), true
}

// isoDuration parses the ISO 8601 durations Service Bus uses (P14D, PT1H,
// PT5M, P1DT2H30M10S).
func isoDuration(s string) (time.Duration, error) {
	m := regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`).FindStringSubmatch(s)
	if m == nil || s == "P" || s == "PT" {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration like PT1H", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if m[i+1] != "" {
			n, _ := strconv.Atoi(m[i+1])
			d += time.Duration(n) * unit
		}
	}
	return d, nil
}

// unquote turns a Bicep string literal ('x') into x.
func unquote(expr string) (string, bool) {
	if len(expr) >= 2 && expr[0] == '\'' && expr[len(expr)-1] == '\'' && !strings.Contains(expr, "${") {
		return expr[1 : len(expr)-1], true
	}
	return "", false
}
