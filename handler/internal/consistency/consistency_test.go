package consistency

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/packager"
)

const root = "../../.."

func read(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// settingNames parses config/settings.go for every Setting* constant, so a
// new setting cannot be forgotten by this test.
func settingNames(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, "handler/internal/config/settings.go"), nil, 0)
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
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(n.Name, "Setting") {
					v, _ := strconv.Unquote(lit.Value)
					names[v] = n.Name
				}
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("found only %d settings in settings.go", len(names))
	}
	return names
}

func TestFunctionBindingsUseDeclaredSettings(t *testing.T) {
	settings := settingNames(t)
	percent := regexp.MustCompile(`^%([A-Za-z0-9_]+)%$`)
	want := map[string]string{"SnapshotCreated": config.SettingTriggerQueue, "CopyPoll": config.SettingPollQueue}
	for fn, setting := range want {
		var doc struct {
			Bindings []map[string]any `json:"bindings"`
		}
		if err := json.Unmarshal(read(t, "function/"+fn+"/function.json"), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Bindings) != 1 {
			t.Fatalf("%s: %d bindings", fn, len(doc.Bindings))
		}
		b := doc.Bindings[0]
		if b["type"] != "serviceBusTrigger" || b["name"] != "message" || b["direction"] != "in" {
			t.Errorf("%s: binding %v", fn, b)
		}
		m := percent.FindStringSubmatch(b["queueName"].(string))
		if m == nil || m[1] != setting {
			t.Errorf("%s: queueName %v, want %%%s%%", fn, b["queueName"], setting)
		}
		if _, ok := settings[b["connection"].(string)]; !ok || b["connection"] != config.SettingServiceBusConnection {
			t.Errorf("%s: connection %v is not %s", fn, b["connection"], config.SettingServiceBusConnection)
		}
	}
}

func TestHostJSONRunsThePackagedBinary(t *testing.T) {
	var host struct {
		CustomHandler struct {
			Description struct {
				DefaultExecutablePath string `json:"defaultExecutablePath"`
			} `json:"description"`
		} `json:"customHandler"`
		ExtensionBundle struct {
			Version string `json:"version"`
		} `json:"extensionBundle"`
	}
	if err := json.Unmarshal(read(t, "host.json"), &host); err != nil {
		t.Fatal(err)
	}
	if host.CustomHandler.Description.DefaultExecutablePath != packager.BinaryName {
		t.Errorf("defaultExecutablePath %q, packager builds %q", host.CustomHandler.Description.DefaultExecutablePath, packager.BinaryName)
	}
	if host.ExtensionBundle.Version != "[4.*, 5.0.0)" {
		t.Errorf("extension bundle %q", host.ExtensionBundle.Version)
	}
}

func TestLocalSettingsListEverySetting(t *testing.T) {
	var doc struct {
		Values map[string]string `json:"Values"`
	}
	if err := json.Unmarshal(read(t, "local.settings.json.example"), &doc); err != nil {
		t.Fatal(err)
	}
	settings := settingNames(t)
	var missing []string
	for name := range settings {
		if _, ok := doc.Values[name]; !ok && name != config.SettingPort { // the host sets the port
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("local.settings.json.example lacks %v", missing)
	}
	for name := range doc.Values {
		if strings.HasPrefix(name, "SNAPCOPY_") {
			if _, ok := settings[name]; !ok {
				t.Errorf("local.settings.json.example has %s, which the code never reads", name)
			}
		}
	}
	d := config.Defaults()
	for setting, want := range map[string]string{config.SettingTriggerQueue: d.TriggerQueue, config.SettingPollQueue: d.PollQueue, config.SettingEventsTopic: d.EventsTopic} {
		if doc.Values[setting] != want {
			t.Errorf("local.settings.json.example %s=%q, config default %q", setting, doc.Values[setting], want)
		}
	}
}

// TestInfraMatchesTheCode checks the Bicep app settings and entity names.
func TestInfraMatchesTheCode(t *testing.T) {
	var bicep strings.Builder
	files, _ := filepath.Glob(filepath.Join(root, "infra", "*.bicep"))
	more, _ := filepath.Glob(filepath.Join(root, "infra", "modules", "*.bicep"))
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		bicep.Write(b)
	}
	if bicep.Len() == 0 {
		t.Skip("no infra/*.bicep yet")
	}
	text := bicep.String()
	settings := settingNames(t)
	// App settings in Bicep appear as name: 'X' entries.
	for _, m := range regexp.MustCompile(`name:\s*'((?:SNAPCOPY_|ServiceBusConnection)[A-Za-z0-9_]*)'`).FindAllStringSubmatch(text, -1) {
		name := m[1]
		if _, ok := settings[name]; !ok && !strings.HasPrefix(name, config.SettingServiceBusConnection+"__") {
			t.Errorf("infra sets %s, which the code never reads", name)
		}
	}
	for _, name := range []string{config.SettingServiceBusNamespace, config.SettingDestinationContainerURL, config.SettingClientID} {
		if !strings.Contains(text, "'"+name+"'") {
			t.Errorf("infra does not set %s", name)
		}
	}
	d := config.Defaults()
	for _, entity := range []string{d.TriggerQueue, d.PollQueue, d.EventsTopic} {
		if !strings.Contains(text, "'"+entity+"'") {
			t.Errorf("infra does not create %q", entity)
		}
	}
}
