package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/regkit/regkit/internal/errdef"
)

// Algorithm is a signing algorithm for tokens.
type Algorithm string

// The algorithms a Service signs with.
const (
	ES256 Algorithm = "ES256" // ECDSA P-256 with SHA-256 (the default)
	EdDSA Algorithm = "EdDSA" // Ed25519
)

const (
	keyFileSuffix = ".pem"
	pemType       = "PRIVATE KEY"
	pemCreated    = "Created"
)

// key is one signing key.
type key struct {
	kid     string
	method  jwt.SigningMethod
	priv    crypto.Signer
	pub     crypto.PublicKey
	created time.Time
	// header is the encoded JOSE header of tokens this key signs.
	header string
}

// KeyInfo describes a signing key (Service.Keys).
type KeyInfo struct {
	// ID is the key's "kid".
	ID string
	// Algorithm is the key's algorithm.
	Algorithm Algorithm
	// Created is when the key was made.
	Created time.Time
	// Signing is set on the key that signs new tokens.
	Signing bool
	// Retired is when a newer key took over signing (zero for the signer).
	Retired time.Time
}

// keyring holds the signing key and the older keys that still verify.
// Keys are ordered by creation; the newest signs. A key retires when a
// newer one is made and is dropped once every token it signed has expired
// (retired + the longest token lifetime).
type keyring struct {
	store keyStore // nil keeps keys in memory only
	alg   Algorithm

	// io serializes the folder's readers and writers, so that a reload
	// never installs a listing older than a concurrent rotation.
	io         sync.Mutex
	mu         sync.RWMutex
	keys       []*key // oldest first
	lastReload time.Time
}

// newKey makes a key of alg created at now.
func newKey(alg Algorithm, now time.Time) (*key, error) {
	var priv crypto.Signer
	switch alg {
	case ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("token: generate key: %w", err)
		}
		priv = k
	case EdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("token: generate key: %w", err)
		}
		priv = k
	default:
		return nil, fmt.Errorf("token: algorithm %q: %w", alg, errdef.ErrUnsupported)
	}
	var id [10]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("token: key id: %w", err)
	}
	kid := strings.ToLower(base32.StdEncoding.EncodeToString(id[:]))
	return makeKey(kid, priv, now.UTC().Truncate(time.Microsecond))
}

// makeKey completes a key from its private half.
func makeKey(kid string, priv crypto.Signer, created time.Time) (*key, error) {
	k := &key{kid: kid, priv: priv, pub: priv.Public(), created: created}
	switch p := priv.(type) {
	case *ecdsa.PrivateKey:
		if p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("token: key %s: ECDSA curve %s: %w", kid, p.Curve.Params().Name, errdef.ErrUnsupported)
		}
		k.method = jwt.SigningMethodES256
	case ed25519.PrivateKey:
		k.method = jwt.SigningMethodEdDSA
	default:
		return nil, fmt.Errorf("token: key %s: type %T: %w", kid, priv, errdef.ErrUnsupported)
	}
	h, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{k.method.Alg(), kid, "JWT"})
	if err != nil {
		return nil, err
	}
	k.header = base64.RawURLEncoding.EncodeToString(h)
	return k, nil
}

func (k *key) info() KeyInfo {
	return KeyInfo{ID: k.kid, Algorithm: Algorithm(k.method.Alg()), Created: k.created}
}

// load reads every key of the folder, creating the folder and a first key
// when there is none.
func (kr *keyring) load(now time.Time) error {
	kr.io.Lock()
	defer kr.io.Unlock()
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if kr.store == nil {
		if len(kr.keys) == 0 {
			k, err := newKey(kr.alg, now)
			if err != nil {
				return err
			}
			kr.keys = []*key{k}
		}
		return nil
	}
	keys, err := kr.store.read()
	if err != nil {
		return err
	}
	kr.keys = keys
	kr.lastReload = now
	if len(kr.keys) == 0 {
		k, err := newKey(kr.alg, now)
		if err != nil {
			return err
		}
		if err := kr.store.write(k); err != nil {
			return err
		}
		kr.keys = []*key{k}
	}
	return nil
}

// readKeys reads the key files of dir, oldest first.
func readKeys(dir string) ([]*key, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("token: key folder: %w: %w", errdef.ErrUnavailable, err)
	}
	var keys []*key
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, keyFileSuffix) || strings.HasPrefix(name, ".") {
			continue
		}
		k, err := readKey(filepath.Join(dir, name), strings.TrimSuffix(name, keyFileSuffix))
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b *key) int {
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		return strings.Compare(a.kid, b.kid)
	})
	return keys, nil
}

func readKey(path, kid string) (*key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("token: read key: %w: %w", errdef.ErrUnavailable, err)
	}
	return decodeKey("key file "+path, kid, b)
}

// decodeKey parses a key as encodeKey writes it; what names it in errors.
func decodeKey(what, kid string, b []byte) (*key, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != pemType {
		return nil, fmt.Errorf("token: %s: no %s block: %w", what, pemType, errdef.ErrInvalid)
	}
	created, err := time.Parse(time.RFC3339Nano, blk.Headers[pemCreated])
	if err != nil {
		return nil, fmt.Errorf("token: %s: %s header: %w: %w", what, pemCreated, errdef.ErrInvalid, err)
	}
	p, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("token: %s: %w: %w", what, errdef.ErrInvalid, err)
	}
	signer, ok := p.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("token: %s: type %T: %w", what, p, errdef.ErrUnsupported)
	}
	return makeKey(kid, signer, created)
}

// encodeKey renders k as a PKCS#8 PEM block with its creation time.
func encodeKey(k *key) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("token: encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{
		Type:    pemType,
		Headers: map[string]string{pemCreated: k.created.Format(time.RFC3339Nano)},
		Bytes:   der,
	}), nil
}

// writeKey stores k in dir with mode 0600: a temporary file, synced, then
// renamed into place and the folder synced.
func writeKey(dir string, k *key) error {
	data, err := encodeKey(k)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".key-*")
	if err != nil {
		return fmt.Errorf("token: write key: %w: %w", errdef.ErrUnavailable, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		_ = f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("token: write key: %w: %w", errdef.ErrUnavailable, err)
	}
	if err := f.Chmod(0o600); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, k.kid+keyFileSuffix)); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("token: write key: %w: %w", errdef.ErrUnavailable, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("token: sync key folder: %w: %w", errdef.ErrUnavailable, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("token: sync key folder: %w: %w", errdef.ErrUnavailable, err)
	}
	return nil
}

// signerAt returns the key that signs new tokens, first rereading a shared
// folder when it was last read a minute or more ago, so that every process
// sharing the folder signs with the newest key.
func (kr *keyring) signerAt(now time.Time) *key {
	kr.mu.RLock()
	stale := kr.store != nil && now.Sub(kr.lastReload) >= time.Minute
	kr.mu.RUnlock()
	if stale {
		kr.reload(now, time.Minute)
	}
	return kr.signer()
}

// signer returns the key that signs new tokens.
func (kr *keyring) signer() *key {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.keys[len(kr.keys)-1]
}

// lookup returns the key with kid, or nil.
func (kr *keyring) lookup(kid string) *key {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	for _, k := range kr.keys {
		if k.kid == kid {
			return k
		}
	}
	return nil
}

// reloadFor rereads the folder when kid is unknown (another process sharing
// the folder may have rotated), at most once a second.
func (kr *keyring) reloadFor(kid string, now time.Time) *key {
	if !kr.reload(now, time.Second) {
		return nil
	}
	return kr.lookup(kid)
}

// reload rereads the folder unless it was read less than every ago; it
// reports whether it read. A folder that cannot be read keeps the keys
// already known.
func (kr *keyring) reload(now time.Time, every time.Duration) bool {
	if kr.store == nil {
		return false
	}
	kr.mu.Lock()
	if d := now.Sub(kr.lastReload); d < every && d >= 0 {
		kr.mu.Unlock()
		return false
	}
	kr.lastReload = now
	kr.mu.Unlock()
	kr.io.Lock()
	defer kr.io.Unlock()
	keys, err := kr.store.read()
	if err != nil || len(keys) == 0 {
		return false
	}
	kr.mu.Lock()
	kr.keys = keys
	kr.mu.Unlock()
	return true
}

// rotate makes a new signing key and drops keys whose tokens have all
// expired by now (maxLife is the longest token lifetime).
func (kr *keyring) rotate(now time.Time, maxLife time.Duration) (KeyInfo, error) {
	k, err := newKey(kr.alg, now)
	if err != nil {
		return KeyInfo{}, err
	}
	kr.io.Lock()
	defer kr.io.Unlock()
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if last := kr.keys[len(kr.keys)-1]; !k.created.After(last.created) {
		// Keep creation order strict even with a clock that stands still.
		k.created = last.created.Add(time.Microsecond)
	}
	if kr.store != nil {
		if err := kr.store.write(k); err != nil {
			return KeyInfo{}, err
		}
	}
	kr.keys = append(kr.keys, k)
	if err := kr.pruneLocked(now, maxLife); err != nil {
		return KeyInfo{}, err
	}
	inf := k.info()
	inf.Signing = true
	return inf, nil
}

// pruneLocked drops retired keys whose every token has expired.
func (kr *keyring) pruneLocked(now time.Time, maxLife time.Duration) error {
	keep := kr.keys[:0:0]
	for i, k := range kr.keys {
		if i < len(kr.keys)-1 && !now.Before(kr.keys[i+1].created.Add(maxLife)) {
			if err := kr.removeFile(k.kid); err != nil {
				return err
			}
			continue
		}
		keep = append(keep, k)
	}
	kr.keys = keep
	return nil
}

func (kr *keyring) removeFile(kid string) error {
	if kr.store == nil {
		return nil
	}
	return kr.store.remove(kid)
}

// remove drops a retired key at once: tokens it signed stop verifying.
func (kr *keyring) remove(kid string) error {
	kr.io.Lock()
	defer kr.io.Unlock()
	kr.mu.Lock()
	defer kr.mu.Unlock()
	i := slices.IndexFunc(kr.keys, func(k *key) bool { return k.kid == kid })
	switch {
	case i < 0:
		return fmt.Errorf("token: key %q: %w", kid, errdef.ErrNotFound)
	case i == len(kr.keys)-1:
		return fmt.Errorf("token: key %q signs new tokens; rotate first: %w", kid, errdef.ErrPrecondition)
	}
	if err := kr.removeFile(kid); err != nil {
		return err
	}
	kr.keys = slices.Delete(slices.Clone(kr.keys), i, i+1)
	return nil
}

// list describes the keys, oldest first.
func (kr *keyring) list() []KeyInfo {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	out := make([]KeyInfo, len(kr.keys))
	for i, k := range kr.keys {
		out[i] = k.info()
		if i == len(kr.keys)-1 {
			out[i].Signing = true
		} else {
			out[i].Retired = kr.keys[i+1].created
		}
	}
	return out
}
