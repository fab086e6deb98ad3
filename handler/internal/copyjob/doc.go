// Package copyjob is snapcopy's pure core: the message contracts, the
// decision table for a SnapshotCreated message, the decision for a CopyPoll,
// the polling policy and the settlement rules. It does no I/O; adapters
// observe the world, call these functions and carry out the returned values.
package copyjob
