package busemu

// RPC status codes as Service Bus uses them (HTTP semantics).
const (
	statusOK           int32 = 200
	statusAccepted     int32 = 202
	statusNoContent    int32 = 204
	statusBadRequest   int32 = 400
	statusUnauthorized int32 = 401
	statusNotFound     int32 = 404
	statusTimeout      int32 = 408
	statusLockLost     int32 = 410
	statusInternal     int32 = 500
	statusNotImpl      int32 = 501
	statusBusy         int32 = 503
)

// rpcResult is the answer to one `$cbs` or `$management` request.
type rpcResult struct {
	status      int32
	description string
	condition   Symbol // optional error-condition property
	body        any    // amqp-value body, nil for none
}

func rpcError(status int32, cond Symbol, description string) rpcResult {
	return rpcResult{status: status, condition: cond, description: description}
}

// refusalResult maps an injected refusal to the status a real namespace
// would answer, so azservicebus classifies it the same way.
func refusalResult(e *amqpError) rpcResult {
	status := statusInternal
	switch e.Condition {
	case CondServerBusy:
		status = statusBusy
	case CondTimeout:
		status = statusTimeout
	case CondUnauthorized:
		status = statusUnauthorized
	case CondNotFound:
		status = statusNotFound
	case CondLockLost:
		status = statusLockLost
	}
	return rpcError(status, e.Condition, e.Description)
}

// onRequest accepts a request delivery, runs the operation and routes the
// reply to the client's receiver whose address the request names in reply-to.
func (l *inLink) onRequest(in *incoming) {
	req, err := parseMessage(in.payload)
	if err != nil {
		l.settleIncoming(in, stateRejected(&amqpError{Condition: CondDecodeError, Description: err.Error()}))
		return
	}
	l.settleIncoming(in, stateAccepted())
	op := req.appProperties.String("operation")
	c := l.s.c
	faultOp, entity := managementFault(op), l.path
	if l.kind == inCBS {
		faultOp, entity = OpPutToken, normalizePath(req.appProperties.String("name"))
	}
	c.withFault(faultOp, entity, func(refusal *amqpError) {
		var res rpcResult
		switch {
		case refusal != nil:
			res = refusalResult(refusal)
		case l.kind == inCBS:
			res = c.putToken(op, req)
		default:
			c.b.tickLocked()
			res = c.b.manage(l.path, op, req)
		}
		c.reply(req, res)
	})
}

// reply encodes res as a response to req and sends it on the reply link.
func (c *conn) reply(req *message, res rpcResult) {
	replyTo := asString(req.property(propReplyTo))
	l, ok := c.replyLinks[replyTo]
	if !ok {
		c.b.logf("no reply link for %q", replyTo)
		return
	}
	m := &message{appProperties: Map{
		{Key: "status-code", Value: res.status},
		{Key: "status-description", Value: res.description},
	}}
	if res.condition != "" {
		m.appProperties = append(m.appProperties, MapEntry{Key: "error-condition", Value: res.condition})
	}
	m.setProperty(propCorrelationID, req.property(propMessageID))
	if res.body != nil {
		m.body = []Described{{Descriptor: descAMQPValue, Value: res.body}}
	}
	payload, err := m.encode()
	if err != nil {
		c.b.logf("encode reply: %v", err)
		return
	}
	l.sendReply(payload)
}
