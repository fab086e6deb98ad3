package main

import (
	"errors"
	"fmt"
	"syscall"
)

// explainListen says what to do when a stand-in cannot listen on addr.
func explainListen(err, errNotLoopback error, addr string) error {
	switch {
	case errors.Is(err, errNotLoopback):
		return fmt.Errorf("%w: the stand-ins listen on loopback only (their keys are well known); give -addr 127.0.0.1:<port>", err)
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("%w: something (another stand-in, Azurite, the official emulator) already listens on %s; stop it or give another -addr", err, addr)
	}
	return err
}
