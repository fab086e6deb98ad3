// Package storageemu is a local Azure Blob endpoint for page blobs that
// implements Incremental Copy Blob, which Azurite lacks. It is an
// http.Handler: tests run it behind httptest on loopback and talk to it with
// the real, unmodified azblob client; `handler emulator` serves it standalone.
//
// Addressing is path-style like Azurite (http://127.0.0.1:PORT/<account>/
// <container>/<blob>). Requests are authorized by Shared Key, by a service
// SAS or by a container's anonymous public-read setting. Incremental copies
// progress at Options.CopyRate bytes per second of changed pages on
// Options.Clock, computed lazily whenever the destination is observed, so a
// fake clock makes every test deterministic. Faults (scripted errors, latency,
// failing or stalling copies, a seeded chaos profile) are injected in process.
//
// README.md beside this file lists what is implemented and where the
// emulator knowingly differs from Azure and from Azurite.
package storageemu
