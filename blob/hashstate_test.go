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
