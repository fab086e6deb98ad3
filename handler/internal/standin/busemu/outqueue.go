package busemu

import "sync"

// outQueue is an unbounded queue of encoded frames for one connection's
// writer, so code holding the broker lock never blocks on the network.
type outQueue struct {
	mu      sync.Mutex
	frames  [][]byte
	closing bool // write what is queued, then close the connection
	notify  chan struct{}
}

func newOutQueue() *outQueue { return &outQueue{notify: make(chan struct{}, 1)} }

func (q *outQueue) push(f []byte) {
	q.mu.Lock()
	if !q.closing {
		q.frames = append(q.frames, f)
	}
	q.mu.Unlock()
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
	q.frames = nil
	return f, q.closing
}
