package storageemu

import (
	"maps"
	"slices"
)

// pageSize is the page-blob granularity: every write and clear is aligned to it.
const pageSize = 512

// pageSet holds the written pages of a page blob sparsely: page index → 512
// bytes. Unwritten pages read as zeros and cost nothing. A page's bytes are
// never modified in place, so sets can share them: a snapshot or a copy
// destination points at the same set and the writer clones before writing
// (copy-on-write, see pageBlob.writablePages).
type pageSet map[int64][]byte

// write stores data (a whole number of pages) at byte offset off. The pages
// slice one buffer owned by the set from now on.
func (s pageSet) write(off int64, data []byte) {
	for i := 0; i < len(data); i += pageSize {
		s[(off+int64(i))/pageSize] = data[i : i+pageSize : i+pageSize]
	}
}

// clear forgets the pages of [start, end), visiting whichever is smaller:
// the written pages or the range, so that clearing a whole 8 TiB blob costs
// what the blob stores.
func (s pageSet) clear(start, end int64) {
	first, last := start/pageSize, end/pageSize-1
	if int64(len(s)) < last-first+1 {
		for p := range s {
			if p >= first && p <= last {
				delete(s, p)
			}
		}
		return
	}
	for p := first; p <= last; p++ {
		delete(s, p)
	}
}

// readAt fills buf with the bytes at off (zeros where nothing is written).
func (s pageSet) readAt(buf []byte, off int64) {
	clear(buf)
	if len(buf) == 0 {
		return
	}
	for p, data := range s.within(off/pageSize, (off+int64(len(buf))-1)/pageSize) {
		copyPage(buf, off, p, data)
	}
}

// within returns the written pages first..last as a new set sharing their
// bytes, visiting whichever is smaller: the written pages or the range.
func (s pageSet) within(first, last int64) pageSet {
	out := pageSet{}
	if int64(len(s)) < last-first+1 {
		for p, data := range s {
			if p >= first && p <= last {
				out[p] = data
			}
		}
		return out
	}
	for p := first; p <= last; p++ {
		if data, ok := s[p]; ok {
			out[p] = data
		}
	}
	return out
}

func copyPage(buf []byte, off, page int64, data []byte) {
	pageStart := page * pageSize
	if pageStart >= off {
		copy(buf[pageStart-off:], data)
		return
	}
	copy(buf, data[off-pageStart:])
}

// byteRange is an inclusive byte range as Get Page Ranges reports it.
type byteRange struct{ start, end int64 }

// ranges returns the written pages of [start, end] coalesced into ranges.
func (s pageSet) ranges(start, end int64) []byteRange {
	return coalesce(s.pagesIn(start, end, func(int64) bool { return true }))
}

func (s pageSet) pagesIn(start, end int64, keep func(int64) bool) []int64 {
	var pages []int64
	for p := range s {
		if p*pageSize+pageSize-1 >= start && p*pageSize <= end && keep(p) {
			pages = append(pages, p)
		}
	}
	slices.Sort(pages)
	return pages
}

// diff compares s with an older set prev over [start, end]: pages written or
// rewritten since prev, and pages cleared since prev. A page counts as
// rewritten when it is not the very same stored page, as the service reports
// writes, not content changes.
func (s pageSet) diff(prev pageSet, start, end int64) (changed, cleared []byteRange) {
	changed = coalesce(s.pagesIn(start, end, func(p int64) bool {
		old, ok := prev[p]
		return !ok || !samePage(old, s[p])
	}))
	cleared = coalesce(prev.pagesIn(start, end, func(p int64) bool {
		_, ok := s[p]
		return !ok
	}))
	return changed, cleared
}

// changedBytes is how many bytes an incremental copy from prev to s moves.
func (s pageSet) changedBytes(prev pageSet) int64 {
	var n int64
	for p, data := range s {
		if old, ok := prev[p]; !ok || !samePage(old, data) {
			n += pageSize
		}
	}
	return n
}

func samePage(a, b []byte) bool { return &a[0] == &b[0] }

func coalesce(pages []int64) []byteRange {
	var out []byteRange
	for _, p := range pages {
		start := p * pageSize
		if n := len(out); n > 0 && out[n-1].end+1 == start {
			out[n-1].end = start + pageSize - 1
			continue
		}
		out = append(out, byteRange{start: start, end: start + pageSize - 1})
	}
	return out
}

func (s pageSet) clone() pageSet { return maps.Clone(s) }
