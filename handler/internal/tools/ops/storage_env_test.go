package ops

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/snapcopy/snapcopy/handler/internal/clock"
	"github.com/snapcopy/snapcopy/handler/internal/standin/storageemu"
)

// testStart is where the fake clock starts.
var testStart = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// sourceAccount holds the source disk; the destination is in the
// development account, whose key the commands get as a connection string.
var sourceAccount = storageemu.Account{Name: "prodsource", Key: "cHJvZHNvdXJjZS1rZXktZm9yLW9wcy10ZXN0cw=="}

// copyRate makes copies last a few fake seconds.
const copyRate = 1024 // bytes per second

// storageEnv is the storage emulator on loopback with a fake clock, a
// source page blob and a destination blob name.
type storageEnv struct {
	t       *testing.T
	clock   *clock.Fake
	emu     *storageemu.Emulator
	baseURL string
	source  *pageblob.Client
	dest    *pageblob.Client
	// sourceSASURL is the source base blob URL with an sr=b read SAS.
	sourceSASURL string
	destURL      string
}

func newStorageEnv(t *testing.T) *storageEnv {
	t.Helper()
	fake := clock.NewFake(testStart)
	emu := storageemu.New(storageemu.Options{Clock: fake, Accounts: []storageemu.Account{sourceAccount}, CopyRate: copyRate})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	e := &storageEnv{t: t, clock: fake, emu: emu, baseURL: srv.URL}
	e.createContainer(sourceAccount, "disks")
	e.createContainer(storageemu.DevAccount, "backups")
	sourceURL := e.blobURL(sourceAccount, "disks", "vm.vhd")
	e.source = e.pageBlob(sourceAccount, sourceURL)
	if _, err := e.source.Create(context.Background(), 64<<10, nil); err != nil {
		t.Fatal(err)
	}
	e.sourceSASURL = sourceURL + "?" + e.readSAS(sourceAccount, "disks", "vm.vhd")
	e.destURL = e.blobURL(storageemu.DevAccount, "backups", "vm.vhd")
	e.dest = e.pageBlob(storageemu.DevAccount, e.destURL)
	return e
}

// connectionString is the destination account's, as an operator passes it.
func (e *storageEnv) connectionString() string {
	return storageemu.ConnectionString(e.baseURL, storageemu.DevAccount)
}

// fakeSurroundings are a storage command's on the env's fake clock, with
// no environment: the sleeper advances the clock instead of waiting and,
// unless slept is nil, records what it was asked to wait.
func (e *storageEnv) fakeSurroundings(slept *[]time.Duration) storageCommand {
	return storageCommand{
		getenv: func(string) string { return "" },
		clock:  e.clock,
		sleep: func(_ context.Context, d time.Duration) error {
			if slept != nil {
				*slept = append(*slept, d)
			}
			e.clock.Advance(d)
			return nil
		},
	}
}

// runCommand runs a storage command with the env's connection string and
// fails the test if the command printed or returned a SAS.
func (e *storageEnv) runCommand(run func(context.Context, []string, io.Writer, io.Writer) error, args []string) (stdout string, err error) {
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"-connection", e.connectionString()}, args...), &out, &errOut)
	if strings.Contains(out.String()+errOut.String(), "sig=") || (err != nil && strings.Contains(err.Error(), "sig=")) {
		e.t.Fatalf("the command printed a SAS:\n%s%s%v", out.String(), errOut.String(), err)
	}
	return out.String(), err
}

func (e *storageEnv) blobURL(acct storageemu.Account, containerName, name string) string {
	return storageemu.AccountURL(e.baseURL, acct.Name) + "/" + containerName + "/" + name
}

func (e *storageEnv) key(acct storageemu.Account) *blob.SharedKeyCredential {
	cred, err := blob.NewSharedKeyCredential(acct.Name, acct.Key)
	if err != nil {
		e.t.Fatal(err)
	}
	return cred
}

// noRetries lets an error status reach the test at once.
var noRetries = azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}

func (e *storageEnv) pageBlob(acct storageemu.Account, url string) *pageblob.Client {
	c, err := pageblob.NewClientWithSharedKeyCredential(url, e.key(acct), &pageblob.ClientOptions{ClientOptions: noRetries})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *storageEnv) createContainer(acct storageemu.Account, name string) {
	url := storageemu.AccountURL(e.baseURL, acct.Name) + "/" + name
	c, err := container.NewClientWithSharedKeyCredential(url, e.key(acct), &container.ClientOptions{ClientOptions: noRetries})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := c.Create(context.Background(), nil); err != nil {
		e.t.Fatalf("create container %s: %v", name, err)
	}
}

func (e *storageEnv) readSAS(acct storageemu.Account, containerName, name string) string {
	v := sas.BlobSignatureValues{
		Protocol: sas.ProtocolHTTPSandHTTP, StartTime: testStart.Add(-time.Hour), ExpiryTime: testStart.Add(24 * time.Hour),
		Permissions: (&sas.BlobPermissions{Read: true}).String(), ContainerName: containerName, BlobName: name,
	}
	q, err := v.SignWithSharedKey(e.key(acct))
	if err != nil {
		e.t.Fatal(err)
	}
	return q.Encode()
}

// writeAndSnapshot writes n bytes at off of the source and snapshots it.
func (e *storageEnv) writeAndSnapshot(off int64, n int) string {
	e.t.Helper()
	data := bytes.Repeat([]byte{byte(off>>10) + 1}, n)
	body := streaming.NopCloser(bytes.NewReader(data))
	if _, err := e.source.UploadPages(context.Background(), body, blob.HTTPRange{Offset: off, Count: int64(n)}, nil); err != nil {
		e.t.Fatalf("upload pages: %v", err)
	}
	resp, err := e.source.CreateSnapshot(context.Background(), nil)
	if err != nil {
		e.t.Fatalf("snapshot: %v", err)
	}
	return *resp.Snapshot
}

// startCopy starts an incremental copy of a source snapshot, as the handler
// does, and returns the copy id.
func (e *storageEnv) startCopy(snapshot string) string {
	e.t.Helper()
	resp, err := e.dest.StartCopyIncremental(context.Background(), e.sourceSASURL, snapshot, nil)
	if err != nil {
		e.t.Fatalf("start copy of %s: %v", snapshot, err)
	}
	return *resp.CopyID
}
