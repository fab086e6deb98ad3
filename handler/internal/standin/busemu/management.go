package busemu

import (
	"fmt"
	"slices"
	"time"
)

// `$management` operations busemu implements (azservicebus internal/mgmt.go).
const (
	opSchedule          = "com.microsoft:schedule-message"
	opCancelScheduled   = "com.microsoft:cancel-scheduled-message"
	opPeek              = "com.microsoft:peek-message"
	opRenewLock         = "com.microsoft:renew-lock"
	opUpdateDisposition = "com.microsoft:update-disposition"
)

// manage runs one management operation on the entity at path. Caller holds b.mu.
func (b *Broker) manage(path, op string, req *message) rpcResult {
	body, _ := req.value().(Map)
	switch op {
	case opSchedule, opCancelScheduled:
		n, err := b.resolveNode(path)
		if err != nil {
			return notFound(err)
		}
		if op == opSchedule {
			return b.scheduleMessages(n, body)
		}
		return cancelScheduled(n, body)
	case opPeek, opRenewLock, opUpdateDisposition:
		st, err := b.resolveStore(path)
		if err != nil {
			return notFound(err)
		}
		switch op {
		case opPeek:
			return b.peek(st, body)
		case opRenewLock:
			return b.renewLocks(st, body)
		}
		return updateDisposition(st, body)
	}
	return rpcError(statusNotImpl, CondNotImplemented, "busemu does not implement "+op)
}

func notFound(err error) rpcResult {
	return rpcError(statusNotFound, CondNotFound, err.Error())
}

// scheduleMessages holds each message until its x-opt-scheduled-enqueue-time
// and answers their sequence numbers as an AMQP array of long (azservicebus
// rejects a list). Duplicates get a number but are dropped, as in Service Bus.
func (b *Broker) scheduleMessages(n *node, body Map) rpcResult {
	raw, _ := body.Get("messages")
	entries, _ := raw.([]any)
	if len(entries) == 0 {
		return rpcError(statusBadRequest, CondDecodeError, "no messages to schedule")
	}
	now := b.now()
	var seqs []int64
	for _, e := range entries {
		entry, _ := e.(Map)
		data, _ := entry.Get("message")
		encoded, ok := data.([]byte)
		if !ok {
			return rpcError(statusBadRequest, CondDecodeError, "scheduled entry without an encoded message")
		}
		m, err := parseMessage(encoded)
		if err != nil {
			return rpcError(statusBadRequest, CondDecodeError, err.Error())
		}
		at, ok := scheduledTime(m)
		if !ok {
			return rpcError(statusBadRequest, CondDecodeError, "message without "+annScheduledEnqueueTime)
		}
		if n.isDuplicate(m.messageID(), now) {
			seqs = append(seqs, n.nextSeq())
			continue
		}
		seqs = append(seqs, n.schedule(m, at))
	}
	b.applyDue() // a time in the past is due at once
	return rpcResult{status: statusOK, body: Map{{Key: "sequence-numbers", Value: longArray(seqs)}}}
}

// cancelScheduled deletes scheduled messages; unknown numbers are ignored.
func cancelScheduled(n *node, body Map) rpcResult {
	raw, _ := body.Get("sequence-numbers")
	for _, v := range arrayItems(raw) {
		if seq, ok := asInt64(v); ok {
			delete(n.scheduled, seq)
		}
	}
	return rpcResult{status: statusOK}
}

// peek returns up to message-count messages from from-sequence-number on,
// without locking them: active, locked and (for queues) scheduled ones.
func (b *Broker) peek(st *store, body Map) rpcResult {
	fromRaw, _ := body.Get("from-sequence-number")
	countRaw, _ := body.Get("message-count")
	from, _ := asInt64(fromRaw)
	count, _ := asInt64(countRaw)
	var all []*storedMessage
	all = append(all, st.active...)
	for _, sm := range st.locked {
		all = append(all, sm)
	}
	if n, err := b.resolveNode(st.path); err == nil && n.queue == st {
		for _, sm := range n.scheduled {
			all = append(all, sm)
		}
	}
	slices.SortFunc(all, func(a, b *storedMessage) int { return int(a.seq - b.seq) })
	var out []any
	for _, sm := range all {
		if sm.seq < from || int64(len(out)) >= count {
			continue
		}
		encoded, err := peekedCopy(sm).encode()
		if err != nil {
			return rpcError(statusInternal, CondInternalError, err.Error())
		}
		out = append(out, Map{{Key: "message", Value: encoded}})
	}
	if len(out) == 0 {
		return rpcResult{status: statusNoContent}
	}
	return rpcResult{status: statusOK, body: Map{{Key: "messages", Value: out}}}
}

// peekedCopy is the message as peek shows it: system annotations, no lock.
func peekedCopy(sm *storedMessage) *message {
	m := sm.msg.clone()
	m.setHeader(hdrDeliveryCount, sm.failedDeliveries)
	m.annotations = m.annotations.Set(Symbol(annSequenceNumber), sm.seq)
	state := int32(0)
	if sm.scheduledAt.IsZero() {
		m.annotations = m.annotations.Set(Symbol(annEnqueuedTime), sm.enqueued)
	} else {
		state = 2
	}
	m.annotations = m.annotations.Set(Symbol(annMessageState), state)
	if sm.deadLetterSource != "" {
		m.annotations = m.annotations.Set(Symbol(annDeadLetterSource), sm.deadLetterSource)
	}
	return m
}

// renewLocks extends each lock by the entity's lock duration from now.
func (b *Broker) renewLocks(st *store, body Map) rpcResult {
	raw, _ := body.Get("lock-tokens")
	var expirations []time.Time
	for _, v := range arrayItems(raw) {
		tok, _ := v.(UUID)
		sm, ok := st.locked[tok]
		if !ok {
			return rpcError(statusLockLost, CondLockLost, "the lock "+tok.String()+" was lost (expired or settled)")
		}
		sm.lockedUntil = b.now().Add(st.props.lockDuration)
		expirations = append(expirations, sm.lockedUntil)
	}
	b.nudge()
	return rpcResult{status: statusOK, body: Map{{Key: "expirations", Value: timestampArray(expirations)}}}
}

// updateDisposition settles by lock token, the path azservicebus takes when
// the receiving link is gone.
func updateDisposition(st *store, body Map) rpcResult {
	status := body.String("disposition-status")
	raw, _ := body.Get("lock-tokens")
	for _, v := range arrayItems(raw) {
		tok, _ := v.(UUID)
		sm, ok := st.unlock(tok)
		if !ok {
			return rpcError(statusLockLost, CondLockLost, "the lock "+tok.String()+" was lost (expired or settled)")
		}
		switch status {
		case "completed":
		case "abandoned":
			st.release(sm, true)
		case "suspended":
			st.deadLetter(sm, body.String("deadletter-reason"), body.String("deadletter-description"))
		default:
			st.locked[tok] = sm
			return rpcError(statusNotImpl, CondNotImplemented, fmt.Sprintf("disposition %q is not supported", status))
		}
	}
	return rpcResult{status: statusOK}
}

// arrayItems reads an AMQP array or list as items.
func arrayItems(v any) []any {
	switch x := v.(type) {
	case Array:
		return x.Items
	case []any:
		return x
	}
	return nil
}
