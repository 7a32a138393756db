package access

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/regkit/regkit/registry"
)

// Password hashing: argon2id (RFC 9106), in the PHC string format
// "$argon2id$v=19$m=MEMORY,t=TIME,p=THREADS$SALT$HASH" (unpadded standard
// base64), so every hash carries its parameters and they can be raised
// without invalidating stored passwords.

// HashParams are argon2id's cost parameters.
type HashParams struct {
	// Memory in KiB.
	Memory uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
}

// DefaultHashParams are OWASP's recommended minimum for argon2id: 19 MiB,
// two passes, one thread (about 20-40 ms on one core of a small server).
var DefaultHashParams = HashParams{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// PasswordBytes is the entropy of a generated password, in bytes
	// (256 bits); it is shown as 43 characters of unpadded base64url.
	PasswordBytes = 32
	// MaxPasswordLen is the longest password Authenticate hashes; longer
	// ones fail at once, so a client cannot make the server hash megabytes.
	MaxPasswordLen = 1024
)

// NewPassword returns a new random password: PasswordBytes from
// crypto/rand as unpadded base64url (letters, digits, '-' and '_').
func NewPassword() (string, error) {
	b := make([]byte, PasswordBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("access: generate password: %w: %w", registry.ErrUnavailable, err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// hashPassword returns the PHC string of password under a new salt.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("access: salt: %w: %w", registry.ErrUnavailable, err)
	}
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	p := s.hash
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// verifyPassword reports whether password matches the PHC string phc. A
// hash it cannot parse matches nothing.
func (s *Service) verifyPassword(ctx context.Context, phc, password string) (bool, error) {
	p, salt, want, ok := parsePHC(phc)
	if !ok {
		return false, nil
	}
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer s.release()
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// parsePHC splits an argon2id PHC string. Parameters beyond what this
// package writes (over 4 GiB of memory, 100 passes, 255 threads) are
// refused, so a tampered record cannot make verification run for ever.
func parsePHC(phc string) (p HashParams, salt, key []byte, ok bool) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, false
	}
	var m, t, th uint64
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, false
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			th = n
		}
	}
	if m < 8 || m > 4<<20 || t < 1 || t > 100 || th < 1 || th > 255 || m < 8*th {
		return p, nil, nil, false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	key, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 {
		return p, nil, nil, false
	}
	return HashParams{Memory: uint32(m), Time: uint32(t), Threads: uint8(th)}, salt, key, true
}

// acquire takes one of the slots that bound how many hashes run at once
// (and so the memory argon2id takes), waiting while ctx lasts.
func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) release() { <-s.sem }
