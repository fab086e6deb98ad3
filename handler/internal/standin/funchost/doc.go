// Package funchost stands in for the Azure Functions host and its Service
// Bus trigger, offline. A Host listens on each function's queue through a
// Source — a real azservicebus receiver (on busemu or Azure) or the
// in-memory Broker — posts invocation payloads encoded the way the real
// host encodes them to a custom handler over HTTP, and settles by the
// answer: 2xx with a JSON body completes, anything else (or a timeout)
// abandons. The Broker is an in-memory namespace with Service Bus semantics
// (scheduled delivery, peek-lock, abandon with immediate redelivery,
// MaxDeliveryCount → dead-letter, duplicate detection, topics fanning out
// to subscriptions). Time is injected: RunUntilIdle moves a fake clock to
// whatever falls due next, so a whole chain of scheduled polls runs in
// milliseconds.
package funchost
