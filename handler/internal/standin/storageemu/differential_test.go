package storageemu

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/syncbuffer"
)

// azuriteEnv names the directory of an installed azurite package (the one
// holding dist/src/blob/main.js); .ci/install-azurite.sh prints it.
const azuriteEnv = "SNAPCOPY_AZURITE"

// observation is what one scenario step saw: an error's status and code, or
// "ok" with a digest of what came back.
type observation struct {
	step   string
	status int
	code   string
	detail string
}

func (o observation) String() string {
	if o.status == 0 {
		return "ok " + o.detail
	}
	return fmt.Sprintf("%d %s", o.status, o.code)
}

// divergence is a step where the emulator follows Azure's documented answer
// and Azurite answers otherwise; both sides are pinned.
type divergence struct{ emulator, azurite, why string }

var knownDivergences = map[string]divergence{
	"put page beyond size": {
		emulator: "416 InvalidPageRange", azurite: "416 Requested Range Not Satisfiable",
		why: "Azurite sends the HTTP reason phrase as x-ms-error-code; Azure documents InvalidPageRange",
	},
	"put page unaligned offset": {
		emulator: "416 InvalidPageRange", azurite: "416 Requested Range Not Satisfiable",
		why: "Azurite sends the HTTP reason phrase as x-ms-error-code; Azure documents InvalidPageRange",
	},
	"read snapshot with sr=b SAS": {
		emulator: "ok 1048576 bytes 97a43d26711e0372", azurite: "403 AuthorizationFailure",
		why: "a blob SAS covers the blob's snapshots in Azure (the incremental-copy source form); Azurite signs the snapshot into sr=b",
	},
	"read with expired SAS": {
		emulator: "403 AuthenticationFailed", azurite: "403 AuthorizationFailure",
		why: "Azure answers AuthenticationFailed (signature not valid in the time frame)",
	},
	"wrong shared key": {
		emulator: "403 AuthenticationFailed", azurite: "403 AuthorizationFailure",
		why: "Azure answers AuthenticationFailed for a bad signature",
	},
	"copy snapshot with sr=b SAS": {
		emulator: "ok success 1048576/1048576 1048576 bytes 97a43d26711e0372", azurite: "403 CannotVerifyCopySource",
		why: "Azure documents a SAS on the base blob for a snapshot source; Azurite checks the source with its own sr=b rules",
	},
	"copy snapshot with sr=b SAS: page ranges": {
		emulator: "ok 512-4095,8192-12287", azurite: "403 CannotVerifyCopySource",
		why: "follows from the copy above",
	},
	"copy snapshot onto a block blob": {
		emulator: "409 InvalidBlobType", azurite: "ok success 1048576/1048576 1048576 bytes 97a43d26711e0372",
		why: "Azure requires an existing destination to have the source's blob type; Azurite replaces it",
	},
	"copy snapshot onto a block blob: page ranges": {
		emulator: "409 InvalidBlobType", azurite: "ok 512-4095,8192-12287",
		why: "follows from the copy above",
	},
	"read with Range bytes=0--1": {
		emulator: "ok 200 1048576 bytes 80390de97de89aa0", azurite: "ok 500 0 bytes e3b0c44298fc1c14",
		why: "an unparsable Range is ignored (RFC 9110 section 14.2), as Azurite does for block blobs; its page-blob download fails with 500",
	},
	"delete with If-None-Match *": {
		emulator: "412 ConditionNotMet", azurite: "ok ",
		why: "the service documents If-None-Match: * as \"only if the resource does not exist\"; Azurite lets a write through",
	},
	"anonymous read of private container": {
		emulator: "404 ResourceNotFound", azurite: "403 AuthorizationFailure",
		why: "Azure hides private resources from anonymous callers behind ResourceNotFound",
	},
}

func TestDifferentialAgainstAzurite(t *testing.T) {
	dir := os.Getenv(azuriteEnv)
	if dir == "" {
		t.Skipf("%s is not set: run .ci/install-azurite.sh and set it to the directory it prints to compare with Azurite", azuriteEnv)
	}
	azuriteURL := startAzurite(t, dir)
	// The emulator's copies are asynchronous on its clock; Azurite's finish
	// at once. Steps that wait for a copy advance the emulator's clock.
	clk := clock.NewFake(time.Now())
	emu := httptest.NewServer(New(Options{Clock: clk}))
	t.Cleanup(emu.Close)

	want := runScenario(t, azuriteURL, func(time.Duration) {})
	got := runScenario(t, emu.URL, clk.Advance)
	if len(got) != len(want) {
		t.Fatalf("emulator ran %d steps, Azurite %d", len(got), len(want))
	}
	for i := range got {
		step := got[i].step
		if d, ok := knownDivergences[step]; ok {
			if got[i].String() != d.emulator || want[i].String() != d.azurite {
				t.Errorf("%s: emulator %q (pinned %q), Azurite %q (pinned %q)", step, got[i], d.emulator, want[i], d.azurite)
			}
			t.Logf("%-40s emulator %s, Azurite %s: %s", step, got[i], want[i], d.why)
			continue
		}
		if got[i].String() != want[i].String() {
			t.Errorf("%s: emulator %q, Azurite %q", step, got[i], want[i])
		} else {
			t.Logf("%-40s %s", step, got[i])
		}
	}
}

// startAzurite runs Azurite's blob service on a loopback port it picks
// itself (port 0) until the test ends and returns its base URL, read from
// the line Azurite prints once it listens.
func startAzurite(t *testing.T, dir string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		// Asked for the comparison: a missing Node must not pass as a skip.
		t.Fatalf("%s is set but node is not installed: %v", azuriteEnv, err)
	}
	main := filepath.Join(dir, "dist", "src", "blob", "main.js")
	if _, err := os.Stat(main); err != nil {
		t.Fatalf("%s=%s: %v", azuriteEnv, dir, err)
	}
	cmd := exec.Command(node, main, "--blobHost", "127.0.0.1", "--blobPort", "0",
		"--inMemoryPersistence", "--loose", "--skipApiVersionCheck", "--disableTelemetry")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs syncbuffer.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start azurite: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			logs.WriteString(line + "\n")
			if m := azuriteListening.FindStringSubmatch(line); m != nil {
				listening <- m[1]
			}
		}
	}()
	select {
	case url := <-listening:
		return url
	case <-time.After(30 * time.Second):
		t.Fatalf("azurite did not say it listens within 30s:\n%s", logs.String())
		return ""
	}
}

// azuriteListening is the line Azurite prints once its blob service listens.
var azuriteListening = regexp.MustCompile(`Blob service successfully listens on (http://127\.0\.0\.1:[0-9]+)`)

// scenario drives one server through the steps and records what it saw.
type scenario struct {
	t       *testing.T
	base    string
	advance func(time.Duration) // lets a copy run on the emulator's clock
	cred    *blob.SharedKeyCredential
	svc     *service.Client
	results []observation
}

func (s *scenario) record(step string, detail string, err error) {
	o := observation{step: step, detail: detail}
	if err != nil {
		o.code, o.status = errorCode(s.t, err)
	}
	s.results = append(s.results, o)
}

func (s *scenario) pageBlob(containerName, name string) *pageblob.Client {
	c, err := newPageBlobClient(s.base+"/"+DevAccountName+"/"+containerName+"/"+name, s.cred)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *scenario) sas(containerName, name, snapshot, perms string, expiry time.Time) string {
	v := sas.BlobSignatureValues{
		Protocol: sas.ProtocolHTTPSandHTTP, StartTime: time.Now().Add(-time.Hour), ExpiryTime: expiry,
		Permissions: perms, ContainerName: containerName, BlobName: name,
	}
	if snapshot != "" {
		v.SnapshotTime, _ = parseSnapshot(snapshot)
	}
	qp, err := v.SignWithSharedKey(s.cred)
	if err != nil {
		s.t.Fatal(err)
	}
	return qp.Encode()
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%d bytes %s", len(b), hex.EncodeToString(sum[:8]))
}

func (s *scenario) read(step string, pb *pageblob.Client, r blob.HTTPRange) {
	resp, err := pb.DownloadStream(context.Background(), &blob.DownloadStreamOptions{Range: r})
	if err != nil {
		s.record(step, "", err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	s.record(step, digest(b), nil)
}

func (s *scenario) ranges(step string, pb *pageblob.Client) {
	page, err := pb.NewGetPageRangesPager(nil).NextPage(context.Background())
	var merged []byteRange
	if err == nil {
		// Azurite splits ranges where writes met; the set of bytes is what counts.
		for _, r := range page.PageRange {
			if n := len(merged); n > 0 && merged[n-1].end+1 == *r.Start {
				merged[n-1].end = *r.End
				continue
			}
			merged = append(merged, byteRange{start: *r.Start, end: *r.End})
		}
	}
	var parts []string
	for _, r := range merged {
		parts = append(parts, fmt.Sprintf("%d-%d", r.start, r.end))
	}
	s.record(step, strings.Join(parts, ","), err)
}

// copyBlob runs Copy Blob into a blob of container diff, lets it finish and
// records its end state: status, progress, the bytes and the page ranges.
func (s *scenario) copyBlob(step, target, source string) {
	pb := s.pageBlob("diff", target)
	detail, err := s.copyAndRead(pb, source)
	s.record(step, detail, err)
	if err != nil {
		s.record(step+": page ranges", "", err)
		return
	}
	s.ranges(step+": page ranges", pb)
}

func (s *scenario) copyAndRead(pb *pageblob.Client, source string) (string, error) {
	ctx := context.Background()
	if _, err := pb.BlobClient().StartCopyFromURL(ctx, source, nil); err != nil {
		return "", err
	}
	s.advance(time.Minute)
	p, err := pb.GetProperties(ctx, nil)
	if err != nil {
		return "", err
	}
	resp, err := pb.DownloadStream(ctx, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%s %s %s", *p.CopyStatus, *p.CopyProgress, digest(b)), nil
}

// fidelity runs the steps where the emulator once answered otherwise than
// the service and Azurite agrees with the service.
func (s *scenario) fidelity(diskURL string, expiry time.Time) {
	ctx := context.Background()
	_, err := s.svc.NewContainerClient("ab").Create(ctx, nil)
	s.record("create container with a two-letter name", "", err)
	_, err = s.pageBlob("diff", "meta").Create(ctx, 512, &pageblob.CreateOptions{Metadata: map[string]*string{"invalid-name": to.Ptr("v")}})
	s.record("create blob with metadata name invalid-name", "", err)
	props := s.pageBlob("diff", "props")
	_, err = props.Create(ctx, 512, &pageblob.CreateOptions{HTTPHeaders: &testHTTPHeaders})
	s.record("create blob with content properties", "", err)
	p, err := props.GetProperties(ctx, nil)
	detail := ""
	if err == nil {
		detail = fmt.Sprintf("%s %s %s %s %s %x", *p.ContentType, *p.ContentEncoding, *p.ContentLanguage, *p.CacheControl, *p.ContentDisposition, p.ContentMD5)
	}
	s.record("content properties", detail, err)
	_, err = props.GetProperties(ctx, &blob.GetPropertiesOptions{AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}})
	s.record("properties with If-None-Match *", "", err)
	_, err = props.Delete(ctx, &blob.DeleteOptions{AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}})
	s.record("delete with If-None-Match *", "", err)

	req, _ := http.NewRequest(http.MethodGet, diskURL+"?"+s.sas("diff", "disk", "", "r", expiry), nil)
	req.Header.Set("Range", "bytes=0--1")
	req.Header.Set("x-ms-version", ServiceVersion)
	resp, err := http.DefaultClient.Do(req)
	detail = ""
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		detail = fmt.Sprintf("%d %s", resp.StatusCode, digest(b))
	}
	s.record("read with Range bytes=0--1", detail, err)

	v := sas.BlobSignatureValues{
		Protocol: sas.ProtocolHTTPSandHTTP, StartTime: time.Now().Add(-time.Hour), ExpiryTime: expiry,
		Permissions: "r", ContainerName: "diff", BlobName: "disk", ContentType: "text/plain", CacheControl: "max-age=5",
	}
	qp, _ := v.SignWithSharedKey(s.cred)
	p, err = anonymousPageBlob(s.t, diskURL+"?"+qp.Encode()).GetProperties(ctx, nil)
	detail = ""
	if err == nil {
		detail = *p.ContentType + " " + *p.CacheControl
	}
	s.record("properties with SAS response overrides", detail, err)

	v = sas.BlobSignatureValues{
		Protocol: sas.ProtocolHTTPSandHTTP, StartTime: time.Now().Add(-time.Hour), ExpiryTime: expiry,
		Permissions: "racwdl", ContainerName: "diff",
	}
	qp, _ = v.SignWithSharedKey(s.cred)
	c, _ := container.NewClientWithNoCredential(s.base+"/"+DevAccountName+"/diff?"+qp.Encode(), &container.ClientOptions{ClientOptions: *clientOptions()})
	_, err = c.GetProperties(ctx, nil)
	s.record("container properties with a container SAS", "", err)
}

func (s *scenario) upload(step string, pb *pageblob.Client, off int64, data []byte) {
	_, err := pb.UploadPages(context.Background(), nopCloser{bytes.NewReader(data)}, blob.HTTPRange{Offset: off, Count: int64(len(data))}, nil)
	s.record(step, "", err)
}

func runScenario(t *testing.T, base string, advance func(time.Duration)) []observation {
	cred, err := blob.NewSharedKeyCredential(DevAccountName, DevAccountKey)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.NewClientWithSharedKeyCredential(base+"/"+DevAccountName+"/", cred, &service.ClientOptions{ClientOptions: *clientOptions()})
	if err != nil {
		t.Fatal(err)
	}
	s := &scenario{t: t, base: base, cred: cred, svc: svc, advance: advance}
	ctx := context.Background()
	expiry := time.Now().Add(time.Hour)

	_, err = svc.NewContainerClient("diff").Create(ctx, nil)
	s.record("create container", "", err)
	_, err = svc.NewContainerClient("diff").Create(ctx, nil)
	s.record("create container again", "", err)
	_, err = s.pageBlob("nocontainer", "disk").Create(ctx, 512, nil)
	s.record("create blob in missing container", "", err)

	_, err = s.pageBlob("diff", "odd").Create(ctx, 1000, nil)
	s.record("create unaligned page blob", "", err)
	disk := s.pageBlob("diff", "disk")
	_, err = disk.Create(ctx, 1<<20, nil)
	s.record("create page blob", "", err)
	s.upload("upload pages 0", disk, 0, pattern(1, 4096))
	s.upload("upload pages 8192", disk, 8192, pattern(2, 4096))
	s.upload("put page unaligned length", disk, 0, pattern(3, 100))
	s.upload("put page unaligned offset", disk, 100, pattern(3, 512))
	s.upload("put page beyond size", disk, 2<<20, pattern(3, 512))
	_, err = disk.ClearPages(ctx, blob.HTTPRange{Offset: 0, Count: 512}, nil)
	s.record("clear pages", "", err)
	s.ranges("page ranges", disk)

	snap, err := disk.CreateSnapshot(ctx, nil)
	s.record("snapshot", "", err)
	s.upload("upload after snapshot", disk, 65536, pattern(4, 4096))
	s.upload("overwrite after snapshot", disk, 1024, pattern(5, 1024))
	snapClient, _ := disk.WithSnapshot(*snap.Snapshot)
	s.ranges("page ranges of base", disk)
	s.ranges("page ranges of snapshot", snapClient)
	s.read("read base range", disk, blob.HTTPRange{Offset: 0, Count: 70000})
	s.read("read snapshot range", snapClient, blob.HTTPRange{Offset: 512, Count: 16384})
	s.read("read past end", disk, blob.HTTPRange{Offset: 1<<20 - 1000, Count: 4096})
	s.read("read beyond size", disk, blob.HTTPRange{Offset: 2 << 20, Count: 512})
	_, err = s.pageBlob("diff", "missing").GetProperties(ctx, nil)
	s.record("properties of missing blob", "", err)
	_, err = s.pageBlob("nocontainer", "disk").GetProperties(ctx, nil)
	s.record("properties in missing container", "", err)

	diskURL := base + "/" + DevAccountName + "/diff/disk"
	s.read("read with sr=b SAS", anonymousPageBlob(s.t, diskURL+"?"+s.sas("diff", "disk", "", "r", expiry)), blob.HTTPRange{})
	s.read("read snapshot with sr=bs SAS", anonymousPageBlob(s.t, diskURL+"?"+s.sas("diff", "disk", *snap.Snapshot, "r", expiry)+"&snapshot="+*snap.Snapshot), blob.HTTPRange{})
	s.read("read snapshot with sr=b SAS", anonymousPageBlob(s.t, diskURL+"?"+s.sas("diff", "disk", "", "r", expiry)+"&snapshot="+*snap.Snapshot), blob.HTTPRange{})
	s.read("read with SAS lacking read", anonymousPageBlob(s.t, diskURL+"?"+s.sas("diff", "disk", "", "w", expiry)), blob.HTTPRange{})
	s.read("read with expired SAS", anonymousPageBlob(s.t, diskURL+"?"+s.sas("diff", "disk", "", "r", time.Now().Add(-time.Minute))), blob.HTTPRange{})
	wrongCred, _ := blob.NewSharedKeyCredential(DevAccountName, backupAccount.Key)
	wrong, _ := newPageBlobClient(diskURL, wrongCred)
	_, err = wrong.GetProperties(ctx, nil)
	s.record("wrong shared key", "", err)

	_, err = svc.NewContainerClient("public").Create(ctx, &container.CreateOptions{Access: to.Ptr(container.PublicAccessTypeBlob)})
	s.record("create public container", "", err)
	pub := s.pageBlob("public", "img")
	_, err = pub.Create(ctx, 4096, nil)
	s.record("create public blob", "", err)
	s.upload("upload public blob", pub, 0, pattern(6, 4096))
	s.read("anonymous read of public blob", anonymousPageBlob(s.t, base+"/"+DevAccountName+"/public/img"), blob.HTTPRange{})
	s.read("anonymous read of private container", anonymousPageBlob(s.t, diskURL), blob.HTTPRange{})

	pager := svc.NewContainerClient("diff").NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Include: container.ListBlobsInclude{Snapshots: true}})
	listed, err := pager.NextPage(ctx)
	var items []string
	if err == nil {
		for _, b := range listed.Segment.BlobItems {
			items = append(items, fmt.Sprintf("%s(snapshot=%v,%d,%s)", *b.Name, b.Snapshot != nil && *b.Snapshot != "", *b.Properties.ContentLength, *b.Properties.BlobType))
		}
	}
	s.record("list blobs with snapshots", strings.Join(items, " "), err)

	block, _ := blockblob.NewClientWithSharedKeyCredential(base+"/"+DevAccountName+"/diff/block", cred, &blockblob.ClientOptions{ClientOptions: *clientOptions()})
	_, err = block.Upload(ctx, nopCloser{bytes.NewReader([]byte("block blob"))}, nil)
	s.record("put block blob", "", err)
	snapshotURL := diskURL + "?snapshot=" + url.QueryEscape(*snap.Snapshot)
	s.copyBlob("copy snapshot with sr=bs SAS", "restored-bs", snapshotURL+"&"+s.sas("diff", "disk", *snap.Snapshot, "r", expiry))
	s.copyBlob("copy snapshot with sr=b SAS", "restored-b", snapshotURL+"&"+s.sas("diff", "disk", "", "r", expiry))
	s.copyBlob("copy snapshot with shared key", "restored-key", snapshotURL)
	s.copyBlob("copy missing snapshot with shared key", "restored-missing", diskURL+"?snapshot=2020-01-01T00%3A00%3A00.0000000Z")
	s.copyBlob("copy snapshot onto a block blob", "block", snapshotURL)
	restored, _ := s.pageBlob("diff", "restored-key").WithSnapshot(*snap.Snapshot)
	_, err = restored.GetProperties(ctx, nil)
	s.record("snapshot of a copy that has none", "", err)
	missingSnap, _ := disk.WithSnapshot("2020-01-01T00:00:00.0000000Z")
	_, err = missingSnap.Delete(ctx, nil)
	s.record("delete missing snapshot", "", err)
	_, err = snapClient.Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeOnly)})
	s.record("delete snapshot with x-ms-delete-snapshots", "", err)

	s.fidelity(diskURL, expiry)

	_, err = disk.Delete(ctx, nil)
	s.record("delete blob with snapshots", "", err)
	_, err = snapClient.Delete(ctx, nil)
	s.record("delete snapshot", "", err)
	_, err = snapClient.GetProperties(ctx, nil)
	s.record("properties of deleted snapshot", "", err)
	_, err = disk.CreateSnapshot(ctx, nil)
	s.record("snapshot before delete", "", err)
	_, err = disk.Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeInclude)})
	s.record("delete including snapshots", "", err)
	_, err = disk.GetProperties(ctx, nil)
	s.record("properties of deleted blob", "", err)
	return s.results
}
