package httpapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"testing/iotest"

	"github.com/regkit/regkit/registry"
)

// failingWriter is an upload whose Write fails with err.
type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// TestCopyBodyErrors checks how copyBody tells the client's fault from the
// storage's: a body that cannot be read whole answers 400
// BLOB_UPLOAD_INVALID, a failed storage write keeps its own error and no
// client status. How blob.Copy moves the bytes is tested in package blob.
func TestCopyBodyErrors(t *testing.T) {
	reg, err := registry.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	h := New(reg)
	errRead := errors.New("test: body read failed")
	errWrite := errors.New("test: storage write failed")
	body := bytes.Repeat([]byte("x"), 3<<20+5)
	cases := []struct {
		name       string
		dst        io.Writer
		src        io.Reader
		want       error
		wantStatus int // 0: not a client error
	}{
		{"body fails", new(bytes.Buffer), io.MultiReader(bytes.NewReader(body), iotest.ErrReader(errRead)), errRead, http.StatusBadRequest},
		{"body cut short", new(bytes.Buffer), io.MultiReader(bytes.NewReader(body[:10]), iotest.ErrReader(io.ErrUnexpectedEOF)), io.ErrUnexpectedEOF, http.StatusBadRequest},
		{"storage fails", failingWriter{errWrite}, bytes.NewReader(body), errWrite, 0},
		{"storage fails, small body", failingWriter{errWrite}, bytes.NewReader(body[:10]), errWrite, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := h.copyBody(c.dst, c.src)
			if !errors.Is(err, c.want) {
				t.Fatalf("copyBody = %v, want an error wrapping %v", err, c.want)
			}
			var se *statusError
			isStatus := errors.As(err, &se)
			switch {
			case c.wantStatus == 0 && isStatus:
				t.Errorf("a storage failure answers %d %s, as if the client were at fault", se.status, se.code)
			case c.wantStatus != 0 && (!isStatus || se.status != c.wantStatus || se.code != CodeBlobUploadInvalid):
				t.Errorf("copyBody = %#v, want status %d %s", err, c.wantStatus, CodeBlobUploadInvalid)
			}
		})
	}
}
