package fs

import (
	"encoding/hex"
	"os"
	"strings"
)

// bootID returns the identity of the running boot of the system (Linux's
// random boot_id), or zero if it cannot be read. A checkpoint records it: the
// page cache survives a killed process but not a power loss or a reboot.
func bootID() [16]byte {
	var id [16]byte
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return id
	}
	s := strings.ReplaceAll(strings.TrimSpace(string(b)), "-", "")
	if len(s) != 2*len(id) {
		return id
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return [16]byte{}
	}
	return id
}
