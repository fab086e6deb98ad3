package funchost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// PortSetting is the variable through which the Functions host tells a
// custom handler where to listen.
const PortSetting = "FUNCTIONS_CUSTOMHANDLER_PORT"

// Process is a custom handler running as a child process, started the way
// the Functions host starts it.
type Process struct {
	// BaseURL is where the handler listens: http://127.0.0.1:PORT.
	BaseURL string
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error // the process's exit, set before exited is closed
}

// readinessInterval is how often StartProcess probes GET /, as the host does
// while it waits for a custom handler to come up.
const readinessInterval = 10 * time.Millisecond

// ErrExited reports a handler process that ended before it was ready.
var ErrExited = errors.New("funchost: the handler process exited")

// StartProcess runs the handler binary at path with env (KEY=value) plus
// PortSetting set to a free loopback port, and returns once GET / answers
// 200, the process exits (ErrExited), or ctx ends (the process is killed).
func StartProcess(ctx context.Context, path string, env []string, stdout, stderr io.Writer) (*Process, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path)
	cmd.Env = append(env, PortSetting+"="+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{BaseURL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	if err := p.awaitReady(ctx); err != nil {
		_ = cmd.Process.Kill()
		<-p.exited
		return nil, err
	}
	return p, nil
}

// freePort picks a loopback port nobody listens on; the host does the same
// before it starts the handler.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (p *Process) awaitReady(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(readinessInterval)
	defer tick.Stop()
	for {
		if resp, err := client.Get(p.BaseURL + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("funchost: the handler did not answer GET / : %w", ctx.Err())
		case <-p.exited:
			return fmt.Errorf("%w before it was ready: %v", ErrExited, p.err)
		case <-tick.C:
		}
	}
}

// Stop asks the handler to shut down (SIGTERM, as the host does when it
// stops an instance), waits up to grace for it to drain and exit, then
// kills it. It returns the process's exit error: nil for a clean exit.
func (p *Process) Stop(grace time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.exited:
		return p.err
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("funchost: the handler did not exit within %s of SIGTERM; killed", grace)
	}
}
