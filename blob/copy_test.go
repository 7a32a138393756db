package blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"github.com/regkit/regkit/blob"
)

// TestFill checks that Fill reports io.EOF only at a clean end and keeps
// every other error, io.ErrUnexpectedEOF included.
func TestFill(t *testing.T) {
	data := []byte("0123456789")
	cases := []struct {
		name    string
		r       io.Reader
		buf     int
		wantN   int
		wantErr error
	}{
		{"full buffer", bytes.NewReader(data), 4, 4, nil},
		{"exact end", bytes.NewReader(data), 10, 10, nil},
		{"clean end", iotest.OneByteReader(bytes.NewReader(data)), 16, 10, io.EOF},
		{"cut short", io.MultiReader(bytes.NewReader(data[:3]), iotest.ErrReader(io.ErrUnexpectedEOF)), 16, 3, io.ErrUnexpectedEOF},
		{"read error", io.MultiReader(bytes.NewReader(data[:5]), iotest.ErrReader(errTest)), 16, 5, errTest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := blob.Fill(context.Background(), c.r, make([]byte, c.buf))
			if n != c.wantN || err != c.wantErr {
				t.Errorf("Fill = %d, %v; want %d, %v", n, err, c.wantN, c.wantErr)
			}
		})
	}
}

var errTest = errors.New("test read error")

// TestCopyReadError ends the source with an error at sizes around Copy's
// 1 MiB buffer: Copy returns the error after writing every byte read before
// it, for a plain Writer (read ahead on a second goroutine) and for an
// io.ReaderFrom.
func TestCopyReadError(t *testing.T) {
	for _, rerr := range []error{errTest, io.ErrUnexpectedEOF} {
		for _, n := range []int{0, 1, 1<<20 - 1, 1 << 20, 3<<20 + 7} {
			t.Run(fmt.Sprintf("%v/%d", rerr, n), func(t *testing.T) {
				data := bytes.Repeat([]byte{7, 8, 9}, n/3+1)[:n]
				for _, dst := range []interface {
					io.Writer
					Bytes() []byte
				}{&plainWriter{}, new(bytes.Buffer)} {
					src := io.MultiReader(bytes.NewReader(data), iotest.ErrReader(rerr))
					got, err := blob.Copy(context.Background(), dst, src)
					if !errors.Is(err, rerr) || got != int64(n) || !bytes.Equal(dst.Bytes(), data) {
						t.Errorf("%T: Copy = %d, %v; want %d, %v", dst, got, err, n, rerr)
					}
				}
			})
		}
	}
}
