package busemu

// Bounds on what one client connection can make busemu hold. Authentication
// happens over `$cbs` after the connection is open, so everything a peer can
// do before its first put-token (open sessions, attach `$cbs` links, send
// requests, stop reading) must cost busemu a bounded amount of memory.
const (
	// channelMax and handleMax are what Service Bus announces in open and
	// begin; a peer that uses a larger channel or handle gets the
	// connection closed with framing-error, as the AMQP spec asks.
	channelMax uint16 = 4999
	handleMax  uint32 = 255
	// maxLinksPerConnection caps attached links across a connection's
	// sessions (channelMax × handleMax would allow over a million).
	// azservicebus uses two or three per sender, receiver or token request.
	maxLinksPerConnection = 1024
	// cbsMaxMessageSize caps one `$cbs` request: a SAS token is a few
	// hundred bytes and an Entra ID token a few KiB.
	cbsMaxMessageSize uint64 = 16 << 10
	// assemblyBudgetMessages is how many maximum-size messages one
	// authenticated connection may have in flight at once (multi-frame
	// deliveries not yet complete). Before its first put-token a
	// connection may only hold one `$cbs` request.
	assemblyBudgetMessages = 4
	// maxPendingReplies caps RPC replies waiting for a reply link's
	// credit; past it the reply link is detached.
	maxPendingReplies = 256
	// maxQueuedOutput caps the encoded frames waiting for a peer that does
	// not read; past it the connection is dropped. It leaves room for a
	// receiver holding a few hundred credits of maximum-size messages.
	maxQueuedOutput = 64 << 20
	// maxDecodeDepth caps nesting in decoded AMQP values (described types,
	// lists, maps); Service Bus messages and requests nest a few levels.
	maxDecodeDepth = 32
)
