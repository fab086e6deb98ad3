// Package app wires snapcopy from a config.Config: the Azure credential,
// the storage and Service Bus clients, the worker and its custom-handler
// HTTP server. `handler serve`, `handler local`, the operator commands and
// the tests all build what they run here, so there is one way to connect.
package app
