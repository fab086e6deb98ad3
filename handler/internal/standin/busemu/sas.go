package busemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// sasPrefix starts every Service Bus SAS token.
const sasPrefix = "SharedAccessSignature "

// errBadToken explains why a SAS token was refused.
var errBadToken = errors.New("invalid SAS token")

// sasToken is a verified token: the resource it covers and until when.
type sasToken struct {
	resource string // decoded sr, e.g. amqp://127.0.0.1:5672/queue
	expiry   time.Time
}

// verifySAS checks a "SharedAccessSignature sr=..&sig=..&se=..&skn=.."
// token: the key name, the HMAC-SHA256 over "<sr as sent>\n<se>" with the
// key, and the expiry.
func verifySAS(token, keyName, key string, now time.Time) (sasToken, error) {
	rest, ok := strings.CutPrefix(token, sasPrefix)
	if !ok {
		return sasToken{}, fmt.Errorf("%w: not a SharedAccessSignature", errBadToken)
	}
	fields := map[string]string{}
	for _, kv := range strings.Split(rest, "&") {
		k, v, _ := strings.Cut(kv, "=")
		fields[k] = v // still URL-encoded: sr is signed as sent
	}
	sr, sig, se, skn := fields["sr"], fields["sig"], fields["se"], fields["skn"]
	if sr == "" || sig == "" || se == "" {
		return sasToken{}, fmt.Errorf("%w: sr, sig and se are required", errBadToken)
	}
	if skn != keyName {
		return sasToken{}, fmt.Errorf("%w: unknown key name %q", errBadToken, skn)
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(sr + "\n" + se))
	want := mac.Sum(nil)
	sigText, err := url.QueryUnescape(sig)
	if err != nil {
		return sasToken{}, fmt.Errorf("%w: signature encoding", errBadToken)
	}
	got, err := base64.StdEncoding.DecodeString(sigText)
	if err != nil || !hmac.Equal(got, want) {
		return sasToken{}, fmt.Errorf("%w: signature does not match the key", errBadToken)
	}
	secs, err := strconv.ParseInt(se, 10, 64)
	if err != nil {
		return sasToken{}, fmt.Errorf("%w: expiry %q", errBadToken, se)
	}
	expiry := time.Unix(secs, 0)
	if !expiry.After(now) {
		return sasToken{}, fmt.Errorf("%w: expired at %s", errBadToken, expiry.UTC().Format(time.RFC3339))
	}
	resource, err := url.QueryUnescape(sr)
	if err != nil {
		return sasToken{}, fmt.Errorf("%w: resource encoding", errBadToken)
	}
	return sasToken{resource: resource, expiry: expiry}, nil
}
