package hostsim

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
)

// Host defaults.
const (
	// DefaultFunctionTimeout is snapcopy's host.json functionTimeout.
	DefaultFunctionTimeout = 5 * time.Minute
	// DefaultMaxConcurrentCalls is the extension's documented per-instance
	// default for one processor.
	DefaultMaxConcurrentCalls = 16
	// DefaultStringLayers is what a captured real payload shows (the
	// KarlGW/azfunc fixture); 2 is what the host's code path suggests.
	DefaultStringLayers = 1
	// DefaultHostVersion is a placeholder in the real version's shape.
	DefaultHostVersion = "4.1041.200.1"
	// DefaultNamespace is Metadata.Client.FullyQualifiedNamespace.
	DefaultNamespace = "localhost"
)

// HostConfig configures a Host. Zero values take defaults.
type HostConfig struct {
	// URL is the custom handler's base URL, e.g. an httptest.Server's URL
	// or Process.URL. Required.
	URL string
	// Functions are the Service Bus triggered functions. Required.
	Functions []Function
	// Clock stamps sys.UtcNow and, for RunUntilIdle, must be the sources'
	// *clock.Fake. Default: clock.Real.
	Clock clock.Clock
	// FunctionTimeout abandons an invocation that has not answered in
	// time (the host's client follows functionTimeout). Wall-clock time.
	// Default: 5 minutes.
	FunctionTimeout time.Duration
	// MaxConcurrentCalls bounds invocations in flight per function, like
	// host.json maxConcurrentCalls. Default: 16.
	MaxConcurrentCalls int
	// StringLayers is how many JSON string layers wrap the body in
	// Data.message: 1 or 2. Default: 1.
	StringLayers int
	// HostVersion goes into X-Azure-Functions-HostVersion and User-Agent.
	HostVersion string
	// Namespace goes into Metadata.Client.FullyQualifiedNamespace.
	Namespace string
	// Seed makes invocation ids and RunUntilIdle's function order
	// reproducible.
	Seed uint64
	// Client posts invocations. Default: a client with its own transport.
	Client *http.Client
	// OnInvocation, when set, is told about every finished invocation,
	// after settlement. Run calls it from several goroutines.
	OnInvocation func(Invocation)
	// OnCompleted, when set, is told about every message the host
	// completed.
	OnCompleted func(function string, m ReceivedMessage)
}

// Function is a Service Bus triggered function: its name (the folder name
// under the app root, which is the invocation path) and where its
// messages come from.
type Function struct {
	Name   string
	Source Source
}

// DefaultBindings maps snapcopy's functions to their queues (function.json
// with the default app settings).
func DefaultBindings() map[string]string {
	return map[string]string{"SnapshotCreated": "snapshot-created", "CopyPoll": "copy-poll"}
}

// Functions binds function names to broker queues or subscriptions
// (function name → entity path), sorted by name.
func (b *Broker) Functions(bindings map[string]string) ([]Function, error) {
	var fns []Function
	for _, name := range sortedKeys(bindings) {
		src, err := b.Source(bindings[name])
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", name, err)
		}
		fns = append(fns, Function{Name: name, Source: src})
	}
	return fns, nil
}

func (c *HostConfig) setDefaults() {
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.FunctionTimeout == 0 {
		c.FunctionTimeout = DefaultFunctionTimeout
	}
	if c.MaxConcurrentCalls == 0 {
		c.MaxConcurrentCalls = DefaultMaxConcurrentCalls
	}
	if c.StringLayers == 0 {
		c.StringLayers = DefaultStringLayers
	}
	if c.HostVersion == "" {
		c.HostVersion = DefaultHostVersion
	}
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
	if c.Client == nil {
		// Own transport: enough idle connections for every slot, and no
		// sharing with the process's default client.
		c.Client = &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: c.MaxConcurrentCalls * max(len(c.Functions), 1),
		}}
	}
}

// Validate says what is wrong with the configuration, after defaults.
func (c *HostConfig) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: URL %q must be an absolute http(s) URL", ErrInvalidConfig, c.URL)
	}
	if len(c.Functions) == 0 {
		return fmt.Errorf("%w: no Functions", ErrInvalidConfig)
	}
	seen := map[string]bool{}
	for _, f := range c.Functions {
		if f.Name == "" || f.Source == nil || seen[f.Name] {
			return fmt.Errorf("%w: function %q needs a unique name and a Source", ErrInvalidConfig, f.Name)
		}
		seen[f.Name] = true
	}
	switch {
	case c.FunctionTimeout < 0:
		return fmt.Errorf("%w: FunctionTimeout %v is negative", ErrInvalidConfig, c.FunctionTimeout)
	case c.MaxConcurrentCalls < 1:
		return fmt.Errorf("%w: MaxConcurrentCalls %d must be at least 1", ErrInvalidConfig, c.MaxConcurrentCalls)
	case c.StringLayers != 1 && c.StringLayers != 2:
		return fmt.Errorf("%w: StringLayers %d must be 1 or 2", ErrInvalidConfig, c.StringLayers)
	}
	return nil
}
