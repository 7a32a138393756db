//go:build linux && (amd64 || arm64 || riscv64 || s390x || loong64 || ppc64 || ppc64le)

package httpapi

import (
	"errors"
	"io"
	"os"
	"runtime"
	"testing"
)

// truncatingWriter cuts its file to nothing at the first Write, then copies
// what it is given in user space, as the response's buffer does.
type truncatingWriter struct {
	path string
	got  []byte
}

func (w *truncatingWriter) Write(p []byte) (int, error) {
	if err := os.Truncate(w.path, 0); err != nil {
		return 0, err
	}
	w.got = append(w.got, p...) // reads the mapping past the file's new end
	return len(p), nil
}

// TestWriteMappedFault shrinks the file under a mapped send: the read past
// its end becomes an error of writeMapped, not a crash of the process.
func TestWriteMappedFault(t *testing.T) {
	_, f := sendFileData(t, 4*sendWindowMin)
	w := &truncatingWriter{path: f.Name()}
	done, err := writeMapped(w, f, 0, 4*sendWindowMin)
	if !done || err == nil {
		t.Fatalf("writeMapped over a file cut short = %v, %v; want done with an error", done, err)
	}
	var fault runtime.Error
	if !errors.As(err, &fault) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("writeMapped = %v; want the fault kept as its cause, and io.ErrUnexpectedEOF as for a short read", err)
	}
}
