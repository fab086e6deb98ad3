// Package consistency holds only a test: it fails when function.json,
// host.json, local.settings.json.example, the infra templates and the
// config code disagree on a queue, topic or setting name.
package consistency
