// Package funchost stands in for the Azure Functions host and its Service
// Bus trigger, offline. A Host listens on each function's queue through a
// Source — a real azservicebus receiver, on busemu or Azure — posts
// invocation payloads encoded the way the real host encodes them to a
// custom handler over HTTP, and settles by the answer: 2xx with a JSON body
// completes, anything else (or a timeout) abandons. Time is injected: on
// busemu's fake clock RunUntilIdle moves the clock to whatever falls due
// next, so a whole chain of scheduled polls runs in milliseconds.
package funchost
