package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/redact"
)

// ErrInvalid wraps every validation failure, so callers can tell a bad
// setting from other start-up errors.
var ErrInvalid = errors.New("invalid app settings")

// Config is everything the handler reads from app settings.
type Config struct {
	// Port is where the custom handler listens (set by the host).
	Port int
	// ServiceBusConnectionString authenticates with a key or to a stand-in.
	ServiceBusConnectionString string
	// ServiceBusNamespace is the FQDN used with managed identity.
	ServiceBusNamespace string

	// TriggerQueue, PollQueue and EventsTopic name the Service Bus entities.
	TriggerQueue, PollQueue, EventsTopic string
	// EventSource and EventTypePrefix shape the outcome CloudEvents.
	EventSource, EventTypePrefix string
	// RetentionSubscription is the events topic's subscription of the
	// Retention function.
	RetentionSubscription string

	// DestinationContainerURL is the default destination container.
	DestinationContainerURL string
	// AllowedSources and AllowedDestinations are URL prefixes (account or
	// account/container); empty allows any.
	AllowedSources, AllowedDestinations []string
	// AllowMessageSAS accepts a source SAS carried by the message.
	AllowMessageSAS bool
	// TriggerEventTypes are the accepted SnapshotCreated CloudEvents types
	// (exact names or prefix*); empty accepts the default (copyjob.Rules).
	TriggerEventTypes []string

	// StorageConnectionString selects Shared Key auth (emulators).
	StorageConnectionString string
	// StorageEndpointSuffix is the storage endpoint suffix of the cloud.
	StorageEndpointSuffix string
	// ClientID selects a user-assigned managed identity.
	ClientID string

	// CopyDeadline bounds how long a copy may stay pending.
	CopyDeadline time.Duration
	// AbortOnTimeout aborts a copy that missed its deadline.
	AbortOnTimeout bool
	// PollMinDelay and PollMaxDelay bound the poll cadence.
	PollMinDelay, PollMaxDelay time.Duration
	// SASLifetime is how long a minted source SAS stays valid.
	SASLifetime time.Duration
	// MaxMessageBytes rejects larger trigger bodies.
	MaxMessageBytes int
	// Retention is the retention policy of restore points; the zero
	// policy keeps every one.
	Retention copyjob.RetentionPolicy
	// PruneSource deletes source snapshots proven copied, except the
	// newest copied one.
	PruneSource bool
	// LogLevel is the minimum log level (debug, info, warn, error).
	LogLevel string
}

// Defaults returns the configuration used for every unset setting.
func Defaults() Config {
	return Config{
		TriggerQueue:    DefaultTriggerQueue,
		PollQueue:       DefaultPollQueue,
		EventsTopic:     DefaultEventsTopic,
		EventSource:     "/snapcopy",
		EventTypePrefix: DefaultEventTypePrefix,
		// The infra's subscription with a filter on the Completed subject.
		RetentionSubscription: DefaultRetentionSubscription,
		CopyDeadline:          24 * time.Hour,
		PollMinDelay:          5 * time.Second,
		PollMaxDelay:          10 * time.Minute,
		SASLifetime:           48 * time.Hour,
		StorageEndpointSuffix: copyjob.DefaultEndpointSuffix,
		// Service Bus Standard allows 256 KiB per message.
		MaxMessageBytes: 256 * 1024,
		LogLevel:        "info",
	}
}

// Load reads settings through getenv on top of Defaults and validates the
// result. The error names every bad setting. The port may be unset: Load
// serves tools and tests that listen on their own.
func Load(getenv func(string) string) (Config, error) { return load(getenv, false) }

// LoadServe is Load for `handler serve`, which the Functions host starts:
// the port it assigns is required too, and named with every other problem.
func LoadServe(getenv func(string) string) (Config, error) { return load(getenv, true) }

func load(getenv func(string) string, needPort bool) (Config, error) {
	c := Defaults()
	var errs []error
	str := func(name string, dst *string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	dur := func(name string, dst *time.Duration) {
		parseSetting(getenv, &errs, name, dst, time.ParseDuration, "a duration like 90s or 24h")
	}
	boolean := func(name string, dst *bool) {
		parseSetting(getenv, &errs, name, dst, strconv.ParseBool, "true or false")
	}
	integer := func(name string, dst *int) {
		parseSetting(getenv, &errs, name, dst, strconv.Atoi, "a whole number (or is far too large)")
	}
	list := func(name string, dst *[]string) {
		for _, item := range strings.Split(getenv(name), ",") {
			if item = strings.TrimSpace(item); item != "" {
				*dst = append(*dst, item)
			}
		}
	}

	integer(SettingPort, &c.Port)
	str(SettingServiceBusConnection, &c.ServiceBusConnectionString)
	str(SettingServiceBusNamespace, &c.ServiceBusNamespace)
	str(SettingTriggerQueue, &c.TriggerQueue)
	str(SettingPollQueue, &c.PollQueue)
	str(SettingEventsTopic, &c.EventsTopic)
	str(SettingEventSource, &c.EventSource)
	str(SettingEventTypePrefix, &c.EventTypePrefix)
	str(SettingRetentionSubscription, &c.RetentionSubscription)
	str(SettingDestinationContainerURL, &c.DestinationContainerURL)
	list(SettingAllowedSources, &c.AllowedSources)
	list(SettingAllowedDestinations, &c.AllowedDestinations)
	boolean(SettingAllowMessageSAS, &c.AllowMessageSAS)
	list(SettingTriggerEventTypes, &c.TriggerEventTypes)
	str(SettingStorageConnectionString, &c.StorageConnectionString)
	str(SettingStorageEndpointSuffix, &c.StorageEndpointSuffix)
	str(SettingClientID, &c.ClientID)
	dur(SettingCopyDeadline, &c.CopyDeadline)
	boolean(SettingAbortOnTimeout, &c.AbortOnTimeout)
	dur(SettingPollMinDelay, &c.PollMinDelay)
	dur(SettingPollMaxDelay, &c.PollMaxDelay)
	dur(SettingSASLifetime, &c.SASLifetime)
	integer(SettingMaxMessageBytes, &c.MaxMessageBytes)
	integer(SettingRetainLast, &c.Retention.Last)
	integer(SettingRetainDaily, &c.Retention.Daily)
	integer(SettingRetainWeekly, &c.Retention.Weekly)
	integer(SettingRetainMonthly, &c.Retention.Monthly)
	boolean(SettingPruneSource, &c.PruneSource)
	str(SettingLogLevel, &c.LogLevel)
	if needPort && strings.TrimSpace(getenv(SettingPort)) == "" {
		errs = append(errs, fmt.Errorf("%s is not set (the Functions host sets it; to serve without the host, set it to a free port)", SettingPort))
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return c, nil
}

// parseSetting sets *dst from the named setting when it is set; a value
// parse refuses adds to errs, saying what the value should have been.
func parseSetting[T any](getenv func(string) string, errs *[]error, name string, dst *T, parse func(string) (T, error), want string) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return
	}
	x, err := parse(v)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s=%q is not %s", name, v, want))
		return
	}
	*dst = x
}

// Validate reports every setting that is missing, malformed or
// inconsistent, one line each.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.Port != 0 {
		errs = append(errs, portBound.check(SettingPort, c.Port))
	}
	switch {
	case c.ServiceBusConnectionString == "" && c.ServiceBusNamespace == "":
		bad("set %s (connection string) or %s (namespace FQDN for managed identity)", SettingServiceBusConnection, SettingServiceBusNamespace)
	case c.ServiceBusConnectionString != "":
		if err := checkServiceBusConnection(c.ServiceBusConnectionString); err != nil {
			bad("%s is not a Service Bus connection string: %v", SettingServiceBusConnection, err)
		}
	case c.ServiceBusConnectionString == "" && strings.Contains(c.ServiceBusNamespace, "/"):
		bad("%s=%q must be a host name like contoso.servicebus.windows.net, not a URL", SettingServiceBusNamespace, c.ServiceBusNamespace)
	}
	// Slices, not maps: the same settings give the same message each time.
	for _, s := range []struct{ name, value string }{{SettingTriggerQueue, c.TriggerQueue}, {SettingPollQueue, c.PollQueue}, {SettingEventsTopic, c.EventsTopic},
		{SettingEventSource, c.EventSource}, {SettingEventTypePrefix, c.EventTypePrefix}, {SettingRetentionSubscription, c.RetentionSubscription}} {
		if s.value == "" {
			bad("%s must not be empty", s.name)
		}
	}
	if c.TriggerQueue == c.PollQueue {
		bad("%s and %s must name different queues (both are %q)", SettingTriggerQueue, SettingPollQueue, c.TriggerQueue)
	}
	if strings.ContainsAny(c.StorageEndpointSuffix, "/:@ ") || strings.HasPrefix(c.StorageEndpointSuffix, ".") || !strings.Contains(c.StorageEndpointSuffix, ".") {
		bad("%s=%q must be a domain like core.windows.net", SettingStorageEndpointSuffix, c.StorageEndpointSuffix)
	}
	if _, err := storageEmulator(c.StorageConnectionString); err != nil {
		bad("%s: %v", SettingStorageConnectionString, err)
	}
	hosts := c.StorageHosts()
	if c.DestinationContainerURL != "" {
		if err := checkURL(c.DestinationContainerURL, hosts); err != nil {
			bad("%s: %v", SettingDestinationContainerURL, err)
		}
	}
	for _, l := range []struct {
		name  string
		items []string
	}{{SettingAllowedSources, c.AllowedSources}, {SettingAllowedDestinations, c.AllowedDestinations}} {
		for _, item := range l.items {
			if err := checkURL(item, hosts); err != nil {
				bad("%s: %v", l.name, err)
			}
		}
	}
	if err := copyjob.CheckEventTypePatterns(c.TriggerEventTypes); err != nil {
		bad("%s: %v", SettingTriggerEventTypes, err)
	}
	errs = append(errs,
		copyDeadlineBound.check(SettingCopyDeadline, c.CopyDeadline),
		pollDelayBound.check(SettingPollMinDelay, c.PollMinDelay),
		pollDelayBound.check(SettingPollMaxDelay, c.PollMaxDelay),
		sasLifetimeBound.check(SettingSASLifetime, c.SASLifetime),
		messageBytesBound.check(SettingMaxMessageBytes, c.MaxMessageBytes))
	if c.PollMaxDelay < c.PollMinDelay {
		bad("%s (%s) must not be shorter than %s (%s)", SettingPollMaxDelay, c.PollMaxDelay, SettingPollMinDelay, c.PollMinDelay)
	}
	errs = append(errs,
		retainBound.check(SettingRetainLast, c.Retention.Last),
		retainBound.check(SettingRetainDaily, c.Retention.Daily),
		retainBound.check(SettingRetainWeekly, c.Retention.Weekly),
		retainBound.check(SettingRetainMonthly, c.Retention.Monthly))
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("%s=%q must be debug, info, warn or error", SettingLogLevel, c.LogLevel)
	}
	return errors.Join(errs...)
}

// checkURL applies the rules of message URLs to an account or container
// URL from a setting: the handler sends its credentials under it.
func checkURL(raw string, hosts copyjob.StorageHosts) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not an http(s) URL", redact.Text(raw))
	}
	shown := u.Scheme + "://" + u.Host + u.EscapedPath()
	switch {
	case u.User != nil:
		return fmt.Errorf("%q must not carry user info", shown)
	case u.RawQuery != "" || u.ForceQuery:
		return fmt.Errorf("%q must not carry a query (no SAS in settings)", shown)
	case u.Fragment != "":
		return fmt.Errorf("%q must not carry a fragment", shown)
	}
	if err := hosts.Check(u); err != nil {
		return fmt.Errorf("%q: %w", shown, err)
	}
	return nil
}

// StorageHosts are the storage endpoints the handler may send its
// credentials to: <account>.blob.<StorageEndpointSuffix> over https, and
// the BlobEndpoint of the storage connection string (a local emulator).
func (c Config) StorageHosts() copyjob.StorageHosts {
	return StorageHostsFor(c.StorageConnectionString, c.StorageEndpointSuffix)
}

// StorageHostsFor are the storage hosts of a storage connection string
// (empty: none) and an endpoint suffix (empty: the public cloud's), for
// tools that take both from elsewhere than the app settings.
func StorageHostsFor(connectionString, endpointSuffix string) copyjob.StorageHosts {
	emulator, _ := storageEmulator(connectionString)
	return copyjob.StorageHosts{EndpointSuffix: endpointSuffix, Emulator: emulator}
}

// storageEmulator returns the BlobEndpoint of a storage connection string,
// without a trailing slash; empty when there is none.
func storageEmulator(conn string) (string, error) {
	for _, part := range strings.Split(conn, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if !strings.EqualFold(k, "BlobEndpoint") {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.RawQuery != "" {
			return "", fmt.Errorf("BlobEndpoint %q is not an http(s) URL without user info or query", redact.Text(v))
		}
		return strings.TrimSuffix(v, "/"), nil
	}
	return "", nil
}
