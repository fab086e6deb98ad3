// Command handler is snapcopy: an Azure Functions custom handler that keeps
// destination page blobs in step with source snapshots using Incremental
// Copy Blob, driven by Service Bus. Its subcommands also run the local
// stand-ins and operator tools.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/snapcopy/snapcopy/handler/internal/redact"
	"github.com/snapcopy/snapcopy/handler/internal/tools/cli"
	"github.com/snapcopy/snapcopy/handler/internal/tools/ops"
	"github.com/snapcopy/snapcopy/handler/internal/tools/packager"
)

// command is one subcommand: it parses its own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"serve":    {"run the custom handler (what the Functions host starts)", runServe},
	"emulator": {"run the storage emulator (incremental copy included) on loopback", runEmulator},
	"busemu":   {"run the Service Bus stand-in (AMQP 1.0, snapcopy's entities) on loopback", runBusemu},
	"local":    {"run the whole chain on the built-in stand-ins and verify every snapshot", runLocal},
	"package":  {"build the deployable app folder and zip (static linux/amd64 binary)", packager.Run},
	"send":     {"send a SnapshotCreated message, as a producer would", ops.RunSend},
	"status":   {"show a destination chain: source, copied snapshots, current copy and ETA", ops.RunStatus},
	"restore":  {"copy a restore point into a new page blob, follow it to the end, optionally verify it", ops.RunRestore},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes: 0 also after -h; 2 for a command line that was refused with
// its usage (the flag package's and POSIX utilities' convention); 1 for a
// failure after that.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// The Functions host starts the binary without arguments.
	name := "serve"
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 0 && name == "help" {
			// `handler help send` is `handler send -h`.
			return run(ctx, []string{args[0], "-h"}, stdout, stderr)
		}
		usage(stdout)
		return exitOK
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "handler: unknown command %q\n\n", redact.Text(name))
		usage(stderr)
		return exitUsage
	}
	err := cmd.run(ctx, args, stdout, stderr)
	switch {
	case err == nil, errors.Is(err, cli.ErrHelp):
		return exitOK
	case errors.Is(err, cli.ErrUsage):
		return exitUsage
	default:
		fmt.Fprintf(stderr, "handler %s: %s\n", name, redact.Text(err.Error()))
		return exitFailure
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: handler [command] [flags]\n\nWithout a command it serves, as the Functions host starts it.\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\n`handler <command> -h` (or `handler help <command>`) shows a command's flags.")
}
