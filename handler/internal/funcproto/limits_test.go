package funcproto

import (
	"bufio"
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// bound is how long a test waits for an event the server must cause well
// before it; it bounds a broken server, it never paces a working one.
const bound = 10 * time.Second

const validPayload = `{"Data":{"message":"{}"},"Metadata":{"MessageId":"\"m-1\""}}`

// TestSecurityServerNeverPanicsWhateverItsLimit: no size limit, however
// absurd (an overflowed setting gave a negative one), makes a request
// panic outside the server's recover.
func TestSecurityServerNeverPanicsWhateverItsLimit(t *testing.T) {
	huge := int64(2_000_000_000_000_000_000)
	for _, limit := range []int64{math.MinInt64, -1, 0, 1, math.MaxInt64, PayloadLimit(int(huge)), huge*6 + 64<<10} {
		invoked := false
		srv := httptest.NewServer(NewServer(map[string]Function{
			"F": func(context.Context, Invocation) copyjob.Settlement { invoked = true; return copyjob.Complete },
		}, limit))
		resp, err := http.Post(srv.URL+"/F", "application/json", strings.NewReader(validPayload))
		if err != nil {
			t.Errorf("limit %d: %v", limit, err)
		} else if resp.Body.Close(); resp.StatusCode != http.StatusOK || !invoked {
			t.Errorf("limit %d: status %d, invoked %v", limit, resp.StatusCode, invoked)
		}
		srv.Close()
	}
}

func TestSecurityPayloadLimitSaturates(t *testing.T) {
	for in, want := range map[int]int64{-5: 64 << 10, 0: 64 << 10, 1024: 6*1024 + 64<<10, math.MaxInt: math.MaxInt64, 2_000_000_000_000_000_000: math.MaxInt64} {
		if got := PayloadLimit(in); got != want {
			t.Errorf("PayloadLimit(%d) = %d, want %d", in, got, want)
		}
	}
}

// lossServer serves F on loopback through HTTPServer with limits; F and
// every lost request are reported on channels.
type lossServer struct {
	addr    string
	invoked chan Invocation
	lost    chan error
	// requests are the contexts of the requests received, in order.
	requests chan context.Context
}

func startLossServer(t *testing.T, limits Limits, fn Function) *lossServer {
	t.Helper()
	ls := &lossServer{invoked: make(chan Invocation, 4), lost: make(chan error, 4), requests: make(chan context.Context, 4)}
	s := NewServer(map[string]Function{"F": func(ctx context.Context, inv Invocation) copyjob.Settlement {
		ls.invoked <- inv
		if fn != nil {
			return fn(ctx, inv)
		}
		return copyjob.Complete
	}}, 1<<20)
	s.Limits = limits
	s.OnRequestLost = func(_ Invocation, err error) { ls.lost <- err }
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := s.HTTPServer()
	hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ls.requests <- r.Context()
		s.ServeHTTP(w, r)
	})
	go func() { _ = hs.Serve(l) }()
	t.Cleanup(func() { _ = hs.Close() })
	ls.addr = l.Addr().String()
	return ls
}

// dial opens a raw connection that gives up after bound.
func (ls *lossServer) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", ls.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(bound))
	return c
}

func (ls *lossServer) waitLost(t *testing.T, want error) {
	t.Helper()
	select {
	case err := <-ls.lost:
		if !errors.Is(err, want) {
			t.Fatalf("lost with %v, want %v", err, want)
		}
	case inv := <-ls.invoked:
		t.Fatalf("the function was invoked with a body never read whole (DecodeErr %v)", inv.DecodeErr)
	case <-time.After(bound):
		t.Fatalf("no lost request reported within %s", bound)
	}
}

// TestSecurityStalledBodyIsCutAtItsDeadline: a client that sends headers
// and part of the body, then nothing, is answered 408 when the body
// deadline passes, and the function never runs.
func TestSecurityStalledBodyIsCutAtItsDeadline(t *testing.T) {
	ls := startLossServer(t, Limits{BodyTimeout: 50 * time.Millisecond}, nil)
	c := ls.dial(t)
	if _, err := c.Write([]byte("POST /F HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"Data\":")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d, want 408", resp.StatusCode)
	}
	ls.waitLost(t, ErrBodyStalled)
}

// TestSecurityStalledHeadersAreCut: a client that never finishes its
// headers is disconnected at the header deadline.
func TestSecurityStalledHeadersAreCut(t *testing.T) {
	ls := startLossServer(t, Limits{HeaderTimeout: 50 * time.Millisecond}, nil)
	c := ls.dial(t)
	if _, err := c.Write([]byte("POST /F HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server kept a stalled header open for %s", bound)
			}
			return // closed by the server
		}
	}
}

// TestSecurityOversizedHeadersAreRefused: headers past MaxHeaderBytes get
// 431 before any function runs.
func TestSecurityOversizedHeadersAreRefused(t *testing.T) {
	ls := startLossServer(t, Limits{}, nil)
	req, _ := http.NewRequest(http.MethodPost, "http://"+ls.addr+"/F", strings.NewReader(validPayload))
	req.Header.Set("X-Padding", strings.Repeat("p", DefaultLimits().MaxHeaderBytes+8<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || len(ls.invoked) > 0 {
		t.Fatalf("status %d, invoked %d", resp.StatusCode, len(ls.invoked))
	}
}

// TestSecurityHostGoneMidBodyIsNoInvocation: a client that hangs up in the
// middle of the body is reported as gone; the function does not run on the
// piece that arrived (it would reject a good message as malformed).
func TestSecurityHostGoneMidBodyIsNoInvocation(t *testing.T) {
	ls := startLossServer(t, Limits{}, nil)
	c := ls.dial(t)
	if _, err := c.Write([]byte("POST /F HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"Data\":")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	ls.waitLost(t, ErrClientGone)
}

// TestSecurityHostGoneDuringInvocation: the function's context does not
// end when the host hangs up (its work is bounded by its own timeout), and
// the lost answer is reported as the host going away.
func TestSecurityHostGoneDuringInvocation(t *testing.T) {
	hungUp := make(chan context.Context, 1)
	fnErr := make(chan error, 1)
	ls := startLossServer(t, Limits{}, func(ctx context.Context, _ Invocation) copyjob.Settlement {
		// Wait until the server has seen the hang-up: the request's own
		// context ends then.
		select {
		case <-(<-hungUp).Done():
			fnErr <- ctx.Err()
		case <-time.After(bound):
			fnErr <- errors.New("the request's context never ended")
		}
		return copyjob.Complete
	})
	c := ls.dial(t)
	if _, err := c.Write([]byte("POST /F HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(validPayload)) + "\r\n\r\n" + validPayload)); err != nil {
		t.Fatal(err)
	}
	request := <-ls.requests
	<-ls.invoked
	c.Close()
	hungUp <- request
	if err := <-fnErr; err != nil {
		t.Fatalf("the function's context ended with the connection: %v", err)
	}
	ls.waitLost(t, ErrClientGone)
}
