package storageemu

import (
	"cmp"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

func (e *Emulator) putPage(req *request) *storageError {
	if len(req.body)%pageSize != 0 {
		return errPageContentUnaligned
	}
	b, start, end, err := e.pageWriteTarget(req)
	if err != nil {
		return err
	}
	if end-start+1 != int64(len(req.body)) {
		return errInvalidPageRange
	}
	if err := checkTransferMD5(req.r.Header, req.body); err != nil {
		return err
	}
	b.writablePages().write(start, req.body)
	return touched(req, b)
}

func (e *Emulator) clearPage(req *request) *storageError {
	if req.r.ContentLength > 0 {
		return errClearWithBody
	}
	b, start, end, err := e.pageWriteTarget(req)
	if err != nil {
		return err
	}
	b.writablePages().clear(start, end+1)
	return touched(req, b)
}

// pageWriteTarget finds the base page blob a page write addresses and the
// range it writes, which must lie within the blob.
func (e *Emulator) pageWriteTarget(req *request) (b *pageBlob, start, end int64, err *storageError) {
	if req.t.snapshot != "" {
		return nil, 0, 0, errInvalidQueryValue
	}
	_, b, err = e.addressed(req)
	switch {
	case err != nil:
		return nil, 0, 0, err
	case b.isIncrementalCopy():
		return nil, 0, 0, errNotAllowedOnIncrementalCopy
	case b.copyPending():
		return nil, 0, 0, errPendingCopy
	case b.blobType != typePageBlob:
		return nil, 0, 0, errInvalidBlobType
	}
	if cerr := checkConditions(req.r, b); cerr != nil {
		return nil, 0, 0, cerr
	}
	if serr := checkSequenceConditions(req.r.Header, b.sequenceNumber); serr != nil {
		return nil, 0, 0, serr
	}
	if start, end, err = pageRange(req.r.Header); err != nil {
		return nil, 0, 0, err
	}
	if end >= b.size {
		return nil, 0, 0, errInvalidPageRange
	}
	return b, start, end, nil
}

// touched records a write and answers it.
func touched(req *request, b *pageBlob) *storageError {
	b.etag = newETag()
	b.lastModified = req.now
	writeBlobWriteHeaders(req.w, b)
	req.w.Header().Set("x-ms-blob-sequence-number", strconv.FormatInt(b.sequenceNumber, 10))
	req.w.WriteHeader(http.StatusCreated)
	return nil
}

// pageList is the Get Page Ranges response body: PageRange and ClearRange
// elements in offset order, then NextMarker.
type pageList struct {
	XMLName    xml.Name   `xml:"PageList"`
	Ranges     []xmlRange // named PageRange or ClearRange by their XMLName
	NextMarker string     `xml:"NextMarker"`
}

type xmlRange struct {
	XMLName xml.Name
	Start   int64 `xml:"Start"`
	End     int64 `xml:"End"`
}

// maxPageRangesPerResponse is the most ranges one Get Page Ranges answers
// with (also the largest maxresults honoured); the rest follow NextMarker.
const maxPageRangesPerResponse = 10000

// getPageRanges lists the written ranges or, with prevsnapshot, the ranges
// written and cleared since that snapshot of the same blob.
func (e *Emulator) getPageRanges(req *request) *storageError {
	f, b, err := e.readable(req)
	if err != nil {
		return err
	}
	if b.blobType != typePageBlob {
		return errInvalidBlobType
	}
	if cerr := checkConditions(req.r, b); cerr != nil {
		return cerr
	}
	start, end, ok, err := requestRange(req.r.Header)
	if err != nil {
		return err
	}
	if ok && start >= b.size {
		return errInvalidRange
	}
	if !ok || end < 0 || end >= b.size {
		end = b.size - 1
	}
	q := req.r.URL.Query()
	limit, after, err := pageListWindow(q)
	if err != nil {
		return err
	}
	var ranges []xmlRange
	if prev := q.Get("prevsnapshot"); prev != "" {
		old := f.snapshot(prev)
		switch {
		case old == nil:
			return errPreviousSnapshotNotFound
		case old.generation != b.generation:
			return errBlobOverwritten
		}
		changed, cleared := b.pages.diff(old.pages, start, end)
		ranges = mergeRanges(toXML("PageRange", changed, start, end), toXML("ClearRange", cleared, start, end))
	} else {
		ranges = toXML("PageRange", b.pages.ranges(start, end), start, end)
	}
	first, _ := slices.BinarySearchFunc(ranges, after, func(r xmlRange, off int64) int { return cmp.Compare(r.Start, off) })
	list := pageList{Ranges: ranges[first:]}
	if len(list.Ranges) > limit {
		list.Ranges = list.Ranges[:limit]
		list.NextMarker = pageListMarker(ranges[first+limit].Start)
	}
	body, _ := xml.Marshal(list)
	h := req.w.Header()
	h.Set("ETag", b.etag)
	h.Set("Last-Modified", httpTime(b.lastModified))
	h.Set("x-ms-blob-content-length", strconv.FormatInt(b.size, 10))
	h.Set("Content-Type", "application/xml")
	req.w.WriteHeader(http.StatusOK)
	_, _ = req.w.Write([]byte(xml.Header))
	_, _ = req.w.Write(body)
	return nil
}

// toXML clips ranges to [start, end] for the response, as elements named name.
func toXML(name string, rs []byteRange, start, end int64) []xmlRange {
	out := make([]xmlRange, 0, len(rs))
	for _, r := range rs {
		out = append(out, xmlRange{XMLName: xml.Name{Local: name}, Start: max(r.start, start), End: min(r.end, end)})
	}
	return out
}

// mergeRanges merges two offset-ordered, disjoint lists into one.
func mergeRanges(a, b []xmlRange) []xmlRange {
	out := slices.Concat(a, b)
	slices.SortFunc(out, func(x, y xmlRange) int { return cmp.Compare(x.Start, y.Start) })
	return out
}

// pageListWindow reads maxresults and marker: how many ranges to answer and
// the offset to continue from.
func pageListWindow(q url.Values) (limit int, after int64, err *storageError) {
	limit = maxPageRangesPerResponse
	if v := q.Get("maxresults"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 {
			return 0, 0, errInvalidQueryValue
		}
		limit = min(n, limit)
	}
	if m := q.Get("marker"); m != "" {
		raw, derr := base64.RawURLEncoding.DecodeString(m)
		off, perr := strconv.ParseInt(strings.TrimPrefix(string(raw), pageMarkerPrefix), 10, 64)
		if derr != nil || perr != nil || !strings.HasPrefix(string(raw), pageMarkerPrefix) {
			return 0, 0, errInvalidQueryValue
		}
		after = off
	}
	return limit, after, nil
}

// pageMarkerPrefix starts every Get Page Ranges marker (opaque to clients).
const pageMarkerPrefix = "pages@"

func pageListMarker(next int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(pageMarkerPrefix + strconv.FormatInt(next, 10)))
}

// getBlob downloads the blob or a byte range of it; unwritten pages are zeros.
func (e *Emulator) getBlob(req *request) *storageError {
	_, b, err := e.readable(req)
	if err != nil {
		return err
	}
	if cerr := checkConditions(req.r, b); cerr != nil {
		return cerr
	}
	// An unparsable range is ignored and the whole blob returned, as HTTP
	// prescribes for Range (RFC 9110 §14.2) and Azurite does.
	start, end, ranged, rerr := requestRange(req.r.Header)
	if rerr != nil {
		start, end, ranged = 0, -1, false
	}
	h := req.w.Header()
	if ranged && start >= b.size {
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(b.size, 10))
		return errInvalidRange
	}
	if !ranged || end < 0 || end >= b.size {
		end = b.size - 1
	}
	length := end - start + 1
	// The body is written after the state lock is released, from the pages
	// of the range (immutable bytes), in bounded chunks.
	pages := b.pages.within(start/pageSize, end/pageSize)
	wantRangeMD5 := strings.EqualFold(req.r.Header.Get("x-ms-range-get-content-md5"), "true")
	if wantRangeMD5 && (!ranged || length > maxRangeMD5Bytes) {
		return errRangeMD5
	}
	writeBlobProperties(req.w, b, req.r)
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	h.Set("Accept-Ranges", "bytes")
	status := http.StatusOK
	if ranged {
		h.Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end, 10)+"/"+strconv.FormatInt(b.size, 10))
		status = http.StatusPartialContent
		// A range's Content-MD5 is its own; the blob's travels apart.
		h.Del("Content-MD5")
		if b.content.md5 != "" {
			h.Set("x-ms-blob-content-md5", b.content.md5)
		}
		if wantRangeMD5 {
			buf := make([]byte, length)
			pages.readAt(buf, start)
			h.Set("Content-MD5", md5Base64(buf))
		}
	}
	req.w.WriteHeader(status)
	req.stream = func(w io.Writer) { streamPages(w, pages, start, length) }
	return nil
}

// maxRangeMD5Bytes is the largest range the service hashes for
// x-ms-range-get-content-md5.
const maxRangeMD5Bytes = 4 << 20

// downloadChunk bounds the memory one download uses.
const downloadChunk = 1 << 20

func streamPages(w io.Writer, pages pageSet, off, length int64) {
	buf := make([]byte, min(length, downloadChunk))
	for length > 0 {
		n := min(length, int64(len(buf)))
		pages.readAt(buf[:n], off)
		if _, err := w.Write(buf[:n]); err != nil {
			return // the client went away
		}
		off, length = off+n, length-n
	}
}
