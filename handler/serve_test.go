package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/config"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestServeAnswersReadinessAndStops runs the command the Functions host
// runs: app settings from the environment, the port from
// FUNCTIONS_CUSTOMHANDLER_PORT, any answer to GET / means ready.
func TestServeAnswersReadinessAndStops(t *testing.T) {
	port := freePort(t)
	t.Setenv(config.SettingPort, strconv.Itoa(port))
	t.Setenv(config.SettingServiceBusConnection, "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true")
	t.Setenv(config.SettingStorageConnectionString, storageemu.ConnectionString("http://127.0.0.1:1", storageemu.DevAccount))
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, nil, &out, &errOut) }()

	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	deadline := time.Now().Add(10 * time.Second)
	var resp *http.Response
	var err error
	for time.Now().Before(deadline) {
		// Polling the port is how the host itself waits for readiness.
		if resp, err = http.Get(url); err == nil {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err != nil {
		t.Fatalf("never ready: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("readiness status %d", resp.StatusCode)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d after shutdown: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "snapcopy handler listening") {
		t.Fatalf("no start-up log line: %s", out.String())
	}
}

func TestServeRefusesBadSettings(t *testing.T) {
	t.Setenv(config.SettingPort, "")
	t.Setenv(config.SettingServiceBusConnection, "")
	t.Setenv(config.SettingServiceBusNamespace, "")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, &out, &errOut); code == 0 {
		t.Fatal("serve started without settings")
	}
	if !strings.Contains(errOut.String(), config.SettingServiceBusConnection) {
		t.Fatalf("error does not name the missing setting: %s", errOut.String())
	}
}
