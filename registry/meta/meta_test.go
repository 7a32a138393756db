package meta_test

import (
	"bytes"
	"testing"

	"github.com/regkit/regkit/registry/meta"
)

func TestPrefixEnd(t *testing.T) {
	tests := []struct {
		name string
		p    []byte
		want []byte
	}{
		{"nil", nil, nil},
		{"empty", []byte{}, nil},
		{"ascii", []byte("abc"), []byte("abd")},
		{"one byte", []byte{0x00}, []byte{0x01}},
		{"trailing 0xff", []byte{'a', 0xff}, []byte{'b'}},
		{"trailing 0xff run", []byte{'a', 0xfe, 0xff, 0xff}, []byte{'a', 0xff}},
		{"all 0xff", []byte{0xff, 0xff}, nil},
		{"single 0xff", []byte{0xff}, nil},
		{"inner 0xff kept", []byte{0xff, 'a'}, []byte{0xff, 'b'}},
		{"separator", []byte("repo\x00"), []byte("repo\x01")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := meta.PrefixEnd(tt.p)
			if !bytes.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Fatalf("PrefixEnd(%q) = %q, want %q", tt.p, got, tt.want)
			}
		})
	}
}

func TestPrefixEndDoesNotAlias(t *testing.T) {
	p := []byte("abc")
	end := meta.PrefixEnd(p)
	end[0] = 'z'
	if string(p) != "abc" {
		t.Fatalf("PrefixEnd modified its argument: %q", p)
	}
}

// TestPrefixBounds checks the defining property of Prefix: a key is in the
// Range exactly when it starts with the prefix.
func TestPrefixBounds(t *testing.T) {
	prefixes := [][]byte{
		nil, []byte("a"), []byte("ab"), {0x00}, {0xff}, {'a', 0xff}, {0xff, 0xff}, {0x01, 0x00},
	}
	keys := [][]byte{
		{0x00}, {0x00, 0x00}, {0x01}, {0x01, 0x00}, {0x01, 0x00, 0xff}, {0x01, 0x01},
		[]byte("a"), []byte("a\x00"), []byte("ab"), []byte("ab\xff"), []byte("ac"),
		{'a', 0xff}, {'a', 0xff, 0x00}, []byte("b"), {0xfe, 0xff}, {0xff}, {0xff, 0x00},
		{0xff, 0xff}, {0xff, 0xff, 0xff},
	}
	for _, p := range prefixes {
		r := meta.Prefix(p)
		if !bytes.Equal(r.Start, p) || r.Reverse {
			t.Errorf("Prefix(%q) = %+v", p, r)
		}
		for _, k := range keys {
			in := bytes.Compare(k, r.Start) >= 0 && (len(r.End) == 0 || bytes.Compare(k, r.End) < 0)
			if want := bytes.HasPrefix(k, p); in != want {
				t.Errorf("Prefix(%q) = [%q, %q): contains %q = %v, want %v", p, r.Start, r.End, k, in, want)
			}
		}
	}
}
