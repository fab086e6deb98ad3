package busemu

import (
	"slices"
	"strings"
	"time"
)

// claim is what a successful put-token grants a connection: access to the
// entities under path until expiry.
type claim struct {
	path   string // normalized; "" covers the whole namespace
	expiry time.Time
}

// putToken handles a `$cbs` request: verify the SAS token and, when it
// covers the requested audience, grant a claim. 202 as Service Bus does.
func (c *conn) putToken(op string, req *message) rpcResult {
	if op != "put-token" {
		return rpcError(statusBadRequest, CondNotImplemented, "unsupported $cbs operation "+op)
	}
	token, _ := req.value().(string)
	tok, err := verifySAS(token, c.b.opts.KeyName, c.b.opts.Key, c.b.now())
	if err != nil {
		return rpcError(statusUnauthorized, CondUnauthorized, err.Error())
	}
	granted := normalizePath(tok.resource)
	audience := normalizePath(req.appProperties.String("name"))
	if !covers(granted, audience) {
		return rpcError(statusUnauthorized, CondUnauthorized, "token resource "+tok.resource+" does not cover "+audience)
	}
	if entity := strings.TrimSuffix(audience, suffixManagement); entity != "" && !c.b.exists(entity) {
		// As Service Bus does: put-token for a missing entity answers 404,
		// which azservicebus reports as CodeNotFound.
		return rpcError(statusNotFound, CondNotFound, "The messaging entity '"+entity+"' could not be found.")
	}
	// A refreshed token replaces the claim it renews, and expired claims
	// go, so a long-lived connection's claims stay as many as its paths.
	now := c.b.now()
	c.claims = slices.DeleteFunc(c.claims, func(cl claim) bool { return cl.path == granted || !cl.expiry.After(now) })
	c.claims = append(c.claims, claim{path: granted, expiry: tok.expiry})
	return rpcResult{status: statusAccepted, description: "Accepted"}
}

// exists reports whether path names a queue, topic, subscription or DLQ.
func (b *Broker) exists(path string) bool {
	if _, err := b.resolveNode(path); err == nil {
		return true
	}
	_, err := b.resolveStore(path)
	return err == nil
}

// authorized reports whether a live claim covers the entity path.
func (c *conn) authorized(path string) bool {
	now := c.b.now()
	for _, cl := range c.claims {
		if cl.expiry.After(now) && covers(cl.path, path) {
			return true
		}
	}
	return false
}

// covers reports whether a claim on granted includes path (itself or below).
func covers(granted, path string) bool {
	return granted == "" || path == granted || strings.HasPrefix(path, granted+"/")
}
