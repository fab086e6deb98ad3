package blobstore

// deref returns *p, or the zero value for nil: azblob reports absent
// headers as nil pointers.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
