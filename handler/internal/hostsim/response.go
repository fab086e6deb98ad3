package hostsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
)

// invocationResult is the custom handler's answer (platform-notes §2.6).
type invocationResult struct {
	Outputs     map[string]any
	Logs        []any
	ReturnValue any
}

// readResult decides an answer the way the real host does: non-2xx fails;
// a 2xx body is read by ASP.NET's JSON formatter, so it must be empty, or
// JSON (application/json or text/json) decoding to an object or null. It
// returns the Logs, which the host records only on success.
func readResult(status int, contentType string, body []byte) ([]string, error) {
	if status < 200 || status > 299 {
		return nil, fmt.Errorf("%w: %d", ErrHandlerStatus, status)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil // an empty body reads as a null result
	}
	media, _, _ := mime.ParseMediaType(contentType)
	if media != "application/json" && media != "text/json" {
		return nil, fmt.Errorf("%w: Content-Type %q has no JSON reader", ErrInvalidResponse, contentType)
	}
	var r *invocationResult
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidResponse, err)
	}
	if r == nil {
		return nil, nil
	}
	logs := make([]string, len(r.Logs))
	for i, l := range r.Logs {
		if s, ok := l.(string); ok {
			logs[i] = s
		} else {
			logs[i] = fmt.Sprint(l)
		}
	}
	return logs, nil
}
