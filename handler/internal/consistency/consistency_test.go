package consistency

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/standin/busemu"
	"github.com/snapcopy/snapcopy/handler/internal/tools/packager"
	"github.com/snapcopy/snapcopy/handler/internal/worker"
)

// triggerSettings are the app settings naming each function's trigger
// entity: a queue, or a topic and one of its subscriptions.
type triggerSettings struct{ queue, topic, subscription string }

var triggerSetting = map[string]triggerSettings{
	"SnapshotCreated": {queue: config.SettingTriggerQueue},
	"CopyPoll":        {queue: config.SettingPollQueue},
	"Retention":       {topic: config.SettingEventsTopic, subscription: config.SettingRetentionSubscription},
}

// notInAzure are settings the infra must not set, and why.
var notInAzure = map[string]string{
	config.SettingPort:                    "the Functions host sets it",
	config.SettingServiceBusConnection:    "a connection string means SAS keys; Azure uses the identity form",
	config.SettingStorageConnectionString: "Shared Key is for the local emulators; Azure uses managed identity",
}

// hostOwned matches app settings read by the Functions host, not our code.
var hostOwned = regexp.MustCompile(`^(AzureWebJobsStorage__(accountName|credential|clientId)|APPLICATIONINSIGHTS_(CONNECTION|AUTHENTICATION)_STRING|` +
	regexp.QuoteMeta(config.SettingServiceBusConnection) + `__(credential|clientId))$`)

// flexForbidden are settings Flex Consumption rejects (functionAppConfig
// carries them).
var flexForbidden = []string{"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE", "AzureWebJobsStorage"}

type functionJSON struct {
	Bindings []struct {
		Name             string `json:"name"`
		Type             string `json:"type"`
		Direction        string `json:"direction"`
		QueueName        string `json:"queueName"`
		TopicName        string `json:"topicName"`
		SubscriptionName string `json:"subscriptionName"`
		Connection       string `json:"connection"`
	} `json:"bindings"`
}

var percentSetting = regexp.MustCompile(`^%([A-Za-z0-9_]+)%$`)

func TestFunctionBindingsUseDeclaredSettings(t *testing.T) {
	settings := declaredSettings(t)
	p := &problems{t: t}
	served := (&worker.Worker{}).Functions()
	for fn := range served {
		if _, ok := triggerSetting[fn]; !ok {
			p.addf("handler serves %s but this test does not know its trigger settings: add it to triggerSetting", fn)
		}
	}
	for fn, setting := range triggerSetting {
		rel := "function/" + fn + "/function.json"
		if _, ok := served[fn]; !ok {
			p.addf("%s: the handler (worker.Functions) serves no function %q", rel, fn)
		}
		var doc functionJSON
		if err := json.Unmarshal(read(t, rel), &doc); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if len(doc.Bindings) != 1 {
			p.addf("%s: %d bindings, want one serviceBusTrigger", rel, len(doc.Bindings))
			continue
		}
		b := doc.Bindings[0]
		if b.Type != "serviceBusTrigger" || b.Direction != "in" {
			p.addf("%s: binding type %q direction %q, want serviceBusTrigger in", rel, b.Type, b.Direction)
		}
		for _, f := range []struct{ field, value, want string }{
			{"queueName", b.QueueName, setting.queue},
			{"topicName", b.TopicName, setting.topic},
			{"subscriptionName", b.SubscriptionName, setting.subscription},
		} {
			m := percentSetting.FindStringSubmatch(f.value)
			switch {
			case f.want == "" && f.value != "":
				p.addf("%s: %s %q is set, but the function's trigger has none", rel, f.field, f.value)
			case f.want == "":
			case m == nil:
				p.addf("%s: %s %q is not a %%SETTING%% expression", rel, f.field, f.value)
			case settings[m[1]] == "":
				p.addf("%s: %s %%%s%%: %s is not declared in %s", rel, f.field, m[1], m[1], settingsFile)
			case m[1] != f.want:
				p.addf("%s: %s %%%s%%, want %%%s%%", rel, f.field, m[1], f.want)
			}
		}
		if b.Connection != config.SettingServiceBusConnection {
			p.addf("%s: connection %q, want %q (config.SettingServiceBusConnection)", rel, b.Connection, config.SettingServiceBusConnection)
		}
	}
	p.report()
}

type hostJSON struct {
	CustomHandler struct {
		Description struct {
			DefaultExecutablePath string `json:"defaultExecutablePath"`
		} `json:"description"`
	} `json:"customHandler"`
	FunctionTimeout string `json:"functionTimeout"`
	Extensions      struct {
		ServiceBus struct {
			MaxAutoLockRenewalDuration string `json:"maxAutoLockRenewalDuration"`
		} `json:"serviceBus"`
	} `json:"extensions"`
}

// hostSpan parses host.json's hh:mm:ss spans.
func hostSpan(t *testing.T, field, s string) time.Duration {
	t.Helper()
	d, err := time.Parse("15:04:05", s)
	if err != nil {
		t.Fatalf("host.json %s %q: %v", field, s, err)
	}
	return d.Sub(d.Truncate(24 * time.Hour))
}

func readHost(t *testing.T) hostJSON {
	t.Helper()
	var h hostJSON
	if err := json.Unmarshal(read(t, "host.json"), &h); err != nil {
		t.Fatalf("host.json: %v", err)
	}
	return h
}

func TestHostJSONRunsThePackagedBinary(t *testing.T) {
	h := readHost(t)
	if got := h.CustomHandler.Description.DefaultExecutablePath; got != packager.BinaryName {
		t.Errorf("host.json defaultExecutablePath %q, but the packager ships %q", got, packager.BinaryName)
	}
	timeout := hostSpan(t, "functionTimeout", h.FunctionTimeout)
	renewal := hostSpan(t, "maxAutoLockRenewalDuration", h.Extensions.ServiceBus.MaxAutoLockRenewalDuration)
	if renewal < timeout {
		t.Errorf("host.json maxAutoLockRenewalDuration %s < functionTimeout %s: a long invocation would lose its message lock", renewal, timeout)
	}
}

type localSettings struct {
	Values map[string]string `json:"Values"`
}

func TestLocalSettingsListEverySetting(t *testing.T) {
	const rel = "local.settings.json.example"
	var doc localSettings
	if err := json.Unmarshal(read(t, rel), &doc); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	settings := declaredSettings(t)
	p := &problems{t: t}
	for _, name := range slices.Sorted(maps.Keys(settings)) {
		if _, ok := doc.Values[name]; !ok && name != config.SettingPort {
			p.addf("%s lacks %s (%s in %s)", rel, name, settings[name], settingsFile)
		}
	}
	if _, ok := doc.Values[config.SettingPort]; ok {
		p.addf("%s sets %s, which the Functions host owns", rel, config.SettingPort)
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Values)) {
		if strings.HasPrefix(name, "SNAPCOPY_") && settings[name] == "" {
			p.addf("%s sets %s, which %s does not declare", rel, name, settingsFile)
		}
	}
	if doc.Values["FUNCTIONS_WORKER_RUNTIME"] != "custom" {
		p.addf("%s: FUNCTIONS_WORKER_RUNTIME %q, want \"custom\"", rel, doc.Values["FUNCTIONS_WORKER_RUNTIME"])
	}
	if doc.Values["AzureWebJobsStorage"] == "" {
		p.addf("%s lacks AzureWebJobsStorage (non-HTTP triggers need host storage)", rel)
	}
	d := config.Defaults()
	for setting, want := range map[string]string{config.SettingTriggerQueue: d.TriggerQueue, config.SettingPollQueue: d.PollQueue, config.SettingEventsTopic: d.EventsTopic} {
		if got := doc.Values[setting]; got != want {
			p.addf("%s: %s=%q, but config.Defaults() says %q", rel, setting, got, want)
		}
	}
	if _, err := config.Load(func(name string) string { return doc.Values[name] }); err != nil {
		p.addf("%s does not load: %v", rel, err)
	}
	p.report()
}

// infraApp is what main.bicep gives the function app.
type infraApp struct {
	file     bicepFile
	settings map[string]string // app setting → Bicep expression
}

func loadInfraApp(t *testing.T) infraApp {
	t.Helper()
	for _, f := range loadBicep(t) {
		for _, r := range f.resources() {
			if r.typ != "Microsoft.Web/sites/config" || !strings.Contains(r.body, "name: 'appsettings'") {
				continue
			}
			props, ok := nestedBlock(r.body, "properties")
			if !ok {
				t.Fatalf("%s: resource %s has no properties block", f.path, r.symbol)
			}
			return infraApp{file: f, settings: topLevelProperties(props)}
		}
	}
	t.Fatal("no Microsoft.Web/sites/config 'appsettings' resource in infra/*.bicep")
	return infraApp{}
}

// defaultValue resolves a setting's Bicep expression to the literal the app
// gets when nobody overrides a parameter: a string var, or a parameter's
// default (also through string(p) and p ? 'true' : 'false'). ok is false for
// values computed at deployment.
func (a infraApp) defaultValue(expr string) (string, bool) {
	m := regexp.MustCompile(`^(?:string\()?(\w+)\)?(?: \? 'true' : 'false')?$`).FindStringSubmatch(expr)
	if m == nil {
		return unquote(expr)
	}
	if v, ok := a.file.vars()[m[1]]; ok {
		return v, true
	}
	def, ok := a.file.paramDefaults()[m[1]]
	if !ok || def == "" {
		return "", false
	}
	if v, ok := unquote(def); ok {
		return v, true
	}
	if regexp.MustCompile(`^(true|false|-?\d+)$`).MatchString(def) {
		return def, true
	}
	return "", false
}

func TestInfraSetsExactlyTheSettingsTheCodeReads(t *testing.T) {
	app := loadInfraApp(t)
	settings := declaredSettings(t)
	p := &problems{t: t}
	for _, name := range slices.Sorted(maps.Keys(settings)) {
		_, set := app.settings[name]
		why, skip := notInAzure[name]
		switch {
		case skip && set:
			p.addf("%s app settings set %s, but it must not be set in Azure: %s", app.file.path, name, why)
		case !skip && !set:
			p.addf("%s app settings lack %s (%s in %s)", app.file.path, name, settings[name], settingsFile)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(app.settings)) {
		if settings[name] == "" && !hostOwned.MatchString(name) {
			p.addf("%s app settings set %s, which neither %s declares nor the Functions host reads", app.file.path, name, settingsFile)
		}
		if slices.Contains(flexForbidden, name) {
			p.addf("%s app settings set %s, which Flex Consumption does not allow", app.file.path, name)
		}
	}
	// The binding's identity form must name the same connection as function.json.
	for _, suffix := range []string{"__credential", "__clientId"} {
		if _, ok := app.settings[config.SettingServiceBusConnection+suffix]; !ok {
			p.addf("%s app settings lack %s%s (the trigger binding's managed identity)", app.file.path, config.SettingServiceBusConnection, suffix)
		}
	}
	p.report()
}

// TestInfraDefaultsLoadLikeConfigDefaults feeds each app setting's Bicep
// default to config.Load and expects config.Defaults(): the template and
// the code must agree on what "unchanged" means.
func TestInfraDefaultsLoadLikeConfigDefaults(t *testing.T) {
	app := loadInfraApp(t)
	base := map[string]string{config.SettingServiceBusNamespace: "example.servicebus.windows.net"}
	load := func(extra map[string]string) (config.Config, error) {
		return config.Load(func(name string) string {
			if v, ok := extra[name]; ok {
				return v
			}
			return base[name]
		})
	}
	want, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &problems{t: t}
	checked := 0
	for _, name := range slices.Sorted(maps.Keys(app.settings)) {
		if !strings.HasPrefix(name, "SNAPCOPY_") {
			continue
		}
		value, ok := app.defaultValue(app.settings[name])
		if !ok {
			continue // computed at deployment (URLs, names with a hash)
		}
		checked++
		got, err := load(map[string]string{name: value})
		switch {
		case err != nil:
			p.addf("%s: %s default %q does not load: %v", app.file.path, name, value, err)
		case !reflect.DeepEqual(got, want):
			p.addf("%s: %s default %q loads differently from config.Defaults() (the Go default)", app.file.path, name, value)
		}
	}
	if checked < 10 {
		p.addf("%s: only %d SNAPCOPY_ settings have literal defaults; the parser may have missed them", app.file.path, checked)
	}
	p.report()
}

// entity is a Service Bus queue or topic that an app setting names.
type entity struct {
	setting, kind, configDefault string
	// receive: the app's trigger binding reads it; send: the handler writes it.
	receive, send bool
}

func TestInfraEntitiesMatchConfigAndBindings(t *testing.T) {
	app := loadInfraApp(t)
	d := config.Defaults()
	entities := []entity{
		{config.SettingTriggerQueue, "queues", d.TriggerQueue, true, true},
		{config.SettingPollQueue, "queues", d.PollQueue, true, true},
		{config.SettingEventsTopic, "topics", d.EventsTopic, false, true},
	}
	h := readHost(t)
	functionTimeout := hostSpan(t, "functionTimeout", h.FunctionTimeout)
	resources := app.file.resources()
	p := &problems{t: t}
	for _, e := range entities {
		expr, ok := app.settings[e.setting]
		if !ok {
			p.addf("%s app settings lack %s", app.file.path, e.setting)
			continue
		}
		name, ok := app.defaultValue(expr)
		if !ok {
			p.addf("%s: %s = %s is not a literal entity name", app.file.path, e.setting, expr)
			continue
		}
		if name != e.configDefault {
			p.addf("%s: %s names %s %q, but config.Defaults() says %q", app.file.path, e.setting, strings.TrimSuffix(e.kind, "s"), name, e.configDefault)
		}
		res, found := findEntity(resources, "Microsoft.ServiceBus/namespaces/"+e.kind, expr)
		if !found {
			p.addf("%s: no Microsoft.ServiceBus/namespaces/%s resource named %s (%q) for %s", app.file.path, e.kind, expr, name, e.setting)
			continue
		}
		props, _ := nestedBlock(res.body, "properties")
		fields := topLevelProperties(props)
		if fields["requiresDuplicateDetection"] != "true" {
			p.addf("%s: %s %q has no duplicate detection; deterministic message ids rely on it", app.file.path, e.kind, name)
		}
		window, err := isoDuration(strings.Trim(fields["duplicateDetectionHistoryTimeWindow"], "'"))
		if err != nil {
			p.addf("%s: %s %q duplicateDetectionHistoryTimeWindow: %v", app.file.path, e.kind, name, err)
		} else if window <= d.PollMaxDelay {
			p.addf("%s: %s %q duplicate-detection window %s must exceed the longest scheduling delay %s", app.file.path, e.kind, name, window, d.PollMaxDelay)
		}
		if e.kind == "queues" {
			lock, err := isoDuration(strings.Trim(fields["lockDuration"], "'"))
			if err != nil {
				p.addf("%s: queue %q lockDuration: %v", app.file.path, name, err)
			} else if lock < functionTimeout {
				p.addf("%s: queue %q lockDuration %s < host.json functionTimeout %s (the template says an invocation never outlives its lock)", app.file.path, name, lock, functionTimeout)
			}
		}
		if e.receive && !hasRoleOn(resources, res.symbol, "serviceBusDataReceiver", "serviceBusDataOwner") {
			p.addf("%s: no Service Bus Data Receiver (or Owner) assignment scoped to %s: the trigger cannot read %q", app.file.path, res.symbol, name)
		}
		if e.send && !hasRoleOn(resources, res.symbol, "serviceBusDataSender", "serviceBusDataOwner") {
			p.addf("%s: no Service Bus Data Sender (or Owner) assignment scoped to %s: the handler cannot write %q", app.file.path, res.symbol, name)
		}
	}
	p.report()
}

func findEntity(resources []bicepResourceBlock, typ, nameExpr string) (bicepResourceBlock, bool) {
	for _, r := range resources {
		if r.typ == typ && topLevelProperties(r.body)["name"] == nameExpr {
			return r, true
		}
	}
	return bicepResourceBlock{}, false
}

// hasRoleOn reports a role assignment scoped to symbol with one of roles.<role>.
func hasRoleOn(resources []bicepResourceBlock, symbol string, roles ...string) bool {
	for _, r := range resources {
		for _, role := range roles {
			if r.typ == typeRoleAssignment && topLevelProperties(r.body)["scope"] == symbol && strings.Contains(r.body, "roles."+role+")") {
				return true
			}
		}
	}
	return false
}

// TestParametersFileMatchesTemplate keeps the example parameters usable:
// every key is a parameter of main.bicep and every parameter without a
// default has a value.
func TestParametersFileMatchesTemplate(t *testing.T) {
	const rel = "infra/main.parameters.json"
	var doc struct {
		Parameters map[string]json.RawMessage `json:"parameters"`
	}
	if err := json.Unmarshal(read(t, rel), &doc); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	app := loadInfraApp(t)
	params := app.file.paramDefaults()
	p := &problems{t: t}
	for _, name := range slices.Sorted(maps.Keys(doc.Parameters)) {
		if _, ok := params[name]; !ok {
			p.addf("%s sets %s, which %s does not declare", rel, name, app.file.path)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(params)) {
		if _, ok := doc.Parameters[name]; !ok && params[name] == "" {
			p.addf("%s lacks %s, a parameter of %s without a default", rel, name, app.file.path)
		}
	}
	p.report()
}

// TestStandInEntitiesMatchInfra: busemu creates snapcopy's entities with
// the settings infra gives them, so the tests meet the windows, locks,
// delivery counts and TTLs production has.
func TestStandInEntitiesMatchInfra(t *testing.T) {
	app := loadInfraApp(t)
	resources := app.file.resources()
	p := &problems{t: t}
	// fieldsOf reads a Service Bus resource's properties by its name expression.
	fieldsOf := func(kind, nameExpr string) map[string]string {
		res, found := findEntity(resources, "Microsoft.ServiceBus/namespaces/"+kind, nameExpr)
		if !found {
			p.addf("%s: no Microsoft.ServiceBus/namespaces/%s resource named %s", app.file.path, kind, nameExpr)
			return nil
		}
		props, _ := nestedBlock(res.body, "properties")
		return topLevelProperties(props)
	}
	// A check compares the Bicep properties of one entity with busemu's,
	// written in Bicep's spelling.
	type check struct {
		kind, expr, name string
		props            map[string]string
	}
	var checks []check
	add := func(kind, expr, name string, props map[string]string) {
		checks = append(checks, check{kind, expr, name, props})
	}
	queues, topics := busemu.DefaultTopology()
	settingOf := map[string]string{config.DefaultTriggerQueue: config.SettingTriggerQueue, config.DefaultPollQueue: config.SettingPollQueue}
	for _, q := range queues {
		pr := q.Properties
		add("queues", app.settings[settingOf[q.Name]], q.Name, map[string]string{
			"requiresDuplicateDetection":          fmt.Sprint(pr.RequiresDuplicateDetection),
			"duplicateDetectionHistoryTimeWindow": pr.DuplicateDetectionHistoryTimeWindow.String(),
			"lockDuration":                        pr.LockDuration.String(),
			"maxDeliveryCount":                    fmt.Sprint(pr.MaxDeliveryCount),
			"defaultMessageTimeToLive":            pr.DefaultMessageTimeToLive.String(),
			"deadLetteringOnMessageExpiration":    fmt.Sprint(pr.DeadLetteringOnMessageExpiration),
		})
	}
	for _, tp := range topics {
		pr := tp.Properties
		add("topics", app.settings[config.SettingEventsTopic], tp.Name, map[string]string{
			"requiresDuplicateDetection":          fmt.Sprint(pr.RequiresDuplicateDetection),
			"duplicateDetectionHistoryTimeWindow": pr.DuplicateDetectionHistoryTimeWindow.String(),
			"defaultMessageTimeToLive":            pr.DefaultMessageTimeToLive.String(),
		})
		for _, s := range tp.Subscriptions {
			sp := s.Properties
			res, found := app.findNamed(resources, typeSubscription, s.Name)
			if !found {
				p.addf("%s: no %s resource named %q (busemu.DefaultTopology has it)", app.file.path, typeSubscription, s.Name)
				continue
			}
			checkSubscriptionFilter(p, app, resources, res, s)
			add("topics/subscriptions", topLevelProperties(res.body)["name"], tp.Name+"/"+s.Name, map[string]string{
				"lockDuration":                     sp.LockDuration.String(),
				"maxDeliveryCount":                 fmt.Sprint(sp.MaxDeliveryCount),
				"defaultMessageTimeToLive":         sp.DefaultMessageTimeToLive.String(),
				"deadLetteringOnMessageExpiration": fmt.Sprint(sp.DeadLetteringOnMessageExpiration),
			})
		}
	}
	for _, r := range resources {
		name, _ := app.defaultValue(topLevelProperties(r.body)["name"])
		if r.typ == typeSubscription && !slices.ContainsFunc(topics, func(tp busemu.TopicConfig) bool {
			return slices.ContainsFunc(tp.Subscriptions, func(s busemu.SubscriptionConfig) bool { return s.Name == name })
		}) {
			p.addf("%s: subscription %q (%s) is missing from busemu.DefaultTopology", app.file.path, name, r.symbol)
		}
	}
	for _, c := range checks {
		fields := fieldsOf(c.kind, c.expr)
		if fields == nil {
			continue
		}
		for prop, standIn := range c.props {
			got := strings.Trim(fields[prop], "'")
			if d, err := isoDuration(got); err == nil {
				got = d.String()
			}
			if got != standIn {
				p.addf("%s %s: infra sets %s = %s, busemu.DefaultTopology %s", c.kind, c.name, prop, fields[prop], standIn)
			}
		}
	}
	p.report()
}

const (
	typeSubscription = "Microsoft.ServiceBus/namespaces/topics/subscriptions"
	typeRule         = "Microsoft.ServiceBus/namespaces/topics/subscriptions/rules"
)

// findNamed finds the resource of typ whose name resolves to name.
func (a infraApp) findNamed(resources []bicepResourceBlock, typ, name string) (bicepResourceBlock, bool) {
	for _, r := range resources {
		if got, ok := a.defaultValue(topLevelProperties(r.body)["name"]); ok && r.typ == typ && got == name {
			return r, true
		}
	}
	return bicepResourceBlock{}, false
}

// checkSubscriptionFilter compares busemu's filter of one subscription with
// the rules infra gives it: none for an unfiltered subscription, else one
// correlation rule named $Default (replacing the TrueFilter ARM creates)
// on the same Subject, with the event type prefix's default.
func checkSubscriptionFilter(p *problems, app infraApp, resources []bicepResourceBlock, sub bicepResourceBlock, cfg busemu.SubscriptionConfig) {
	var rules []bicepResourceBlock
	for _, r := range resources {
		if r.typ == typeRule && topLevelProperties(r.body)["parent"] == sub.symbol {
			rules = append(rules, r)
		}
	}
	filter := cfg.Properties.Filter
	switch {
	case filter == nil && len(rules) == 0:
		return
	case filter == nil:
		p.addf("%s: subscription %q has %d rule(s), busemu admits everything", app.file.path, cfg.Name, len(rules))
		return
	case len(rules) != 1:
		p.addf("%s: subscription %q has %d rules, want one correlation rule on Subject %q", app.file.path, cfg.Name, len(rules), filter.Subject)
		return
	}
	rule := rules[0]
	fields := topLevelProperties(rule.body)
	props, _ := nestedBlock(rule.body, "properties")
	corr, _ := nestedBlock(props, "correlationFilter")
	label := topLevelProperties(corr)["label"]
	prefix, _ := unquote(app.file.paramDefaults()["eventTypePrefix"])
	label = strings.ReplaceAll(label, "${eventTypePrefix}", prefix)
	switch {
	case fields["name"] != "'$Default'":
		p.addf("%s: rule %s is named %s; only a rule named $Default replaces the TrueFilter ARM creates", app.file.path, rule.symbol, fields["name"])
	case topLevelProperties(props)["filterType"] != "'CorrelationFilter'":
		p.addf("%s: rule %s is not a CorrelationFilter", app.file.path, rule.symbol)
	case label != "'"+filter.Subject+"'":
		p.addf("%s: rule %s matches label %s, busemu Subject %q", app.file.path, rule.symbol, label, filter.Subject)
	}
	if want := config.Defaults().EventTypePrefix + ".Completed"; cfg.Name == config.DefaultRetentionSubscription && filter.Subject != want {
		p.addf("busemu retention subscription admits Subject %q, but the handler publishes Completed as %q", filter.Subject, want)
	}
}
