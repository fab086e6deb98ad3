// Package hostsim stands in for the Azure Functions host and its Service
// Bus trigger, for tests and local runs without Azure.
//
// It has three parts:
//   - Broker: in-memory queues and topics with Service Bus semantics
//     (scheduled delivery, peek-lock, abandon and lock expiry with
//     redelivery, MaxDeliveryCount → dead-letter, duplicate detection,
//     sequence numbers, TTL) on an injectable clock, with inspection and
//     fault injection. Broker.Sender gives the handler a sender shaped like
//     *azservicebus.Sender.
//   - Host: receives from a Source per function (the in-memory broker or a
//     real *azservicebus.Receiver), posts invocation payloads encoded the
//     way the real host encodes them, and settles by the answer: 2xx with a
//     JSON body completes, anything else abandons.
//   - StartProcess: runs a custom handler as a child process with
//     FUNCTIONS_CUSTOMHANDLER_PORT, waiting for readiness like the host.
//
// RunUntilIdle drives a whole chain of scheduled messages on a fake clock in
// milliseconds; Run serves on the real clock until its context ends.
package hostsim
