// Package funchost stands in for the Azure Functions host and its Service
// Bus trigger, offline: an in-memory broker with Service Bus semantics
// (scheduled delivery, peek-lock, complete, abandon with immediate
// redelivery, MaxDeliveryCount → dead-letter, duplicate detection, topics
// fanning out to subscriptions), and a host that receives messages, posts
// invocation payloads encoded the way the real host encodes them to a
// custom handler over HTTP, and settles by the answer: 2xx with a JSON body
// completes, anything else (or a timeout) abandons. Time is injected, so a
// whole chain of scheduled polls runs in milliseconds on a fake clock.
package funchost
