package consistency

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/snapcopy/snapcopy/handler/internal/config"
)

const typeRoleAssignment = "Microsoft.Authorization/roleAssignments"

// builtInRoles are the role definition ids (tenant-independent) of the
// built-in roles infra may assign, by the names the templates use.
var builtInRoles = map[string]string{
	"090c5cfd-751d-490a-894a-3ce6f1109419": "serviceBusDataOwner",
	"4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0": "serviceBusDataReceiver",
	"69a216fc-b8fb-44d8-bc22-1f3c2cd27a39": "serviceBusDataSender",
	"2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "storageBlobDataReader",
	"db58b8e5-c6ad-4a2a-8342-4190687cbf4a": "storageBlobDelegator",
	"ba92f5b4-2d11-453d-a403-e96b0029c9fe": "storageBlobDataContributor",
	"b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "storageBlobDataOwner",
	"0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "storageTableDataContributor",
	"3913510d-42f4-4e42-8a64-420c390055eb": "monitoringMetricsPublisher",
}

// assignment is one non-loop role assignment of a template.
type assignment struct {
	symbol, scope, role string // role: a builtInRoles name, or the unresolved expression
	condition           string // the resource's if (...) expression
	abac                string // the ABAC condition property, "" if none
}

var (
	roleRef      = regexp.MustCompile(`roleDefinitions', ([\w.]+)\)`)
	roleGUIDLine = regexp.MustCompile(`(?m)^\s*(\w+): '([0-9a-f-]{36})'\s*$`)
)

// assignments resolves each role assignment's role through the template's
// string vars and its `roles` object to a built-in role name.
func (b bicepFile) assignments() []assignment {
	ids := map[string]string{}
	for name, v := range b.vars() {
		ids[name] = v
	}
	if i := strings.Index(b.text, "\nvar roles = {"); i >= 0 {
		for _, m := range roleGUIDLine.FindAllStringSubmatch(braceBlock(b.text, i+len("\nvar roles = ")), -1) {
			ids["roles."+m[1]] = m[2]
		}
	}
	var out []assignment
	for _, r := range b.resources() {
		if r.typ != typeRoleAssignment {
			continue
		}
		props, _ := nestedBlock(r.body, "properties")
		a := assignment{symbol: r.symbol, scope: topLevelProperties(r.body)["scope"], condition: r.condition,
			abac: topLevelProperties(props)["condition"]}
		if m := roleRef.FindStringSubmatch(r.body); m != nil {
			a.role = m[1]
			if name, ok := builtInRoles[ids[m[1]]]; ok {
				a.role = name
			}
		}
		out = append(out, a)
	}
	return out
}

func bicepByPath(t *testing.T, rel string) bicepFile {
	t.Helper()
	for _, f := range loadBicep(t) {
		if f.path == rel {
			return f
		}
	}
	t.Fatalf("no template %s", rel)
	return bicepFile{}
}

// scopesOf lists the scopes a file assigns role to.
func scopesOf(f bicepFile, role string) []string {
	var out []string
	for _, a := range f.assignments() {
		if a.role == role {
			out = append(out, a.scope)
		}
	}
	slices.Sort(out)
	return out
}

// TestInfraServiceBusRolesScopedAsClaimed: Data Owner (Manage, for the
// Flex scaler) only on the two trigger queues, Receiver on the retention
// subscription, and every role a known built-in one.
func TestInfraServiceBusRolesScopedAsClaimed(t *testing.T) {
	app := loadInfraApp(t)
	resources := app.file.resources()
	p := &problems{t: t}
	queues := map[string]bool{}
	for _, setting := range []string{"SNAPCOPY_TRIGGER_QUEUE", "SNAPCOPY_POLL_QUEUE"} {
		if res, ok := findEntity(resources, "Microsoft.ServiceBus/namespaces/queues", app.settings[setting]); ok {
			queues[res.symbol] = true
		}
	}
	if len(queues) != 2 {
		t.Fatalf("found %d trigger queue resources, want 2", len(queues))
	}
	owners := scopesOf(app.file, "serviceBusDataOwner")
	for q := range queues {
		if !slices.Contains(owners, q) {
			p.addf("%s: no Azure Service Bus Data Owner on %s: Flex Consumption's scaler cannot read its message count", app.file.path, q)
		}
	}
	for _, scope := range owners {
		if !queues[scope] {
			p.addf("%s: Azure Service Bus Data Owner scoped to %s; it belongs on the two trigger queues only", app.file.path, scope)
		}
	}
	retention, ok := app.findNamed(resources, typeSubscription, config.DefaultRetentionSubscription)
	if !ok {
		p.addf("%s: no subscription %q", app.file.path, config.DefaultRetentionSubscription)
	} else if !slices.Contains(scopesOf(app.file, "serviceBusDataReceiver"), retention.symbol) {
		p.addf("%s: no Service Bus Data Receiver on %s: the Retention trigger cannot read it", app.file.path, retention.symbol)
	}
	known := map[string]bool{}
	for _, name := range builtInRoles {
		known[name] = true
	}
	for _, f := range loadBicep(t) {
		for _, a := range f.assignments() {
			if !known[a.role] {
				p.addf("%s: %s assigns %s, not a known built-in role id", f.path, a.symbol, a.role)
			}
		}
	}
	p.report()
}

// TestInfraStorageRolesScopedAsClaimed checks the storage roles infra and
// its README claim: blob owner and table contributor on host storage;
// Contributor (write, add, delete: copies and retention) on the
// destination container, which is only referenced unless asked to create
// it; Reader on each source container, Delegator on each source account,
// each assigned once however many sources share them; and a snapshot-only
// delete on sources only when pruneSource is set, which defaults to false.
func TestInfraStorageRolesScopedAsClaimed(t *testing.T) {
	app := loadInfraApp(t)
	p := &problems{t: t}
	for _, role := range []string{"storageBlobDataOwner", "storageTableDataContributor"} {
		if got := scopesOf(app.file, role); !slices.Equal(got, []string{"hostStorage"}) {
			p.addf("%s: %s scoped to %v, want [hostStorage]", app.file.path, role, got)
		}
	}
	if def := app.file.paramDefaults()["pruneSource"]; def != "false" {
		p.addf("%s: parameter pruneSource defaults to %q, want false (no delete right on sources unless asked)", app.file.path, def)
	}

	dest := bicepByPath(t, "infra/modules/destination-access.bicep")
	for _, r := range dest.resources() {
		if r.typ != "Microsoft.Storage/storageAccounts/blobServices/containers" {
			continue
		}
		if !r.existing && r.condition != "createContainer" {
			p.addf("%s: container %s is declared unconditionally; an existing container must only be referenced (existing)", dest.path, r.symbol)
		}
	}
	if got := scopesOf(dest, "storageBlobDataContributor"); !slices.Equal(got, []string{"container"}) || len(dest.assignments()) != 1 {
		p.addf("%s: assignments %+v, want only Storage Blob Data Contributor on the container", dest.path, dest.assignments())
	}

	src := bicepByPath(t, "infra/modules/source-access.bicep")
	want := map[string]assignment{
		"storageBlobDataReader":      {scope: "container", condition: "assignContainerRoles"},
		"storageBlobDelegator":       {scope: "account", condition: "assignAccountRole"},
		"storageBlobDataContributor": {scope: "container", condition: "assignContainerRoles && pruneSource"},
	}
	got := src.assignments()
	if len(got) != len(want) {
		p.addf("%s: %d role assignments, want %d (%v)", src.path, len(got), len(want), slices.Sorted(maps.Keys(want)))
	}
	for _, a := range got {
		w, ok := want[a.role]
		switch {
		case !ok:
			p.addf("%s: %s assigns %s, which the README does not claim", src.path, a.symbol, a.role)
		case a.scope != w.scope || a.condition != w.condition:
			p.addf("%s: %s (%s) scoped to %s if (%s), want %s if (%s)", src.path, a.symbol, a.role, a.scope, a.condition, w.scope, w.condition)
		case a.role == "storageBlobDataContributor" && !(strings.Contains(a.abac, "blobs/delete") && strings.Contains(a.abac, "Exists @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:snapshot]")):
			p.addf("%s: %s lacks the condition limiting delete to snapshots", src.path, a.symbol)
		case a.role != "storageBlobDataContributor" && a.abac != "":
			p.addf("%s: %s carries a condition the README does not mention", src.path, a.symbol)
		}
	}
	// The module's flags must say "first source with this account /
	// container" and pass pruneSource through.
	for _, m := range app.file.modules() {
		if !strings.HasSuffix(m.path, "source-access.bicep") {
			continue
		}
		params, _ := nestedBlock(m.body, "params")
		fields := topLevelProperties(params)
		for param, expr := range map[string]string{
			"assignAccountRole":    "indexOf(sourceAccountKeys, sourceAccountKeys[i]) == i",
			"assignContainerRoles": "indexOf(sourceContainerKeys, sourceContainerKeys[i]) == i",
			"pruneSource":          "pruneSource",
		} {
			if fields[param] != expr {
				p.addf("%s: module %s passes %s: %q, want %q", app.file.path, m.symbol, param, fields[param], expr)
			}
		}
	}
	p.report()
}

// TestInfraNestedDeploymentNamesUniquePerDeployment: module deployments
// land in other resource groups, where a second snapcopy deployment would
// collide with fixed names; each name carries a per-deployment suffix.
func TestInfraNestedDeploymentNamesUniquePerDeployment(t *testing.T) {
	app := loadInfraApp(t)
	p := &problems{t: t}
	if !strings.Contains(app.file.text, "\nvar deploymentSuffix = uniqueString(deployment().name)\n") {
		p.addf("%s: var deploymentSuffix = uniqueString(deployment().name) is missing", app.file.path)
	}
	mods := app.file.modules()
	if len(mods) < 2 {
		p.addf("%s: found %d module declarations, want the source and destination modules", app.file.path, len(mods))
	}
	for _, m := range mods {
		name := topLevelProperties(m.body)["name"]
		if !strings.Contains(name, "${deploymentSuffix}") {
			p.addf("%s: module %s is named %s, without ${deploymentSuffix}", app.file.path, m.symbol, name)
		}
	}
	p.report()
}
