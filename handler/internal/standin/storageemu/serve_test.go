package storageemu

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestServeLoopbackAndShutdown(t *testing.T) {
	if err := Serve(context.Background(), "0.0.0.0:0", Options{}, nil); !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("non-loopback address: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, "127.0.0.1:0", Options{}, func(a string) { addrs <- a }) }()
	var addr string
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not become ready")
	}
	e := &env{t: t}
	c, err := newPageBlobClient("http://"+addr+"/devstoreaccount1/cont/b", e.credential(DevAccount))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetProperties(context.Background(), nil)
	wantError(t, err, 404, "ContainerNotFound")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}
