package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/blob/memory"
)

func TestParseDigest(t *testing.T) {
	hex64 := strings.Repeat("a", 64)
	tests := []struct {
		in    string
		class error
		cause error // go-digest's own error, kept in the chain
	}{
		{"sha256:" + hex64, nil, nil},
		{"sha512:" + strings.Repeat("b", 128), nil, nil},
		{"", blob.ErrInvalid, digest.ErrDigestInvalidFormat},
		{"sha256:", blob.ErrInvalid, digest.ErrDigestInvalidFormat},
		{"sha256:" + strings.ToUpper(hex64), blob.ErrInvalid, digest.ErrDigestInvalidFormat},
		{"sha256:" + hex64[1:], blob.ErrInvalid, digest.ErrDigestInvalidLength},
		{"sha512:" + hex64, blob.ErrInvalid, digest.ErrDigestInvalidLength},
		{"md5:" + hex64[:32], blob.ErrUnsupported, digest.ErrDigestUnsupported},
		{hex64, blob.ErrInvalid, digest.ErrDigestInvalidFormat},
		{"sha256:" + strings.Repeat("a", 10000), blob.ErrInvalid, digest.ErrDigestInvalidLength},
	}
	for _, tc := range tests {
		d, err := blob.ParseDigest(tc.in)
		if tc.class == nil {
			if err != nil || string(d) != tc.in {
				t.Errorf("ParseDigest(%.20q) = %q, %v", tc.in, d, err)
			}
			continue
		}
		if !errors.Is(err, tc.class) || !errors.Is(err, tc.cause) {
			t.Errorf("ParseDigest(%.20q) error %v, want one wrapping %v and %v", tc.in, err, tc.class, tc.cause)
		}
		if len(err.Error()) > 300 {
			t.Errorf("ParseDigest error is %d bytes long", len(err.Error()))
		}
	}
}

func TestApplyWriterOptions(t *testing.T) {
	tests := []struct {
		opts  []blob.WriterOption
		want  digest.Algorithm
		class error
	}{
		{nil, digest.SHA256, nil},
		{[]blob.WriterOption{blob.WithAlgorithm(digest.SHA512)}, digest.SHA512, nil},
		{[]blob.WriterOption{blob.WithAlgorithm("md5")}, "", blob.ErrUnsupported},
		{[]blob.WriterOption{blob.WithAlgorithm("")}, "", blob.ErrUnsupported},
	}
	for _, tc := range tests {
		o, err := blob.ApplyWriterOptions(tc.opts...)
		if tc.class != nil {
			if !errors.Is(err, tc.class) {
				t.Errorf("ApplyWriterOptions error %v, want %v", err, tc.class)
			}
			continue
		}
		if err != nil || o.Algorithm != tc.want {
			t.Errorf("ApplyWriterOptions = %+v, %v; want %s", o, err, tc.want)
		}
	}
}

func TestUploadID(t *testing.T) {
	seen := make(map[string]bool)
	for range 100 {
		id := blob.NewUploadID()
		if err := blob.CheckUploadID(id); err != nil {
			t.Fatalf("CheckUploadID(NewUploadID()=%q): %v", id, err)
		}
		if seen[id] {
			t.Fatalf("NewUploadID repeated %q", id)
		}
		seen[id] = true
	}
	for _, id := range []string{"", "..", "../../etc/passwd", strings.Repeat("A", 32), strings.Repeat("0", 31),
		strings.Repeat("0", 33), strings.Repeat("0", 31) + "/", strings.Repeat("0", 31) + "\x00"} {
		if err := blob.CheckUploadID(id); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("CheckUploadID(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

func TestVerifyingReader(t *testing.T) {
	data := []byte("the quick brown fox jumps over the lazy dog")
	d := digest.FromBytes(data)
	tests := []struct {
		name  string
		r     io.Reader
		d     digest.Digest
		size  int64
		class error // nil: reads data and ends with io.EOF
	}{
		{"exact", bytes.NewReader(data), d, int64(len(data)), nil},
		{"unknown size", bytes.NewReader(data), d, -1, nil},
		{"one byte reads", iotest.OneByteReader(bytes.NewReader(data)), d, int64(len(data)), nil},
		{"data with EOF", iotest.DataErrReader(bytes.NewReader(data)), d, int64(len(data)), nil},
		{"sha512", bytes.NewReader(data), digest.SHA512.FromBytes(data), int64(len(data)), nil},
		{"empty", bytes.NewReader(nil), digest.FromBytes(nil), 0, nil},
		{"short", bytes.NewReader(data[:10]), d, int64(len(data)), blob.ErrSizeMismatch},
		{"trailing", bytes.NewReader(append(append([]byte(nil), data...), '!')), d, int64(len(data)), blob.ErrSizeMismatch},
		{"endless", io.MultiReader(bytes.NewReader(data), strings.NewReader(strings.Repeat("x", 1<<20))), d, int64(len(data)), blob.ErrSizeMismatch},
		{"wrong digest", bytes.NewReader(data), digest.FromString("other"), int64(len(data)), blob.ErrDigestMismatch},
		{"wrong digest unknown size", bytes.NewReader(data), digest.FromString("other"), -1, blob.ErrDigestMismatch},
		{"source error", iotest.ErrReader(io.ErrClosedPipe), d, 5, io.ErrClosedPipe},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := blob.NewVerifyingReader(tc.r, tc.d, tc.size)
			if err != nil {
				t.Fatalf("NewVerifyingReader: %v", err)
			}
			got, err := io.ReadAll(v)
			if tc.class == nil {
				want := data
				if tc.size == 0 {
					want = nil
				}
				if err != nil || !bytes.Equal(got, want) || !v.Verified() {
					t.Errorf("read %q, %v, verified %v", got, err, v.Verified())
				}
				return
			}
			if !errors.Is(err, tc.class) || v.Verified() {
				t.Errorf("error %v (verified %v), want %v", err, v.Verified(), tc.class)
			}
			if v.Size() > int64(len(data))+1 {
				t.Errorf("read %d bytes from the source, more than size+1", v.Size())
			}
			// The verdict is sticky.
			if _, err2 := v.Read(make([]byte, 1)); !errors.Is(err2, tc.class) {
				t.Errorf("second Read error %v, want %v", err2, tc.class)
			}
		})
	}
	if _, err := blob.NewVerifyingReader(bytes.NewReader(data), "sha256:bad", 1); !errors.Is(err, blob.ErrInvalid) {
		t.Errorf("NewVerifyingReader(bad digest) = %v, want ErrInvalid", err)
	}
}

// writerOnly hides a backend's Putter so Put takes its fallback path.
type writerOnly struct{ blob.Storage }

func TestPutFallback(t *testing.T) {
	ctx := context.Background()
	data := bytes.Repeat([]byte("regkit"), 100_000)
	d := digest.SHA512.FromBytes(data)
	tests := []struct {
		name  string
		d     digest.Digest
		size  int64
		r     io.Reader
		class error
	}{
		{"ok sha512", d, int64(len(data)), bytes.NewReader(data), nil},
		{"existing", d, -1, bytes.NewReader(data), nil},
		{"trailing", digest.FromBytes(data[:10]), 10, bytes.NewReader(data), blob.ErrSizeMismatch},
		{"short", digest.FromBytes(data), int64(len(data)) + 1, bytes.NewReader(data), blob.ErrSizeMismatch},
		{"wrong digest", digest.FromString("x"), int64(len(data)), bytes.NewReader(data), blob.ErrDigestMismatch},
		{"malformed", "sha256:xyz", 1, bytes.NewReader(data), blob.ErrInvalid},
		{"source error", digest.FromString("x"), 1, iotest.ErrReader(io.ErrClosedPipe), io.ErrClosedPipe},
	}
	st := memory.New()
	s := writerOnly{st}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := blob.Put(ctx, s, tc.d, tc.size, tc.r)
			if tc.class == nil {
				if err != nil || info.Digest != tc.d || info.Size != int64(len(data)) {
					t.Errorf("Put = %+v, %v", info, err)
				}
				return
			}
			if !errors.Is(err, tc.class) {
				t.Errorf("Put error %v, want %v", err, tc.class)
			}
		})
	}
	n := 0
	if err := st.Uploads(ctx, func(blob.UploadInfo) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("failed Puts left %d uploads (%v)", n, err)
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := blob.Put(ctx2, s, digest.FromString("y"), 1, strings.NewReader("y")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with canceled context = %v", err)
	}
}

func TestCopy(t *testing.T) {
	data := bytes.Repeat([]byte{1, 2, 3}, 1<<20)
	for _, dst := range []struct {
		name string
		w    interface {
			io.Writer
			Bytes() []byte
		}
	}{{"ReaderFrom", new(bytes.Buffer)}, {"plain Writer", &plainWriter{}}} {
		n, err := blob.Copy(context.Background(), dst.w, iotest.HalfReader(bytes.NewReader(data)))
		if err != nil || n != int64(len(data)) || !bytes.Equal(dst.w.Bytes(), data) {
			t.Errorf("%s: Copy = %d, %v", dst.name, n, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := blob.Copy(ctx, &plainWriter{}, bytes.NewReader(data)); !errors.Is(err, context.Canceled) {
		t.Errorf("Copy with canceled context = %v", err)
	}
}

type plainWriter struct{ b []byte }

func (p *plainWriter) Write(b []byte) (int, error) { p.b = append(p.b, b...); return len(b), nil }
func (p *plainWriter) Bytes() []byte               { return p.b }

// FuzzParseDigest checks that ParseDigest, with its fast path, accepts
// exactly what digest.Parse accepts, and never panics.
func FuzzParseDigest(f *testing.F) {
	for _, s := range []string{"sha256:" + strings.Repeat("a", 64), "sha512:" + strings.Repeat("0", 128),
		"sha384:" + strings.Repeat("f", 96), "sha256:" + strings.Repeat("A", 64), "md5:x", "", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := blob.ParseDigest(s)
		_, perr := digest.Parse(s)
		if (err == nil) != (perr == nil) {
			t.Fatalf("ParseDigest(%q) = %v, digest.Parse = %v", s, err, perr)
		}
		if err == nil {
			if string(d) != s || d.Validate() != nil {
				t.Fatalf("ParseDigest(%q) = %q", s, d)
			}
			return
		}
		if !errors.Is(err, blob.ErrInvalid) && !errors.Is(err, blob.ErrUnsupported) {
			t.Fatalf("ParseDigest(%q) error %v has no class", s, err)
		}
	})
}

func TestFormatDigest(t *testing.T) {
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA384, digest.SHA512} {
		h := alg.Hash()
		h.Write([]byte("format"))
		if got, want := blob.FormatDigest(alg, h), alg.FromString("format"); got != want {
			t.Errorf("FormatDigest = %s, want %s", got, want)
		}
	}
}
