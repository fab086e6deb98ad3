package storageemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// sharedKeyPrefix starts an Authorization header signed with an account key.
const sharedKeyPrefix = "SharedKey "

// verifySharedKey checks an "Authorization: SharedKey account:signature"
// header the way the service does for version 2009-09-19 and later.
func verifySharedKey(r *http.Request, acct *account) bool {
	name, sig, ok := strings.Cut(strings.TrimPrefix(r.Header.Get("Authorization"), sharedKeyPrefix), ":")
	if !ok || name != acct.name {
		return false
	}
	want := sign(acct.key, sharedKeyStringToSign(r, acct.name))
	return hmac.Equal([]byte(sig), []byte(want))
}

func sign(key []byte, stringToSign string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// sharedKeyStringToSign builds the Blob service string-to-sign. With
// path-style URLs the account appears twice in the canonicalized resource
// (/account/account/container/blob), exactly as the SDKs and Azurite do it.
func sharedKeyStringToSign(r *http.Request, accountName string) string {
	h := r.Header
	contentLength := h.Get("Content-Length")
	if contentLength == "0" {
		contentLength = "" // since 2015-02-21 a zero length is signed as empty
	}
	fields := []string{
		r.Method,
		h.Get("Content-Encoding"),
		h.Get("Content-Language"),
		contentLength,
		h.Get("Content-MD5"),
		h.Get("Content-Type"),
		h.Get("Date"),
		h.Get("If-Modified-Since"),
		h.Get("If-Match"),
		h.Get("If-None-Match"),
		h.Get("If-Unmodified-Since"),
		h.Get("Range"),
	}
	return strings.Join(fields, "\n") + "\n" +
		canonicalizedHeaders(h) +
		canonicalizedResource(r.URL, accountName)
}

// canonicalizedHeaders lists the x-ms-* headers, one "name:value\n" each.
// Names sort with hyphens ignored first, as the SDKs' culture-aware comparer
// orders them; plain byte order breaks the tie.
func canonicalizedHeaders(h http.Header) string {
	var names []string
	for k := range h {
		if name := strings.ToLower(k); strings.HasPrefix(name, "x-ms-") {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := strings.Compare(strings.ReplaceAll(a, "-", ""), strings.ReplaceAll(b, "-", "")); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	var sb strings.Builder
	for _, name := range names {
		sb.WriteString(name + ":" + strings.Join(h.Values(name), ",") + "\n")
	}
	return sb.String()
}

// canonicalizedResource is "/account" + the escaped path + each query
// parameter as "\nname:v1,v2" with names lowercased and sorted.
func canonicalizedResource(u *url.URL, accountName string) string {
	var sb strings.Builder
	sb.WriteString("/" + accountName)
	if p := u.EscapedPath(); p != "" {
		sb.WriteString(p)
	} else {
		sb.WriteString("/")
	}
	params, _ := url.ParseQuery(u.RawQuery)
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		values := slices.Clone(params[k])
		slices.Sort(values)
		sb.WriteString("\n" + strings.ToLower(k) + ":" + strings.Join(values, ","))
	}
	return sb.String()
}
