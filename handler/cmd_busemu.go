package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/snapcopy/snapcopy/handler/internal/standin/busemu"
)

// runBusemu serves the Service Bus stand-in (AMQP 1.0) standalone, with
// snapcopy's queues and topic pre-created.
func runBusemu(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("busemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:5672", "loopback address to listen on")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	return busemu.Serve(ctx, *addr, busemu.Options{}, func(bound string) {
		fmt.Fprintf(stdout, "Service Bus stand-in listening on %s\nconnection string: %s\n", bound, busemu.ConnectionString(bound, busemu.DevKeyName, busemu.DevKey))
	})
}
