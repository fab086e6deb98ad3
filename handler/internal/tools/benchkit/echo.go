package benchkit

import (
	"io"
	"net/http"

	"github.com/snapcopy/snapcopy/handler/internal/funcproto"
)

// echoBody is the smallest answer the Functions host accepts as a success:
// a 2xx whose body is JSON.
var echoBody = []byte(`{}`)

// Echo is a minimal custom handler: GET / answers the readiness probe and
// any POST is answered 200 {} after its body is read. It is the ceiling a
// Go custom handler can reach on the same HTTP stack.
type Echo struct{}

// ServeHTTP implements http.Handler.
func (Echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(echoBody)
}

// DecodingEcho is Echo that also decodes the host's envelope with
// funcproto.Decode before answering: the floor of any handler that reads
// the message it is given, on the same protocol code as snapcopy.
type DecodingEcho struct{}

// ServeHTTP implements http.Handler.
func (DecodingEcho) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		payload, _ := io.ReadAll(r.Body)
		if inv := funcproto.Decode(r.URL.Path[1:], r.Header.Get("X-Azure-Functions-InvocationId"), payload); inv.DecodeErr != nil {
			http.Error(w, inv.DecodeErr.Error(), http.StatusBadRequest)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(echoBody)
}
