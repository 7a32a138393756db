package blob_test

import (
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

func TestHashState(t *testing.T) {
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		h := alg.Hash()
		h.Write([]byte("the first half, "))
		state := blob.MarshalHashState(h)
		r, ok := blob.RestoreHashState(alg, state)
		if !ok {
			t.Fatalf("%s: state not restored", alg)
		}
		h.Write([]byte("the second half"))
		r.Write([]byte("the second half"))
		if blob.FormatDigest(alg, r) != blob.FormatDigest(alg, h) {
			t.Errorf("%s: restored hash differs", alg)
		}
	}
	other := blob.MarshalHashState(digest.SHA512.Hash())
	for name, c := range map[string]struct {
		alg   digest.Algorithm
		state []byte
	}{
		"empty":             {digest.SHA256, nil},
		"another algorithm": {digest.SHA256, other},
		"damaged":           {digest.SHA256, []byte("not a hash state")},
		"unavailable":       {digest.Algorithm("md5"), blob.MarshalHashState(digest.SHA256.Hash())},
	} {
		if _, ok := blob.RestoreHashState(c.alg, c.state); ok {
			t.Errorf("%s: restored", name)
		}
	}
}

// FuzzRestoreHashState: a hash state comes back from storage a backend does
// not fully trust (a checkpoint file, an object's metadata). Any bytes must
// be refused or restored without a panic, and a restored state must be a
// state: marshaled again and restored, it hashes what follows as the first
// restore does. (The bytes may differ: what lies past the buffered part of
// a block is not kept.)
func FuzzRestoreHashState(f *testing.F) {
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		h := alg.Hash()
		f.Add(string(alg), blob.MarshalHashState(h))
		h.Write([]byte("some bytes of an upload"))
		f.Add(string(alg), blob.MarshalHashState(h))
	}
	f.Add("sha256", []byte{})
	f.Add("", []byte("sha\x03"))
	f.Fuzz(func(t *testing.T, alg string, state []byte) {
		h, ok := blob.RestoreHashState(digest.Algorithm(alg), state)
		if !ok {
			return
		}
		h2, ok := blob.RestoreHashState(digest.Algorithm(alg), blob.MarshalHashState(h))
		if !ok {
			t.Fatalf("a restored %s state does not restore once marshaled again", alg)
		}
		h.Write([]byte("more"))
		h2.Write([]byte("more"))
		if string(h.Sum(nil)) != string(h2.Sum(nil)) {
			t.Fatalf("%s: the state marshaled again hashes differently", alg)
		}
	})
}
