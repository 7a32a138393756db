package compress

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func gzipped(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zstded(t testing.TB, data []byte) []byte {
	w, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll(data, nil)
}

func TestDetect(t *testing.T) {
	content := []byte(strings.Repeat("layer content ", 100))
	tests := []struct {
		name string
		in   []byte
		want Kind
	}{
		{"empty", nil, None},
		{"one byte of gzip", []byte{0x1f}, None},
		{"gzip magic", []byte{0x1f, 0x8b}, Gzip},
		{"gzip stream", gzipped(t, content), Gzip},
		{"zstd magic", []byte{0x28, 0xb5, 0x2f, 0xfd}, Zstd},
		{"zstd magic short", []byte{0x28, 0xb5, 0x2f}, None},
		{"zstd stream", zstded(t, content), Zstd},
		{"zstd skippable frame", []byte{0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0}, Zstd},
		{"zstd skippable frame 5f", []byte{0x5f, 0x2a, 0x4d, 0x18}, Zstd},
		{"not skippable", []byte{0x60, 0x2a, 0x4d, 0x18}, None},
		{"plain text", content, None},
		{"json", []byte(`{"a":1}`), None},
	}
	for _, tt := range tests {
		if got := Detect(tt.in); got != tt.want {
			t.Errorf("%s: Detect = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{None: "none", Gzip: "gzip", Zstd: "zstd", Kind(9): "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}

func TestDecompressRoundTrip(t *testing.T) {
	content := []byte(strings.Repeat("a layer's tar bytes\n", 5000))
	tests := []struct {
		name string
		in   []byte
		want Kind
	}{
		{"gzip", gzipped(t, content), Gzip},
		{"zstd", zstded(t, content), Zstd},
		{"none", content, None},
	}
	for _, tt := range tests {
		rc, k, err := Decompress(bytes.NewReader(tt.in))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, err := io.ReadAll(rc)
		if err != nil {
			t.Fatalf("%s: read: %v", tt.name, err)
		}
		if err := rc.Close(); err != nil {
			t.Fatalf("%s: close: %v", tt.name, err)
		}
		if k != tt.want || !bytes.Equal(got, content) {
			t.Errorf("%s: kind %v, %d bytes; want %v, %d bytes", tt.name, k, len(got), tt.want, len(content))
		}
	}
}

func TestDecompressShortAndEmpty(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("x"), []byte("abc")} {
		rc, k, err := Decompress(bytes.NewReader(in))
		if err != nil || k != None {
			t.Fatalf("%q: kind %v, err %v", in, k, err)
		}
		got, _ := io.ReadAll(rc)
		if !bytes.Equal(got, in) {
			t.Errorf("%q: read back %q", in, got)
		}
	}
}

func TestCorruptStreamsFail(t *testing.T) {
	content := []byte(strings.Repeat("x", 10000))
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		{"gzip truncated", gzipped(t, content)[:20]},
		{"zstd truncated", zstded(t, content)[:10]},
		{"gzip header only", []byte{0x1f, 0x8b}},
	} {
		rc, _, err := Decompress(bytes.NewReader(tt.in))
		if err == nil {
			_, err = io.ReadAll(rc)
			rc.Close()
		}
		if err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestNewReaderUnknownKind(t *testing.T) {
	if _, err := NewReader(Kind(42), bytes.NewReader(nil)); err == nil {
		t.Fatal("no error for an unknown kind")
	}
}

// FuzzDecompress checks that Detect and the decompressors never panic and
// stay within bounds on arbitrary input.
func FuzzDecompress(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x1f, 0x8b})
	f.Add(gzipped(f, []byte("hello")))
	f.Add(zstded(f, []byte("hello")))
	f.Add([]byte{0x50, 0x2a, 0x4d, 0x18, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		k := Detect(in)
		rc, k2, err := Decompress(bytes.NewReader(in))
		if k2 != k {
			t.Fatalf("Decompress detected %v, Detect %v", k2, k)
		}
		if err != nil {
			return
		}
		defer rc.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
	})
}
