package busemu

// ListenLoopback starts a broker with opts on a free 127.0.0.1 port: what
// tests and `handler local` want. Its ConnectionString dials it; Close
// stops it.
func ListenLoopback(opts Options) (*Broker, error) {
	b, err := New(opts)
	if err != nil {
		return nil, err
	}
	if _, err := b.Listen("127.0.0.1:0"); err != nil {
		_ = b.Close()
		return nil, err
	}
	return b, nil
}
