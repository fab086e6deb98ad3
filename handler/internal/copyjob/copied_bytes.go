package copyjob

import "time"

// BytesCopied is how many bytes the copy of snapshot s of the source base
// blob at sourceURL moved, as the service reports it: the base blob's
// x-ms-copy-progress while its last copy is that one and succeeded, else
// the progress listed with the destination snapshot copied from it (a later
// copy has replaced the base blob's properties). nil when neither says: a
// Completed event then omits the figure rather than claim zero.
func BytesCopied(d Destination, h History, sourceURL string, s time.Time) *int64 {
	if d.CopyStatus == StatusSuccess && SameBlob(d.CopySource, sourceURL) && d.CopySourceSnapshot.Equal(s) && d.Progress.Known {
		return &d.Progress.Bytes
	}
	if c, ok := h.Find(sourceURL, s); ok && c.Progress.Known {
		return &c.Progress.Bytes
	}
	return nil
}
