package busemu

// Stats counts what the broker holds for its clients, so tests can bound
// the memory a peer makes it use by observation instead of timing.
type Stats struct {
	Connections int
	Sessions    int
	Links       int
	// AssemblingBytes is the payload of multi-frame deliveries whose last
	// frame has not arrived; PeakAssemblingBytes is its highest value
	// since New.
	AssemblingBytes     int
	PeakAssemblingBytes int
	// PendingReplies are RPC replies waiting for their reply link's credit.
	PendingReplies int
	// QueuedOutputBytes are encoded frames waiting for the network.
	QueuedOutputBytes int
}

// Stats reports the broker's current counters.
func (b *Broker) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := Stats{Connections: len(b.conns), AssemblingBytes: b.assembling, PeakAssemblingBytes: b.peakAssembling}
	for c := range b.conns {
		st.QueuedOutputBytes += c.out.queued()
		st.Sessions += len(c.sessions)
		st.Links += c.linkCount()
		for _, s := range c.sessions {
			for _, l := range s.outLinks {
				st.PendingReplies += len(l.replies)
			}
		}
	}
	return st
}
