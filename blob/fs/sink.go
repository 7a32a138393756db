package fs

import (
	"errors"
	"syscall"
	"unsafe"
)

// directAlign is the alignment of memory, file offset and length that direct
// I/O needs. 4096 satisfies every common logical block size.
const directAlign = 4096

// sink writes the data file of an upload or a Put. Everything goes through
// f and the page cache, except large aligned runs when direct is set: those
// go through a second descriptor opened with O_DIRECT, straight from the
// caller's buffer to the disk. That skips the copy into the page cache and
// the page allocations, which cost as much CPU as hashing the same bytes,
// and leaves nothing dirty for the fsync at commit. Reads of the blob later
// go through the page cache as usual.
type sink struct {
	fsys   fileSystem
	f      file
	path   string      // f's path, opened again for direct I/O on the first large write
	direct file        // O_DIRECT descriptor of the same file; nil: none (yet)
	tried  bool        // direct was opened, or turned off: do not open it again
	back   bool        // read each direct run back into the page cache
	rb     *readBacker // reads direct runs back; nil until the first one
	stage  []byte      // aligned copy of a caller's buffer that is not aligned
	kicked int64       // offset up to which writeback of buffered bytes was requested
}

// newSink returns a sink writing f. With useDirect, the first large write
// opens path again for direct I/O where the system and file system allow
// it, so small blobs never pay for a second descriptor.
func newSink(fsys fileSystem, f file, path string, useDirect, readBack bool, kicked int64) *sink {
	return &sink{fsys: fsys, f: f, path: path, tried: !useDirect, back: readBack, kicked: kicked}
}

// writeAt writes p at off. It may run on another goroutine than the caller
// of the sink's other methods, never on two at once.
func (k *sink) writeAt(p []byte, off int64) error {
	if !k.tried && len(p) >= overlapMin {
		k.tried = true
		k.direct = openDirect(k.fsys, k.path)
	}
	if k.direct != nil && len(p) >= overlapMin {
		// Head up to the next aligned offset, aligned middle, short tail.
		head := int(-off & (directAlign - 1))
		if head < len(p) {
			mid := (len(p) - head) &^ (directAlign - 1)
			if mid > 0 {
				if err := k.buffered(p[:head], off); err != nil {
					return err
				}
				if err := k.writeDirect(p[head:head+mid], off+int64(head)); err != nil {
					return err
				}
				return k.buffered(p[head+mid:], off+int64(head+mid))
			}
		}
	}
	return k.buffered(p, off)
}

// buffered writes p at off through the page cache and, once writebackEvery
// bytes are pending, asks the kernel to start writing them out.
func (k *sink) buffered(p []byte, off int64) error {
	if len(p) == 0 {
		return nil
	}
	if _, err := k.f.WriteAt(p, off); err != nil {
		return err
	}
	if end := off + int64(len(p)); end-k.kicked >= writebackEvery {
		startWriteback(k.f, k.kicked, end-k.kicked)
		k.kicked = end
	}
	return nil
}

// writeDirect writes the aligned run p at the aligned offset off through the
// direct descriptor, from a bounce buffer if p's memory is not aligned. If
// the file system refuses (EINVAL), the sink turns direct I/O off for good
// and writes p through the page cache.
func (k *sink) writeDirect(p []byte, off int64) error {
	q := p
	if uintptr(unsafe.Pointer(&p[0]))&(directAlign-1) != 0 {
		if len(k.stage) < len(p) {
			k.stage = alignedBuffer(len(p))
		}
		q = k.stage[:len(p)]
		copy(q, p)
	}
	_, err := k.direct.WriteAt(q, off)
	if errors.Is(err, syscall.EINVAL) {
		k.direct.Close()
		k.direct = nil
		return k.buffered(p, off)
	}
	if err == nil && k.back {
		if k.rb == nil {
			k.rb = newReadBacker(k.f, off)
		}
		k.rb.upTo(off + int64(len(p)))
	}
	return err
}

// close closes the direct descriptor and waits for the read-back; f belongs
// to the caller.
func (k *sink) close() error {
	if k.rb != nil {
		k.rb.close()
		k.rb = nil
	}
	if k.direct == nil {
		return nil
	}
	err := k.direct.Close()
	k.direct = nil
	return err
}

// alignedBuffer returns n bytes whose first byte is directAlign-aligned.
func alignedBuffer(n int) []byte {
	b := make([]byte, n+directAlign)
	skip := int(-uintptr(unsafe.Pointer(&b[0])) & (directAlign - 1))
	return b[skip : skip+n : skip+n]
}
