package copyjob

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

const emulatorEndpoint = "http://127.0.0.1:10000/devstoreaccount1"

// TestSecurityStorageHosts: credentials go to storage endpoints only, so a
// URL must be https://<account>.blob.<suffix>, or address the configured
// emulator endpoint.
func TestSecurityStorageHosts(t *testing.T) {
	public := StorageHosts{}
	sovereign := StorageHosts{EndpointSuffix: "core.chinacloudapi.cn"}
	local := StorageHosts{Emulator: emulatorEndpoint}
	cases := []struct {
		hosts StorageHosts
		url   string
		ok    bool
	}{
		{public, "https://acct.blob.core.windows.net/disks/vm1.vhd", true},
		{public, "https://ACCT.Blob.Core.Windows.Net/disks/vm1.vhd", true},
		{public, "https://acct.blob.core.windows.net:443/disks/vm1.vhd", true},
		{public, "https://acct.blob.core.windows.net/", true},
		{public, "http://acct.blob.core.windows.net/disks/vm1.vhd", false},
		{public, "https://acct.blob.core.windows.net:8443/disks/vm1.vhd", false},
		{public, "https://acct.blob.core.windows.net.evil.example/disks/vm1.vhd", false},
		{public, "https://acct.blob.core.windows.net./disks/vm1.vhd", false},
		{public, "https://evil.example/acct.blob.core.windows.net/vm1.vhd", false},
		{public, "https://a.b.blob.core.windows.net/disks/vm1.vhd", false},
		{public, "https://acct.file.core.windows.net/disks/vm1.vhd", false},
		{public, "https://ac.blob.core.windows.net/disks/vm1.vhd", false},
		{public, "https://acct_1.blob.core.windows.net/disks/vm1.vhd", false},
		{public, "https://user:pw@acct.blob.core.windows.net/disks/vm1.vhd", false},
		{public, "https://127.0.0.1/devstoreaccount1/disks/vm1.vhd", false},
		{public, "https://localhost/devstoreaccount1/disks/vm1.vhd", false},
		{public, emulatorEndpoint + "/disks/vm1.vhd", false},
		{public, "https://acct.blob.core.chinacloudapi.cn/disks/vm1.vhd", false},
		{sovereign, "https://acct.blob.core.chinacloudapi.cn/disks/vm1.vhd", true},
		{sovereign, "https://acct.blob.core.windows.net/disks/vm1.vhd", false},
		{local, emulatorEndpoint + "/disks/vm1.vhd", true},
		{local, emulatorEndpoint + "/", true},
		{local, "https://acct.blob.core.windows.net/disks/vm1.vhd", true},
		{local, "http://127.0.0.1:10001/devstoreaccount1/disks/vm1.vhd", false},
		{local, "http://127.0.0.2:10000/devstoreaccount1/disks/vm1.vhd", false},
		{local, "http://localhost:10000/devstoreaccount1/disks/vm1.vhd", false},
		{local, "https://127.0.0.1:10000/devstoreaccount1/disks/vm1.vhd", false},
		{local, "http://127.0.0.1:10000/otheraccount/disks/vm1.vhd", true}, // the emulator's other accounts
		{local, "http://u@127.0.0.1:10000/devstoreaccount1/disks/vm1.vhd", false},
	}
	for _, c := range cases {
		err := c.hosts.CheckURL(c.url)
		if (err == nil) != c.ok {
			t.Errorf("%+v %s: err %v, want ok=%v", c.hosts, c.url, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrNotStorageHost) {
			t.Errorf("%s: %v does not wrap ErrNotStorageHost", c.url, err)
		}
	}
}

// TestSecurityTriggerHostRule: without allow-lists a trigger naming a
// source or destination outside the storage endpoints is Rejected
// NotAllowed (the handler would send a Shared Key, a token or a minted SAS
// there); the emulator endpoint is accepted only when configured.
func TestSecurityTriggerHostRule(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	snapshot := "2026-11-24T10:00:00.1234567Z"
	body := func(src, dst string) []byte {
		return fmt.Appendf(nil, `{"sourceBlobUrl":%q,"snapshot":%q,"destinationBlobUrl":%q}`, src, snapshot, dst)
	}
	const (
		goodSrc = "https://src.blob.core.windows.net/disks/vm1.vhd"
		goodDst = "https://dst.blob.core.windows.net/backups/vm1.vhd"
	)
	cases := []struct {
		name  string
		rules Rules
		body  []byte
		ok    bool
	}{
		{"storage hosts", Rules{}, body(goodSrc, goodDst), true},
		{"foreign destination", Rules{}, body(goodSrc, "https://evil.example/backups/vm1.vhd"), false},
		{"foreign source", Rules{}, body("https://src.evil.example/disks/vm1.vhd", goodDst), false},
		{"loopback destination, no emulator", Rules{}, body(goodSrc, "http://127.0.0.1:9/devstoreaccount1/backups/vm1.vhd"), false},
		{"emulator destination, emulator configured", Rules{Hosts: StorageHosts{Emulator: emulatorEndpoint}}, body(goodSrc, emulatorEndpoint+"/backups/vm1.vhd"), true},
		{"another loopback port, emulator configured", Rules{Hosts: StorageHosts{Emulator: emulatorEndpoint}}, body(goodSrc, "http://127.0.0.1:9/devstoreaccount1/backups/vm1.vhd"), false},
		{"default destination routes to a foreign host", Rules{DestinationContainerURL: "https://evil.example/backups"},
			[]byte(`{"sourceBlobUrl":"` + goodSrc + `","snapshot":"` + snapshot + `"}`), false},
		{"allow-listed foreign host is still refused", Rules{AllowedDestinations: []string{"https://evil.example/backups"}},
			body(goodSrc, "https://evil.example/backups/vm1.vhd"), false},
	}
	for _, c := range cases {
		_, err := ParseTrigger(c.body, c.rules, now)
		if c.ok {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if ie, ok := AsInputError(err); !ok || ie.Code != InputNotAllowed {
			t.Errorf("%s: got %v, want Rejected %s", c.name, err, InputNotAllowed)
		}
	}
}
