package storageemu

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
)

// rawConnGuard bounds how long a hand-written request may wait for its
// answer, so that a regression fails the test instead of hanging it.
const rawConnGuard = 30 * time.Second

// rawPut sends a PUT to the emulator by hand on a new connection: the
// headers, a declared Content-Length and only the given body bytes, which
// may be fewer than declared. It returns the connection, still open.
func rawPut(t *testing.T, srvURL, pathAndQuery string, headers map[string]string, contentLength int64, body []byte) net.Conn {
	t.Helper()
	u, err := url.Parse(srvURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(rawConnGuard)); err != nil {
		t.Fatal(err)
	}
	var req strings.Builder
	fmt.Fprintf(&req, "PUT %s HTTP/1.1\r\nHost: %s\r\nx-ms-version: %s\r\n", pathAndQuery, u.Host, ServiceVersion)
	if contentLength >= 0 {
		fmt.Fprintf(&req, "Content-Length: %d\r\n", contentLength)
	} else {
		req.WriteString("Transfer-Encoding: chunked\r\n")
	}
	for k, v := range headers {
		fmt.Fprintf(&req, "%s: %s\r\n", k, v)
	}
	req.WriteString("\r\n")
	if _, err := conn.Write(append([]byte(req.String()), body...)); err != nil {
		t.Fatal(err)
	}
	return conn
}

func readStatus(t *testing.T, conn net.Conn) (int, string) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("x-ms-error-code")
}

// writeSASPath is the path and query of a blob with a write SAS.
func (e *env) writeSASPath(containerName, blobName string) string {
	return "/" + DevAccountName + "/" + containerName + "/" + blobName + "?comp=page&" +
		e.blobSAS(DevAccount, containerName, blobName, "", "w", testStart.Add(-time.Hour), testStart.Add(time.Hour))
}

func TestSecurityPutPageOverFourMiBRefused(t *testing.T) {
	e, pb := newPageEnv(t)
	ctx := context.Background()
	_, err := pb.UploadPages(ctx, nopCloser{bytes.NewReader(make([]byte, 4<<20+512))}, rangeAt(0, 4<<20+512), nil)
	wantError(t, err, http.StatusRequestEntityTooLarge, "RequestBodyTooLarge")
	if got := pageRanges(t, pb, nil); len(got) != 0 {
		t.Fatalf("a refused Put Page wrote %v", got)
	}
	e.uploadPages(pb, 0, pattern(1, 4<<20)) // the limit itself is allowed
}

// TestSecurityPutPageHugeContentLength claims 64 GiB and sends 512 bytes:
// the emulator must refuse it from the header alone, before reading the
// body or allocating a buffer for it.
func TestSecurityPutPageHugeContentLength(t *testing.T) {
	e, _ := newPageEnv(t)
	e.createPageBlob(DevAccount, "cont", "huge", 8<<40, nil) // the range lies within it
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	conn := rawPut(t, e.srv.URL, e.writeSASPath("cont", "huge"),
		map[string]string{"x-ms-range": "bytes=0-68719476735", "x-ms-page-write": "update"}, 64<<30, make([]byte, 512))
	status, code := readStatus(t, conn)
	runtime.ReadMemStats(&after)
	if status != http.StatusRequestEntityTooLarge || code != "RequestBodyTooLarge" {
		t.Fatalf("got %d %s, want 413 RequestBodyTooLarge", status, code)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 16<<20 {
		t.Fatalf("refusing the request allocated %d bytes", grown)
	}
}

func TestSecurityPutPageWithoutContentLength(t *testing.T) {
	e, _ := newPageEnv(t)
	conn := rawPut(t, e.srv.URL, e.writeSASPath("cont", "disk"),
		map[string]string{"x-ms-range": "bytes=0-511", "x-ms-page-write": "update"}, -1, []byte("200\r\n"+string(make([]byte, 512))+"\r\n0\r\n\r\n"))
	if status, code := readStatus(t, conn); status != http.StatusLengthRequired || code != "MissingContentLengthHeader" {
		t.Fatalf("got %d %s, want 411 MissingContentLengthHeader", status, code)
	}
}

func TestSecurityBlockBlobOverLimitRefused(t *testing.T) {
	e, _ := newPageEnv(t)
	c, err := blockblob.NewClientWithSharedKeyCredential(e.blobURL(DevAccount, "cont", "big"), e.credential(DevAccount),
		&blockblob.ClientOptions{ClientOptions: *clientOptions()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Upload(context.Background(), nopCloser{bytes.NewReader(make([]byte, maxPutBlobBytes+1))}, nil)
	wantError(t, err, http.StatusNotImplemented, "APINotImplemented")
}

func TestSecurityPageBlobSizeLimit(t *testing.T) {
	e, _ := newPageEnv(t)
	ctx := context.Background()
	pb := e.pageBlob(DevAccount, "cont", "huge")
	if _, err := pb.Create(ctx, 8<<40, nil); err != nil {
		t.Fatalf("8 TiB, the service's maximum: %v", err)
	}
	for _, size := range []int64{8<<40 + 512, 1<<63 - 512} {
		_, err := pb.Create(ctx, size, nil)
		wantError(t, err, http.StatusBadRequest, "InvalidHeaderValue")
	}
	if p, err := pb.GetProperties(ctx, nil); err != nil || *p.ContentLength != 8<<40 {
		t.Fatalf("a refused create changed the blob: %v", err)
	}
}

// TestSecurityClearWholeHugeBlob clears every page of an 8 TiB blob: the
// work must follow the pages stored, not the pages addressed (the old
// per-page loop ran for minutes; BenchmarkClearPages measures it).
func TestSecurityClearWholeHugeBlob(t *testing.T) {
	e, _ := newPageEnv(t)
	ctx := context.Background()
	const size = 8 << 40
	pb := e.createPageBlob(DevAccount, "cont", "huge", size, map[int64][]byte{
		0: pattern(1, 512), 4 << 40: pattern(2, 1024), size - 512: pattern(3, 512),
	})
	if _, err := pb.ClearPages(ctx, rangeAt(512, size-1024), nil); err != nil {
		t.Fatal(err)
	}
	if got, want := pageRanges(t, pb, nil), [][2]int64{{0, 511}, {size - 512, size - 1}}; !equalRanges(got, want) {
		t.Fatalf("after clearing the middle: %v, want %v", got, want)
	}
	if _, err := pb.ClearPages(ctx, rangeAt(0, size), nil); err != nil {
		t.Fatal(err)
	}
	if got := pageRanges(t, pb, nil); len(got) != 0 {
		t.Fatalf("after clearing everything: %v", got)
	}
}

// signalBody tells when the server first reads a request body.
type signalBody struct {
	io.ReadCloser
	reading chan struct{}
	once    bool
}

func (b *signalBody) Read(p []byte) (int, error) {
	if !b.once {
		b.once = true
		close(b.reading)
	}
	return b.ReadCloser.Read(p)
}

// TestSecurityStalledBodyHoldsNoLock stalls a Put Page mid-body: while the
// emulator waits for the rest, its state lock must be free and other
// requests must be answered.
func TestSecurityStalledBodyHoldsNoLock(t *testing.T) {
	e, pb := newPageEnv(t)
	reading := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Query().Get("comp") == "page" {
			r.Body = &signalBody{ReadCloser: r.Body, reading: reading}
		}
		e.emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	conn := rawPut(t, srv.URL, e.writeSASPath("cont", "disk"),
		map[string]string{"x-ms-range": "bytes=0-1023", "x-ms-page-write": "update"}, 1024, make([]byte, 512))
	<-reading
	if !e.emu.mu.TryLock() {
		conn.Close() // lets the stalled handler finish before the test ends
		t.Fatal("the state lock is held while a request body is read")
	}
	e.emu.mu.Unlock()
	if _, err := pb.GetProperties(context.Background(), nil); err != nil {
		t.Fatalf("another request while a body stalls: %v", err)
	}
	conn.Close()
	if got := pageRanges(t, pb, nil); len(got) != 0 {
		t.Fatalf("an incomplete Put Page wrote %v", got)
	}
}

// BenchmarkClearPages clears a whole blob holding 64 written pages: the time
// per clear must not grow with the blob's size.
func BenchmarkClearPages(b *testing.B) {
	for _, size := range []int64{1 << 30, 8 << 40} {
		b.Run(fmt.Sprintf("size=%dGiB", size>>30), func(b *testing.B) {
			for b.Loop() {
				s := pageSet{}
				for i := range int64(64) {
					s.write(i*(size/64), make([]byte, pageSize))
				}
				s.clear(0, size)
				if len(s) != 0 {
					b.Fatalf("%d pages left", len(s))
				}
			}
		})
	}
}
