//go:build linux && (amd64 || arm64 || riscv64 || s390x || loong64 || ppc64 || ppc64le)

package fs

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"unsafe"

	"github.com/opencontainers/go-digest"
)

// TestReadBack commits 16 MiB with direct I/O through Write, ReadFrom and
// Put and counts the blob's pages in the page cache (mincore) right after:
// with read-back on (the default) nearly all of them, off nearly none. The
// second half is the control that shows direct I/O was in use; a file
// system without O_DIRECT skips the test.
func TestReadBack(t *testing.T) {
	ctx := context.Background()
	data := pumpData(16 << 20)
	d := digest.FromBytes(data)
	for _, e := range faultEntries {
		for _, back := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/readback=%v", e.name, back), func(t *testing.T) {
				st, err := Open(t.TempDir(), WithReadBack(back))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.store(ctx, st, data, d); err != nil {
					t.Fatal(err)
				}
				in, total := residentPages(t, st.blobPath(d))
				t.Logf("%d of %d pages in the page cache after Commit", in, total)
				switch {
				case back && in < total*9/10:
					t.Errorf("read-back on: %d of %d pages in the page cache, want nearly all", in, total)
				case !back && in > total/2:
					t.Skipf("read-back off, yet %d of %d pages cached: no direct I/O on this file system", in, total)
				}
			})
		}
	}
}

// residentPages maps path and reports how many of its pages are in the page
// cache, and how many it has.
func residentPages(t *testing.T, path string) (in, total int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	if _, _, errno := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	for _, v := range vec {
		if v&1 != 0 {
			in++
		}
	}
	return in, len(vec)
}
