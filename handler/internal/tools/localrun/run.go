// Package localrun is `handler local`: it starts the storage emulator, the
// host simulator and the real handler on loopback, runs a demo backup chain
// through them and verifies every copied snapshot byte for byte.
package localrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/snapcopy/snapcopy/handler/internal/bus"
	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
	"github.com/snapcopy/snapcopy/handler/internal/standin/funchost"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
)

// HandlerFactory wires the real handler for app settings, sending through
// senders; main supplies it, so the wiring stays in one place.
type HandlerFactory func(ctx context.Context, settings map[string]string, senders func(entity string) (bus.Sender, error)) (http.Handler, func(), error)

// Options configure a local run.
type Options struct {
	// Blobs is how many disks to back up; Generations how many snapshots
	// each gets.
	Blobs, Generations int
	// DiskBytes is each disk's size; WritesPerGeneration the number of
	// random extents written before each snapshot.
	DiskBytes           int64
	WritesPerGeneration int
	// Seed makes writes (and chaos) reproducible.
	Seed uint64
	// Chaos injects transient storage faults and latency.
	Chaos bool
	// Bus is BusAMQP (busemu over AMQP, the default) or BusMemory.
	Bus string
	// CopyRate is the emulated copy speed in bytes per second.
	CopyRate int64
	// Timeout bounds the whole run.
	Timeout time.Duration
	// Keep leaves the stack running after the demo until ctx ends.
	Keep bool
	// Retention is the handler's retention policy and PruneSource its
	// source pruning; the run then waits for each chain's Pruned event and
	// checks that what survives is what the policy keeps.
	Retention   copyjob.RetentionPolicy
	PruneSource bool
	// Out receives progress and the summary.
	Out io.Writer
	// Handler wires the real handler.
	Handler HandlerFactory
}

// Defaults are the options of a plain `handler local`.
func Defaults() Options {
	return Options{Blobs: 1, Generations: 3, DiskBytes: 64 << 20, WritesPerGeneration: 24, Seed: 1, CopyRate: 32 << 20, Timeout: 2 * time.Minute, Bus: BusAMQP}
}

// ErrInvalid wraps option errors.
var ErrInvalid = errors.New("localrun: invalid options")

// Validate says what is wrong with the options.
func (o Options) Validate() error {
	// Each message names the `handler local` flag that sets the option.
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if o.Blobs < 1 {
		bad("-blobs %d: at least 1 disk", o.Blobs)
	}
	if o.Generations < 1 {
		bad("-generations %d: at least 1 snapshot per disk", o.Generations)
	}
	if o.DiskBytes < 1<<20 || o.DiskBytes%pageSize != 0 {
		bad("-disk-mib: the disk must be at least 1 MiB and a multiple of 512 bytes (%d bytes asked for)", o.DiskBytes)
	}
	if o.WritesPerGeneration < 1 {
		bad("-writes %d: at least 1 extent per generation", o.WritesPerGeneration)
	}
	if o.CopyRate < 1 {
		bad("-copy-rate %d: must be a positive number of bytes per second", o.CopyRate)
	}
	if o.Timeout <= 0 {
		bad("-timeout %s: must be positive", o.Timeout)
	}
	if err := o.Retention.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.Bus != BusAMQP && o.Bus != BusMemory {
		bad("-bus %q: must be %q or %q", o.Bus, BusAMQP, BusMemory)
	}
	if o.Out == nil || o.Handler == nil {
		bad("Out and Handler are required (the caller's wiring)")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// Entity names, as the infra creates them.
const (
	triggerQueue = config.DefaultTriggerQueue
	pollQueue    = config.DefaultPollQueue
	eventsTopic  = config.DefaultEventsTopic
	eventsSub    = config.EventsSubscription
	retentionSub = config.DefaultRetentionSubscription
)

// Run runs the demo and returns its summary; Summary.OK says whether every
// snapshot was verified.
func Run(ctx context.Context, opts Options) (Summary, error) {
	if err := opts.Validate(); err != nil {
		return Summary{}, err
	}
	keepCtx := ctx
	// A host simulator that stops (its bus connection lost) ends the run
	// with that cause instead of letting it wait for the timeout.
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	started := time.Now()
	stackCtx := ctx
	if opts.Keep {
		stackCtx = keepCtx
	}
	st, err := startStack(stackCtx, opts, fail)
	if err != nil {
		return Summary{}, err
	}
	defer st.close()

	jobs, err := st.produce(ctx, opts)
	if err != nil {
		return Summary{}, err
	}
	if err := st.awaitOutcomes(ctx, jobs, opts.Retention.Enabled() || opts.PruneSource); err != nil {
		return Summary{}, err
	}
	sum := st.verify(ctx, jobs, opts.Retention)
	sum.Restores = st.restoreNewest(ctx, jobs, opts.Out)
	sum.Elapsed = time.Since(started)
	sum.Invocations = int(st.invocations.Load())
	sum.Deferrals = int(st.deferrals.Load())
	sum.DeadLettered = st.bus.deadLettered()
	sum.Print(opts.Out)
	if opts.Keep {
		fmt.Fprintf(opts.Out, "\nthe stack stays up until interrupted: storage %s (devstoreaccount1), handler %s, bus %s\n", st.storageURL, st.handlerURL, st.bus.describe())
		<-keepCtx.Done()
	}
	return sum, nil
}

// stack is the running stand-ins and handler.
type stack struct {
	out         io.Writer
	storageURL  string // account URL
	storageBase string // the emulator's endpoint
	bus         localBus
	key         *blob.SharedKeyCredential
	clientOpts  azcore.ClientOptions
	closers     []func()
	outcomes    map[string]outcome
	invocations atomic.Int64
	deferrals   atomic.Int64
	handlerURL  string
}

func (s *stack) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

func startStack(ctx context.Context, opts Options, fail context.CancelCauseFunc) (*stack, error) {
	s := &stack{out: opts.Out}
	emuOpts := storageemu.Options{CopyRate: opts.CopyRate}
	if opts.Chaos {
		emuOpts.Chaos = &storageemu.Chaos{Seed: opts.Seed, ErrorRate: 0.05, MaxLatency: 20 * time.Millisecond}
	}
	storageBase, stop, err := serveLoopback(storageemu.New(emuOpts))
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, stop)
	s.storageBase = storageBase
	s.storageURL = storageBase + "/" + storageemu.DevAccountName
	s.key, _ = blob.NewSharedKeyCredential(storageemu.DevAccountName, storageemu.DevAccountKey)
	// The demo's own storage calls retry quickly under chaos.
	s.clientOpts = azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: 6, RetryDelay: 20 * time.Millisecond, MaxRetryDelay: 200 * time.Millisecond}}

	if opts.Bus == BusMemory {
		s.bus, err = newMemoryBus()
	} else {
		s.bus, err = newAMQPBus()
	}
	if err != nil {
		s.close()
		return nil, fmt.Errorf("start the bus: %w", err)
	}
	s.closers = append(s.closers, s.bus.close)
	settings := map[string]string{
		config.SettingServiceBusConnection:    s.bus.connectionString(),
		config.SettingStorageConnectionString: storageemu.ConnectionString(storageBase, storageemu.DevAccount),
		config.SettingDestinationContainerURL: s.storageURL + "/backups",
		config.SettingAllowedSources:          s.storageURL + "/disks",
		config.SettingAllowedDestinations:     s.storageURL + "/backups",
		config.SettingPollMinDelay:            "1s",
		config.SettingPollMaxDelay:            "10s",
		config.SettingLogLevel:                "warn",
		config.SettingRetainLast:              fmt.Sprint(opts.Retention.Last),
		config.SettingRetainDaily:             fmt.Sprint(opts.Retention.Daily),
		config.SettingRetainWeekly:            fmt.Sprint(opts.Retention.Weekly),
		config.SettingRetainMonthly:           fmt.Sprint(opts.Retention.Monthly),
		config.SettingPruneSource:             fmt.Sprint(opts.PruneSource),
	}
	handler, closeHandler, err := opts.Handler(ctx, settings, s.bus.senders())
	if err != nil {
		s.close()
		return nil, fmt.Errorf("start handler: %w", err)
	}
	s.closers = append(s.closers, closeHandler)
	var stopHandler func()
	s.handlerURL, stopHandler, err = serveLoopback(handler)
	if err != nil {
		s.close()
		return nil, err
	}
	s.closers = append(s.closers, stopHandler)

	sources, err := s.bus.sources()
	if err != nil {
		s.close()
		return nil, err
	}
	host, err := funchost.NewHost(funchost.HostOptions{
		Functions: sources,
		BaseURL:   s.handlerURL,
		OnInvocation: func(inv funchost.Invocation) {
			s.invocations.Add(1)
			if copyjob.ParseMessageID(inv.MessageID).Kind == copyjob.KindDeferral {
				s.deferrals.Add(1)
			}
		},
	})
	if err != nil {
		s.close()
		return nil, err
	}
	hostCtx, stopHost := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := host.Run(hostCtx); hostCtx.Err() == nil {
			fail(fmt.Errorf("the host simulator stopped: %w", err))
		}
	}()
	s.closers = append(s.closers, func() { stopHost(); wg.Wait() })
	fmt.Fprintf(s.out, "storage emulator  %s\nhandler           %s\nbus               %s\n\n", storageBase, s.handlerURL, s.bus.describe())
	return s, nil
}

// serveLoopback serves h on a free 127.0.0.1 port.
func serveLoopback(h http.Handler) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), func() { _ = srv.Close() }, nil
}

// job is one snapshot sent for copying.
type job struct {
	disk       *disk
	generation int
	snapshot   string
	written    int64
	// digest is the SHA-256 of the snapshot's bytes, taken when source
	// pruning may delete the snapshot before it is verified.
	digest *[32]byte
}

// produce writes, snapshots and sends a SnapshotCreated per snapshot, like a
// backup scheduler.
func (s *stack) produce(ctx context.Context, opts Options) ([]*job, error) {
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0xd15c))
	var disks []*disk
	for _, name := range []string{"disks", "backups"} {
		c, err := container.NewClientWithSharedKeyCredential(s.storageURL+"/"+name, s.key, &container.ClientOptions{ClientOptions: s.clientOpts})
		if err != nil {
			return nil, err
		}
		if _, err := c.Create(ctx, nil); err != nil {
			return nil, fmt.Errorf("create container %s: %w", name, err)
		}
		if name != "disks" {
			continue
		}
		for i := 1; i <= opts.Blobs; i++ {
			d := &disk{name: fmt.Sprintf("vm%d.vhd", i), size: opts.DiskBytes, rng: rng}
			d.client = c.NewPageBlobClient(d.name)
			if _, err := d.client.Create(ctx, opts.DiskBytes, nil); err != nil {
				return nil, fmt.Errorf("create %s: %w", d.name, err)
			}
			disks = append(disks, d)
		}
	}
	sender, err := s.bus.producer()
	if err != nil {
		return nil, err
	}
	var jobs []*job
	for g := 1; g <= opts.Generations; g++ {
		for _, d := range disks {
			written, err := d.writeRandom(ctx, opts.WritesPerGeneration)
			if err != nil {
				return nil, err
			}
			snap, err := d.snapshot(ctx)
			if err != nil {
				return nil, err
			}
			j := &job{disk: d, generation: g, snapshot: snap, written: written}
			if opts.PruneSource {
				src, err := d.client.WithSnapshot(snap)
				if err != nil {
					return nil, err
				}
				sum, err := digestOf(ctx, src, d.size)
				if err != nil {
					return nil, fmt.Errorf("read %s snapshot %s: %w", d.name, snap, err)
				}
				j.digest = &sum
			}
			jobs = append(jobs, j)
			if err := sendSnapshotCreated(ctx, sender, d.client.URL(), snap); err != nil {
				return nil, err
			}
			fmt.Fprintf(s.out, "%-8s gen %d  wrote %5.1f MiB, snapshot %s, SnapshotCreated sent\n", d.name, g, float64(written)/(1<<20), snap)
		}
		if g == 1 {
			if err := s.awaitChainsStarted(ctx, disks); err != nil {
				return nil, err
			}
		}
	}
	return jobs, nil
}

// awaitChainsStarted waits until every disk's first copy has begun. A new
// chain starts at the first snapshot the handler acts on, and triggers
// run concurrently, so a scheduler lets the first snapshot seed the chain
// before sending the next; later ones may then pile up in any order.
func (s *stack) awaitChainsStarted(ctx context.Context, disks []*disk) error {
	dest, err := container.NewClientWithSharedKeyCredential(s.storageURL+"/backups", s.key, &container.ClientOptions{ClientOptions: s.clientOpts})
	if err != nil {
		return err
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, d := range disks {
		for {
			_, err := dest.NewPageBlobClient(d.name).GetProperties(ctx, nil)
			if err == nil {
				break
			}
			if !bloberror.HasCode(err, bloberror.BlobNotFound) {
				return fmt.Errorf("wait for the first copy of %s: %w", d.name, err)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("the first copy of %s did not start: %w", d.name, context.Cause(ctx))
			case <-tick.C:
			}
		}
	}
	return nil
}

func sendSnapshotCreated(ctx context.Context, sender bus.Sender, source, snapshot string) error {
	id := fmt.Sprintf("local-%s-%s", source[len(source)-min(len(source), 12):], snapshot)
	body, err := json.Marshal(map[string]any{
		"specversion": "1.0", "type": "Snapcopy.SnapshotCreated", "source": "/snapcopy/local", "id": id,
		"datacontenttype": "application/json",
		"data":            map[string]string{"sourceBlobUrl": source, "snapshot": snapshot},
	})
	if err != nil {
		return err
	}
	return sender.SendMessage(ctx, &azservicebus.Message{MessageID: to.Ptr(id), Body: body, ContentType: to.Ptr("application/cloudevents+json")}, nil)
}
