// Package benchkit holds what snapcopy's benchmarks share (handler
// overhead, scale and memory; see BENCHMARKS.md): the ceiling a custom handler is measured against (Echo),
// invocation requests encoded by the host simulator, a closed-loop HTTP load
// driver that keeps every request's latency, in-process fakes behind the
// worker's ports, and readers for process and heap memory. It is imported
// by _test files only; nothing in it is part of the handler binary.
package benchkit
