package hostsim

import (
	"encoding/binary"

	"github.com/google/uuid"
)

// formatGUID formats 128 random bits as a version-4 GUID. Ids come from
// seeded generators so that runs are reproducible.
func formatGUID(hi, lo uint64) string {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[:8], hi)
	binary.BigEndian.PutUint64(u[8:], lo)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}
