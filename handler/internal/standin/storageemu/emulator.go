package storageemu

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// ServiceVersion is the x-ms-version the emulator answers with: the one
// azblob v1.8.3 sends.
const ServiceVersion = "2026-12-06"

// Emulator is the Blob endpoint. It is safe for concurrent use; one lock
// guards all state, which keeps every operation atomic like the service's.
type Emulator struct {
	opts   Options
	faults *faultTable

	mu         sync.Mutex
	accounts   map[string]*account
	generation uint64 // last blob generation handed out
}

// New returns an Emulator. It panics when opts do not validate, like a
// constructor given a programming error; call opts.Validate first to handle it.
func New(opts Options) *Emulator {
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	opts.setDefaults()
	e := &Emulator{opts: opts, accounts: map[string]*account{}, faults: newFaultTable(opts.Chaos)}
	for _, a := range opts.Accounts {
		e.accounts[a.Name] = newAccount(a)
	}
	return e
}

// request is one call being served.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	t    target
	op   Operation
	acct *account
	// sharedKey is true when the request is signed with acct's key.
	sharedKey bool
	now       time.Time
	// body is the request body, read before the state lock was taken (nil
	// for operations without one).
	body []byte
	// stream, when set by a handler, writes the response body after the
	// state lock is released.
	stream func(io.Writer)
}

// handlers run one operation under the lock; a non-nil error is answered.
var handlers = map[Operation]func(*Emulator, *request) *storageError{
	OpCreateContainer:        (*Emulator).createContainer,
	OpDeleteContainer:        (*Emulator).deleteContainer,
	OpGetContainerProperties: (*Emulator).getContainerProperties,
	OpSetContainerACL:        (*Emulator).setContainerACL,
	OpListBlobs:              (*Emulator).listBlobs,
	OpPutBlob:                (*Emulator).putBlob,
	OpPutPage:                (*Emulator).putPage,
	OpClearPage:              (*Emulator).clearPage,
	OpGetPageRanges:          (*Emulator).getPageRanges,
	OpGetBlob:                (*Emulator).getBlob,
	OpGetBlobProperties:      (*Emulator).getBlobProperties,
	OpSnapshotBlob:           (*Emulator).snapshotBlob,
	OpDeleteBlob:             (*Emulator).deleteBlob,
	OpCopyBlob:               (*Emulator).copyBlob,
	OpIncrementalCopy:        (*Emulator).incrementalCopy,
	OpAbortCopy:              (*Emulator).abortCopy,
}

// ServeHTTP answers one REST call.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newUUID()
	h := w.Header()
	h.Set("x-ms-request-id", requestID)
	h.Set("x-ms-version", ServiceVersion)
	h.Set("Date", e.opts.Clock.Now().UTC().Format(http.TimeFormat))
	h.Set("Server", "snapcopy-storageemu")
	if id := r.Header.Get("x-ms-client-request-id"); id != "" {
		h.Set("x-ms-client-request-id", id)
	}

	t := parseTarget(r.URL)
	op := classify(r, t)
	if err := unsupported(r, op); err != nil {
		writeError(w, r, requestID, err)
		return
	}
	if err := e.faults.before(r.Context(), op, t, e.opts.Sleep); err != nil {
		writeError(w, r, requestID, err)
		return
	}

	body, err := readBody(op, r)
	if err == nil {
		err = unsupportedBody(op, body)
	}
	if err != nil {
		writeError(w, r, requestID, err)
		return
	}
	if stream := e.serveLocked(w, r, requestID, t, op, body); stream != nil && r.Method != http.MethodHead {
		stream(w)
	}
}

// serveLocked authorizes and runs the operation under the state lock and
// returns the body still to stream, if any.
func (e *Emulator) serveLocked(w http.ResponseWriter, r *http.Request, requestID string, t target, op Operation, body []byte) func(io.Writer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	acct, ok := e.accounts[t.account]
	if !ok {
		writeError(w, r, requestID, errAccountNotFound)
		return nil
	}
	if err := e.authorize(r, acct, t, op); err != nil {
		writeError(w, r, requestID, err)
		return nil
	}
	req := &request{w: w, r: r, t: t, op: op, acct: acct, now: e.now(), body: body,
		sharedKey: r.Header.Get("Authorization") != ""} // authorize accepts no other scheme
	if err := handlers[op](e, req); err != nil {
		writeError(w, r, requestID, err)
		return nil
	}
	return req.stream
}

// nextGeneration numbers a new creation of a base blob.
func (e *Emulator) nextGeneration() uint64 {
	e.generation++
	return e.generation
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// newETag returns a quoted, unique entity tag like the service's.
func newETag() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("\"0x%X\"", b)
}
