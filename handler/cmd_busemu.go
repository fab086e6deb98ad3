package main

import (
	"context"
	"fmt"
	"io"

	"github.com/snapcopy/snapcopy/handler/internal/standin/busemu"
	"github.com/snapcopy/snapcopy/handler/internal/tools/cli"
)

// runBusemu serves the Service Bus stand-in (AMQP 1.0) standalone, with
// snapcopy's queues and topic pre-created.
func runBusemu(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("busemu", "[-addr 127.0.0.1:5672]", "Serves AMQP 1.0 on loopback with snapcopy's queues and topic; prints the connection string to use.")
	addr := fs.String("addr", "127.0.0.1:5672", "loopback address to listen on")
	if err := cli.ParseFlagsOnly(fs, args, stdout, stderr, "give the address with -addr"); err != nil {
		return err
	}
	err := busemu.Serve(ctx, *addr, busemu.Options{}, func(bound string) {
		fmt.Fprintf(stdout, "Service Bus stand-in listening on %s\nconnection string: %s\n", bound, busemu.ConnectionString(bound, busemu.DevKeyName, busemu.DevKey))
	})
	return explainListen(err, busemu.ErrNotLoopback, *addr)
}
