package storageemu

import (
	"cmp"
	"encoding/base64"
	"encoding/xml"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// listResult is the List Blobs (flat) response body.
type listResult struct {
	XMLName         xml.Name     `xml:"EnumerationResults"`
	ServiceEndpoint string       `xml:"ServiceEndpoint,attr"`
	ContainerName   string       `xml:"ContainerName,attr"`
	Prefix          string       `xml:"Prefix,omitempty"`
	Marker          string       `xml:"Marker,omitempty"`
	MaxResults      int          `xml:"MaxResults,omitempty"`
	Blobs           []listedBlob `xml:"Blobs>Blob"`
	NextMarker      string       `xml:"NextMarker"`
}

type listedBlob struct {
	Name       string          `xml:"Name"`
	Snapshot   string          `xml:"Snapshot,omitempty"`
	Properties listedProps     `xml:"Properties"`
	Metadata   *listedMetadata `xml:"Metadata,omitempty"`
}

type listedProps struct {
	CreationTime          string `xml:"Creation-Time"`
	LastModified          string `xml:"Last-Modified"`
	ETag                  string `xml:"Etag"`
	ContentLength         int64  `xml:"Content-Length"`
	ContentType           string `xml:"Content-Type"`
	ContentEncoding       string `xml:"Content-Encoding"`
	ContentLanguage       string `xml:"Content-Language"`
	ContentMD5            string `xml:"Content-MD5"`
	ContentDisposition    string `xml:"Content-Disposition"`
	CacheControl          string `xml:"Cache-Control"`
	SequenceNumber        *int64 `xml:"x-ms-blob-sequence-number,omitempty"`
	BlobType              string `xml:"BlobType"`
	LeaseStatus           string `xml:"LeaseStatus,omitempty"`
	LeaseState            string `xml:"LeaseState,omitempty"`
	ServerEncrypted       bool   `xml:"ServerEncrypted"`
	IncrementalCopy       *bool  `xml:"IncrementalCopy,omitempty"`
	CopyID                string `xml:"CopyId,omitempty"`
	CopyStatus            string `xml:"CopyStatus,omitempty"`
	CopySource            string `xml:"CopySource,omitempty"`
	CopyProgress          string `xml:"CopyProgress,omitempty"`
	CopyCompletionTime    string `xml:"CopyCompletionTime,omitempty"`
	CopyStatusDescription string `xml:"CopyStatusDescription,omitempty"`
	DestinationSnapshot   string `xml:"DestinationSnapshot,omitempty"`
}

// listedMetadata marshals a metadata map as <Metadata><key>value</key>...</Metadata>.
type listedMetadata map[string]string

func (m listedMetadata) MarshalXML(enc *xml.Encoder, start xml.StartElement) error {
	if err := enc.EncodeToken(start); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if err := enc.EncodeElement(m[k], xml.StartElement{Name: xml.Name{Local: k}}); err != nil {
			return err
		}
	}
	return enc.EncodeToken(start.End())
}

// listBlobs is List Blobs (flat): names in order, each blob's snapshots
// (include=snapshots) oldest first before the base blob, copy properties with
// include=copy and metadata with include=metadata.
func (e *Emulator) listBlobs(req *request) *storageError {
	c, err := e.container(req)
	if err != nil {
		return err
	}
	q := req.r.URL.Query()
	include := map[string]bool{}
	for _, v := range strings.Split(q.Get("include"), ",") {
		include[strings.ToLower(strings.TrimSpace(v))] = true
	}
	maxResults := 5000
	if v := q.Get("maxresults"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 {
			return errInvalidQueryValue
		}
		maxResults = min(n, maxResults)
	}

	var all []*pageBlob
	names := make([]string, 0, len(c.blobs))
	for name := range c.blobs {
		if strings.HasPrefix(name, q.Get("prefix")) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	nameOf := map[*pageBlob]string{}
	for _, name := range names {
		f := c.blobs[name]
		e.settle(f, req.now)
		if include["snapshots"] {
			for _, s := range f.snapshots {
				all = append(all, s)
				nameOf[s] = name
			}
		}
		all = append(all, f.base)
		nameOf[f.base] = name
	}

	startAt := 0
	if m := q.Get("marker"); m != "" {
		key, derr := base64.RawURLEncoding.DecodeString(m)
		if derr != nil {
			return errInvalidQueryValue
		}
		startAt, _ = slices.BinarySearchFunc(all, string(key), func(b *pageBlob, k string) int {
			return cmp.Compare(listKey(nameOf[b], b), k)
		})
	}
	res := listResult{
		ServiceEndpoint: serviceEndpoint(req.r, req.acct.name), ContainerName: c.name,
		Prefix: q.Get("prefix"), Marker: q.Get("marker"),
	}
	if q.Has("maxresults") {
		res.MaxResults = maxResults
	}
	end := min(len(all), startAt+maxResults)
	for _, b := range all[startAt:end] {
		res.Blobs = append(res.Blobs, listed(nameOf[b], b, include))
	}
	if end < len(all) {
		res.NextMarker = base64.RawURLEncoding.EncodeToString([]byte(listKey(nameOf[all[end]], all[end])))
	}
	body, _ := xml.Marshal(res)
	req.w.Header().Set("Content-Type", "application/xml")
	req.w.WriteHeader(http.StatusOK)
	_, _ = req.w.Write([]byte(xml.Header))
	_, _ = req.w.Write(body)
	return nil
}

// listKey orders listed items: by name, then snapshots by time, base last.
func listKey(name string, b *pageBlob) string {
	ts := b.snapshot
	if ts == "" {
		ts = "~" // after every digit-led snapshot time
	}
	return name + "\x00" + ts
}

func listed(name string, b *pageBlob, include map[string]bool) listedBlob {
	p := listedProps{
		CreationTime: httpTime(b.created), LastModified: httpTime(b.lastModified),
		ETag: strings.Trim(b.etag, `"`), ContentLength: b.size, ContentType: b.content.contentType,
		ContentEncoding: b.content.encoding, ContentLanguage: b.content.language, ContentMD5: b.content.md5,
		CacheControl: b.content.cacheControl, ContentDisposition: b.content.disposition,
		BlobType: b.blobType, ServerEncrypted: true,
	}
	if b.blobType == typePageBlob {
		p.SequenceNumber = &b.sequenceNumber
	}
	if b.snapshot == "" {
		p.LeaseStatus, p.LeaseState = "unlocked", "available"
	}
	if c := b.copy; c != nil {
		if c.incremental {
			yes := true
			p.IncrementalCopy = &yes
		}
		if include["copy"] && c.id != "" {
			p.CopyID, p.CopyStatus, p.CopySource = c.id, c.status, c.sourceURL
			p.CopyProgress = c.progress()
			if c.status != copyPending {
				p.CopyCompletionTime = httpTime(c.completed)
			}
			p.CopyStatusDescription = c.description
			if c.incremental && c.status == copySuccess {
				p.DestinationSnapshot = c.destSnapshot
			}
		}
	}
	item := listedBlob{Name: name, Snapshot: b.snapshot, Properties: p}
	if include["metadata"] {
		md := listedMetadata(b.metadata)
		item.Metadata = &md
	}
	return item
}

// serviceEndpoint is the account's base URL as the client addressed it.
func serviceEndpoint(r *http.Request, accountName string) string {
	return requestScheme(r) + "://" + r.Host + "/" + accountName + "/"
}
