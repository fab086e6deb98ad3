package busemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// signSAS signs a token the way azservicebus does (internal/sas).
func signSAS(resource, keyName, key string, expiry time.Time) string {
	sr := strings.ToLower(url.QueryEscape(resource))
	se := strconv.FormatInt(expiry.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(sr + "\n" + se))
	sig := url.QueryEscape(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return "SharedAccessSignature sr=" + sr + "&sig=" + sig + "&se=" + se + "&skn=" + keyName
}

func TestVerifySAS(t *testing.T) {
	now := testEpoch
	resource := "amqp://127.0.0.1:5672/copy-poll"
	cases := []struct {
		name  string
		token string
		ok    bool
	}{
		{"valid", signSAS(resource, DevKeyName, DevKey, now.Add(time.Hour)), true},
		{"wrong key", signSAS(resource, DevKeyName, "other", now.Add(time.Hour)), false},
		{"wrong key name", signSAS(resource, "listen", DevKey, now.Add(time.Hour)), false},
		{"expired", signSAS(resource, DevKeyName, DevKey, now.Add(-time.Second)), false},
		{"not SAS", "Bearer abc", false},
		{"missing sig", "SharedAccessSignature sr=x&se=1&skn=" + DevKeyName, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := verifySAS(tc.token, DevKeyName, DevKey, now)
			if tc.ok {
				if err != nil || tok.resource != resource {
					t.Fatalf("verifySAS = %+v, %v", tok, err)
				}
				return
			}
			if !errors.Is(err, errBadToken) {
				t.Fatalf("err = %v, want errBadToken", err)
			}
		})
	}
}

func TestClaimCoverage(t *testing.T) {
	for _, tc := range []struct {
		granted, path string
		want          bool
	}{
		{"", "anything", true},
		{"copy-poll", "copy-poll", true},
		{"copy-poll", "copy-poll/$management", true},
		{"copy-poll", "copy-poll-2", false},
		{"copy-events", "copy-events/subscriptions/all", true},
	} {
		if got := covers(tc.granted, tc.path); got != tc.want {
			t.Errorf("covers(%q, %q) = %v", tc.granted, tc.path, got)
		}
	}
}
