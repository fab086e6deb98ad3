// Package busemu is a pure-Go AMQP 1.0 stand-in for Azure Service Bus, good
// enough for the real, unmodified azservicebus client to send, schedule,
// receive and settle messages against it on loopback.
//
// It speaks AMQP 1.0 framing with its own codec, SASL ANONYMOUS and PLAIN,
// the `$cbs` claims-based-security handshake with SAS token checks, and the
// `$management` operations azservicebus uses (schedule, cancel, peek,
// renew-lock, update-disposition). Entities are queues, topics and their
// subscriptions with dead-letter sub-queues; time comes from an injectable
// clock so scheduled delivery, lock expiry and TTL can run on simulated time.
// See README.md for scope and known differences from the real service.
package busemu
