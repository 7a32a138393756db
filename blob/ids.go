package blob

import (
	"crypto/rand"
	"encoding/hex"
)

// uploadIDBytes is the entropy of an upload ID; its hex form is twice as long.
const uploadIDBytes = 16

// NewUploadID returns a fresh upload ID: 32 lowercase hexadecimal characters
// from crypto/rand. Backends use it so every ID passes [CheckUploadID] and
// can safely name a file, a directory or an object key.
func NewUploadID() string {
	var b [uploadIDBytes]byte
	// crypto/rand.Read never returns an error; it panics if the system
	// randomness source fails, which nothing here can recover from.
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// CheckUploadID reports whether id has the form [NewUploadID] produces. Upload
// IDs arrive from clients, so backends call it before using an ID as a key or
// a path element; it returns an error wrapping ErrNotFound for anything else,
// because no upload by a malformed ID can exist.
func CheckUploadID(id string) error {
	if len(id) != 2*uploadIDBytes {
		return wrapf(ErrNotFound, "upload %q", truncate(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return wrapf(ErrNotFound, "upload %q", truncate(id))
		}
	}
	return nil
}
