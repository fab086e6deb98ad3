package main

// The reliability suite's workload: disks that gain generations (random
// pages written, then a snapshot), SnapshotCreated triggers for every
// snapshot delivered 1-3 times in shuffled order at random times, and bad
// inputs mixed in. Everything here is drawn from the seed.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/snapcopy/snapcopy/handler/internal/copyjob"
)

// relMaxMessageBytes is SNAPCOPY_MAX_MESSAGE_BYTES for the suite: small, so
// oversized bodies stay cheap.
const relMaxMessageBytes = 16 << 10

// relCanary marks the fake SAS signatures put into bad messages; none may
// ever leave the handler.
const relCanary = "SNAPCOPYLEAKCANARY"

// relDisk is a source page blob and the model of its content.
type relDisk struct {
	name    string
	size    int64
	pb      *pageblob.Client
	content []byte // current content of the base blob
	snaps   []*relSnap
	sas     string // a valid read SAS (sr=b) on the base blob, for message-SAS triggers
	sig     string // its signature
}

// relSnap is one generation: the snapshot and the content it must hold.
type relSnap struct {
	disk     *relDisk
	gen      int
	snapshot string // as the service wrote it
	content  []byte
	written  int64 // bytes written in this generation
}

// relSend is one producer message.
type relSend struct {
	id    string
	body  []byte
	delay time.Duration
}

// relBad is a bad message and the Rejected code it must earn.
type relBad struct {
	kind, id string
	code     copyjob.InputCode
	// huge bodies exceed the invocation limit: the handler reads only
	// their start, and skims the rest for the MessageId.
	huge bool
}

// relWorkload is what was sent, for the checks.
type relWorkload struct {
	rng   *rand.Rand
	disks []*relDisk
	// deliveries counts producer sends of triggers: first, duplicate with
	// the same MessageId, duplicate with a new MessageId.
	first, sameID, newID int
	sasTriggers          int
	bad                  []relBad
	badSends             int
	// secrets are strings that must appear nowhere the handler writes:
	// fragments of the real SAS signatures and the canaries.
	secrets []string
	// escapedCanaries are canaries written with JSON escapes in the key
	// (\u0073ig=): checked separately (see the report).
	escapedCanaries []string
	written         int64
}

func newRelWorkload(seed uint64) *relWorkload {
	return &relWorkload{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// createDisks makes n source blobs of 256 KiB to 1 MiB.
func (h *relHarness) createDisks(w *relWorkload, n int) {
	ctx := context.Background()
	for i := range n {
		d := &relDisk{name: fmt.Sprintf("vm%02d.vhd", i), size: int64(4+w.rng.IntN(13)) * 64 << 10}
		c := h.container("disks")
		d.pb = c.NewPageBlobClient(d.name)
		if _, err := d.pb.Create(ctx, d.size, nil); err != nil {
			h.t.Fatalf("seed %d: create %s: %v", h.seed, d.name, err)
		}
		d.content = make([]byte, d.size)
		now := h.clock.Now()
		q, err := sas.BlobSignatureValues{
			Protocol:      sas.ProtocolHTTPSandHTTP,
			StartTime:     now.Add(-time.Hour),
			ExpiryTime:    now.Add(30 * 24 * time.Hour),
			Permissions:   (&sas.BlobPermissions{Read: true}).String(),
			ContainerName: "disks",
			BlobName:      d.name,
		}.SignWithSharedKey(h.key)
		if err != nil {
			h.t.Fatal(err)
		}
		d.sas, d.sig = q.Encode(), q.Signature()
		w.secrets = append(w.secrets, secretFragment(d.sig))
		w.disks = append(w.disks, d)
	}
}

var alnumRun = regexp.MustCompile(`[A-Za-z0-9]+`)

// secretFragment is the longest alphanumeric run of a base64 signature:
// it survives any escaping (URL, JSON), so finding it anywhere is a leak.
func secretFragment(sig string) string {
	best := ""
	for _, m := range alnumRun.FindAllString(sig, -1) {
		if len(m) > len(best) {
			best = m
		}
	}
	return best
}

// generation writes 1-4 random extents to d and snapshots it.
func (h *relHarness) generation(w *relWorkload, d *relDisk) *relSnap {
	ctx := context.Background()
	var written int64
	for range 1 + w.rng.IntN(4) {
		length := int64(512 * (1 + w.rng.IntN(16)))
		offset := 512 * w.rng.Int64N((d.size-length)/512+1)
		data := make([]byte, length)
		for i := range data {
			data[i] = byte(w.rng.UintN(256))
		}
		if _, err := d.pb.UploadPages(ctx, streaming.NopCloser(bytes.NewReader(data)), blob.HTTPRange{Offset: offset, Count: length}, nil); err != nil {
			h.t.Fatalf("seed %d: write %s: %v", h.seed, d.name, err)
		}
		copy(d.content[offset:], data)
		written += length
	}
	resp, err := d.pb.CreateSnapshot(ctx, nil)
	if err != nil {
		h.t.Fatalf("seed %d: snapshot %s: %v", h.seed, d.name, err)
	}
	s := &relSnap{disk: d, gen: len(d.snaps) + 1, snapshot: *resp.Snapshot, content: bytes.Clone(d.content), written: written}
	d.snaps = append(d.snaps, s)
	w.written += written
	// Snapshots of a disk are seconds apart, with sub-second digits.
	h.clock.Advance(time.Second + time.Duration(w.rng.Int64N(int64(4*time.Second)/100))*100)
	return s
}

// cloudEvent wraps data in a SnapshotCreated CloudEvent.
func cloudEvent(id, typ string, data any) []byte {
	b, _ := json.Marshal(map[string]any{
		"specversion": "1.0", "type": typ, "source": "/reliability", "id": id,
		"datacontenttype": "application/json", "data": data,
	})
	return b
}

const relEventType = "Contoso.Backup.SnapshotCreated"

// triggerBody is one of the accepted spellings of a trigger for s.
func (h *relHarness) triggerBody(w *relWorkload, id string, s *relSnap) []byte {
	d := s.disk
	src := d.pb.URL()
	snapTime, _ := copyjob.ParseSnapshot(s.snapshot)
	switch w.rng.IntN(6) {
	case 0:
		return cloudEvent(id, relEventType, map[string]string{"sourceBlobUrl": src, "snapshot": s.snapshot})
	case 1:
		return cloudEvent(id, relEventType, map[string]string{"snapshotUrl": src + "?snapshot=" + url.QueryEscape(s.snapshot)})
	case 2:
		// The data object alone, explicit destination, shortest time spelling.
		b, _ := json.Marshal(map[string]string{
			"sourceBlobUrl": src, "snapshot": snapTime.Format(time.RFC3339Nano),
			"destinationBlobUrl": h.blobURL + "/backups/" + d.name, "producerNote": "unknown fields are ignored",
		})
		return b
	case 3:
		w.sasTriggers++
		return cloudEvent(id, relEventType, map[string]string{"sourceBlobUrl": src, "snapshot": s.snapshot, "sourceSas": d.sas})
	case 4:
		w.sasTriggers++
		return cloudEvent(id, relEventType, map[string]string{"snapshotUrl": src + "?snapshot=" + url.QueryEscape(s.snapshot) + "&" + d.sas})
	default:
		return cloudEvent(id, "SnapshotCreated", map[string]string{"sourceBlobUrl": src, "snapshot": s.snapshot})
	}
}

// triggers returns 1-3 deliveries of a trigger for each snapshot, shuffled,
// each at a random delay within window.
func (h *relHarness) triggers(w *relWorkload, snaps []*relSnap, window time.Duration) []relSend {
	var out []relSend
	delay := func() time.Duration {
		if w.rng.IntN(4) == 0 {
			return 0
		}
		return time.Duration(w.rng.Int64N(int64(window)))
	}
	for _, s := range snaps {
		id := fmt.Sprintf("sc-%s-g%d", strings.TrimSuffix(s.disk.name, ".vhd"), s.gen)
		out = append(out, relSend{id: id, body: h.triggerBody(w, id, s), delay: delay()})
		w.first++
		for k := range w.rng.IntN(3) {
			dupID := id
			if w.rng.IntN(2) == 0 {
				dupID = fmt.Sprintf("%s-dup%d", id, k+1)
				w.newID++
			} else {
				w.sameID++
			}
			out = append(out, relSend{id: dupID, body: h.triggerBody(w, dupID, s), delay: delay()})
		}
	}
	w.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// badInputs returns n bad messages (some delivered twice) at random delays.
func (h *relHarness) badInputs(w *relWorkload, n int, window time.Duration) []relSend {
	var out []relSend
	for range n {
		i := len(w.bad)
		id := fmt.Sprintf("bad-%03d", i)
		canary := fmt.Sprintf("%s%03d", relCanary, i)
		w.secrets = append(w.secrets, canary)
		kind, code, body, huge := h.badMessage(w, id, canary)
		w.bad = append(w.bad, relBad{kind: kind, id: id, code: code, huge: huge})
		out = append(out, relSend{id: id, body: body, delay: time.Duration(w.rng.Int64N(int64(window)))})
		w.badSends++
		if !huge && w.rng.IntN(3) == 0 {
			// A second delivery: same MessageId (the broker drops it) or a
			// new one (a second Rejected event).
			dupID := id
			if w.rng.IntN(2) == 0 {
				dupID = id + "-dup"
				w.bad = append(w.bad, relBad{kind: kind, id: dupID, code: code})
			}
			out = append(out, relSend{id: dupID, body: body, delay: time.Duration(w.rng.Int64N(int64(window)))})
			w.badSends++
		}
	}
	return out
}

// badMessage draws one kind of bad input. Those carrying a SAS carry the
// canary as its signature.
func (h *relHarness) badMessage(w *relWorkload, id, canary string) (kind string, code copyjob.InputCode, body []byte, huge bool) {
	d := w.disks[w.rng.IntN(len(w.disks))]
	src, snap := d.pb.URL(), h.clock.Now().Add(-time.Minute).Format(copyjob.SnapshotLayout)
	if len(d.snaps) > 0 {
		snap = d.snaps[w.rng.IntN(len(d.snaps))].snapshot
	}
	data := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	fakeSAS := func(sr, sp string) string {
		return "sv=2025-01-05&se=2030-01-01T00%3A00%3A00Z&sr=" + sr + "&sp=" + sp + "&sig=" + canary
	}
	switch w.rng.IntN(21) {
	case 0:
		return "malformed JSON", copyjob.InputMalformed, []byte(`{"specversion":"1.0","type":"` + relEventType + `","id":"` + id + `","data":{"sourceBlobUrl":`), false
	case 1:
		return "not an object", copyjob.InputMalformed, []byte(`["sourceBlobUrl","` + src + `"]`), false
	case 2:
		return "wrong types", copyjob.InputInvalidField, cloudEvent(id, relEventType, map[string]any{"sourceBlobUrl": 42, "snapshot": true}), false
	case 3:
		return "unknown event type", copyjob.InputUnknownEventType, cloudEvent(id, "Contoso.Backup.SnapshotDeleted", data("sourceBlobUrl", src, "snapshot", snap)), false
	case 4:
		return "non-blob URL (ftp)", copyjob.InputInvalidField, cloudEvent(id, relEventType, data("sourceBlobUrl", "ftp://files.example/disks/vm.vhd", "snapshot", snap)), false
	case 5:
		return "non-blob URL (container only)", copyjob.InputInvalidField, cloudEvent(id, relEventType, data("sourceBlobUrl", h.blobURL+"/disks", "snapshot", snap)), false
	case 6:
		return "bad snapshot string", copyjob.InputInvalidField, cloudEvent(id, relEventType, data("sourceBlobUrl", src, "snapshot", "yesterday at noon")), false
	case 7:
		return "snapshot in the future", copyjob.InputInvalidField, cloudEvent(id, relEventType, data("sourceBlobUrl", src, "snapshot", h.clock.Now().Add(72*time.Hour).Format(copyjob.SnapshotLayout))), false
	case 8:
		return "oversized body", copyjob.InputTooLarge, cloudEvent(id, relEventType, data("sourceBlobUrl", src, "snapshot", snap, "padding", strings.Repeat("x", relMaxMessageBytes))), false
	case 9:
		// Larger than the invocation payload limit (MaxMessageBytes*6+64 KiB).
		pad := strings.Repeat("y", relMaxMessageBytes*6+96<<10)
		// The padding key sorts first and names the message, so bodies
		// differ within the part the handler reads (see hugeTwins).
		return "huge body", copyjob.InputTooLarge, cloudEvent(id, relEventType, data("sourceBlobUrl", src, "snapshot", snap, "sourceSas", fakeSAS("b", "r"), "a-padding-"+id, pad)), true
	case 10:
		return "disallowed source", copyjob.InputNotAllowed, cloudEvent(id, relEventType, data("sourceBlobUrl", h.blobURL+"/other/"+d.name, "snapshot", snap)), false
	case 11:
		return "disallowed destination", copyjob.InputNotAllowed, cloudEvent(id, relEventType, data("sourceBlobUrl", src, "snapshot", snap, "destinationBlobUrl", h.blobURL+"/elsewhere/"+d.name)), false
	case 12:
		return "SAS with sr=bs", copyjob.InputInvalidSAS, cloudEvent(id, relEventType, data("sourceBlobUrl", src, "snapshot", snap, "sourceSas", fakeSAS("bs", "r"))), false
	case 13:
		return "SAS without read", copyjob.InputInvalidSAS, cloudEvent(id, relEventType, data("sourceBlobUrl", src, "snapshot", snap, "sourceSas", fakeSAS("b", "w"))), false
	case 14:
		return "SAS sr=bs in snapshotUrl", copyjob.InputInvalidSAS, cloudEvent(id, relEventType, data("snapshotUrl", src+"?snapshot="+url.QueryEscape(snap)+"&"+fakeSAS("bs", "r"))), false
	case 15:
		return "missing fields", copyjob.InputMissingField, cloudEvent(id, relEventType, map[string]any{}), false
	case 16:
		return "snapshotUrl and sourceBlobUrl", copyjob.InputInvalidField, cloudEvent(id, relEventType, data("snapshotUrl", src+"?snapshot="+url.QueryEscape(snap), "sourceBlobUrl", src)), false
	case 17:
		return "destination with a SAS", copyjob.InputInvalidField, cloudEvent(id, relEventType, data("sourceBlobUrl", src, "snapshot", snap, "destinationBlobUrl", h.blobURL+"/backups/"+d.name+"?"+fakeSAS("b", "rw"))), false
	case 18:
		return "specversion 0.3", copyjob.InputMalformed, []byte(`{"specversion":"0.3","type":"` + relEventType + `","id":"` + id + `","data":{"sourceBlobUrl":"` + src + `","snapshot":"` + snap + `"}}`), false
	case 19:
		return "plain data with SAS, sr=bs, disallowed destination", copyjob.InputInvalidSAS, mustJSON(data("sourceBlobUrl", src, "snapshot", snap, "sourceSas", fakeSAS("bs", "r"), "destinationBlobUrl", h.blobURL+"/elsewhere/x.vhd")), false
	default:
		// A JSON-escaped key hides "sig=" from a byte-level scrubber; the
		// decoded text still is a SAS signature.
		esc := strings.Replace(canary, relCanary, "SNAPCOPYESCAPED", 1)
		w.escapedCanaries = append(w.escapedCanaries, esc)
		body := `{"specversion":"1.0","type":"` + relEventType + `","id":"` + id + `","data":{"sourceBlobUrl":"` + src + `","snapshot":"` + snap +
			`","sourceSas":"sv=2025-01-05&sr=bs&sp=r&\u0073ig=` + esc + `"}}`
		return "SAS sr=bs, JSON-escaped sig key", copyjob.InputInvalidSAS, []byte(body), false
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// hugeTwins are two different messages, larger than the invocation limit,
// that agree on everything the handler decodes of them (their first
// MaxMessageBytes*6+64 KiB) and differ after it: each must still get its
// own Rejected event.
func (h *relHarness) hugeTwins(w *relWorkload) []relSend {
	pad := strings.Repeat("z", relMaxMessageBytes*6+96<<10)
	var out []relSend
	for _, id := range []string{"huge-twin-a", "huge-twin-b"} {
		body := cloudEvent(id, relEventType, map[string]string{"a-padding": pad, "sourceBlobUrl": w.disks[0].pb.URL(), "snapshot": "then", "twin": id})
		out = append(out, relSend{id: id, body: body, delay: time.Minute})
		w.bad = append(w.bad, relBad{kind: "huge twin", id: id, code: copyjob.InputTooLarge, huge: true})
	}
	return out
}
