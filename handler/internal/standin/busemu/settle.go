package busemu

// Application properties azservicebus sets when dead-lettering (Rejected info).
const (
	propDeadLetterReason      = "DeadLetterReason"
	propDeadLetterDescription = "DeadLetterErrorDescription"
)

// settle applies the client's outcome for a peek-locked delivery: Accepted
// completes, Released returns it, Modified abandons it (delivery count + 1),
// Rejected dead-letters it. Unless the client settled already (receiver
// settle mode first), busemu answers with a settled disposition; without
// it azservicebus's CompleteMessage waits forever.
func (d *outDelivery) settle(id uint32, state any, clientSettled bool) {
	code, fields, _ := described(state)
	op := OpComplete
	switch code {
	case descModified, descReleased:
		op = OpAbandon
	case descRejected:
		op = OpDeadLetter
	}
	s := d.link.s
	s.c.withFault(op, d.store.path, func(refusal *amqpError) {
		result := stateRejected(refusal)
		if refusal == nil {
			result = d.apply(code, fields)
		}
		if !clientSettled {
			s.sendDisposition(roleSender, id, result)
		}
	})
}

// apply changes the store for one outcome and returns the state to answer.
func (d *outDelivery) apply(code uint64, fields []any) Described {
	sm, ok := d.store.unlock(d.token)
	if !ok {
		return stateRejected(&amqpError{Condition: CondLockLost, Description: "the lock on the message was lost (expired or already settled)"})
	}
	switch code {
	case descAccepted:
		return stateAccepted()
	case descReleased:
		d.store.release(sm, false)
		return stateReleased()
	case descModified:
		if ann, ok := field(fields, 2).(Map); ok {
			for _, e := range ann {
				sm.msg.annotations = sm.msg.annotations.Set(e.Key, e.Value)
			}
		}
		d.store.release(sm, true)
		return describedList(descModified, field(fields, 0), field(fields, 1))
	case descRejected:
		reason, description := "", ""
		if e := parseError(field(fields, 0)); e != nil {
			for _, kv := range e.Info {
				switch k := asString(kv.Key); k {
				case propDeadLetterReason:
					reason = asString(kv.Value)
				case propDeadLetterDescription:
					description = asString(kv.Value)
				default:
					sm.msg.appProperties = sm.msg.appProperties.Set(k, kv.Value)
				}
			}
		}
		d.store.deadLetter(sm, reason, description)
		return stateRejected(nil)
	}
	// An unknown outcome: keep the message locked as if nothing happened.
	d.store.locked[d.token] = sm
	sm.holder = d.link
	return stateRejected(&amqpError{Condition: CondNotImplemented, Description: "unsupported delivery state"})
}
