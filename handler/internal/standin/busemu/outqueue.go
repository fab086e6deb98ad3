package busemu

import "sync"

// outQueue is the queue of encoded frames for one connection's writer, so
// code holding the broker lock never blocks on the network. It holds at
// most limit bytes: a peer that stops reading would otherwise make it grow
// without end, so past the limit the queue drops its frames and calls
// overflow (which closes the socket, ending a writer blocked on it).
type outQueue struct {
	mu       sync.Mutex
	frames   [][]byte
	bytes    int // sum of len(frames)
	limit    int
	closing  bool // write what is queued, then close the connection
	notify   chan struct{}
	overflow func()
}

func newOutQueue(limit int, overflow func()) *outQueue {
	return &outQueue{notify: make(chan struct{}, 1), limit: limit, overflow: overflow}
}

func (q *outQueue) push(f []byte) {
	q.mu.Lock()
	overflowed := false
	switch {
	case q.closing:
	case q.bytes+len(f) > q.limit:
		q.frames, q.bytes, q.closing, overflowed = nil, 0, true, true
	default:
		q.frames = append(q.frames, f)
		q.bytes += len(f)
	}
	q.mu.Unlock()
	if overflowed {
		q.overflow()
	}
	q.signal()
}

// closeAfterFlush asks the writer to close once everything queued is written.
func (q *outQueue) closeAfterFlush() {
	q.mu.Lock()
	q.closing = true
	q.mu.Unlock()
	q.signal()
}

func (q *outQueue) signal() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// take returns and clears the queued frames, and whether to close after them.
func (q *outQueue) take() ([][]byte, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	f := q.frames
	q.frames, q.bytes = nil, 0
	return f, q.closing
}

// queued is the number of bytes waiting for the writer.
func (q *outQueue) queued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes
}
