package fs

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

// TestResumeAfterPowerLoss: a checkpoint covers bytes that were written,
// not synced. Within one boot the page cache holds them, so Resume trusts
// the checkpoint; after a power loss some may be gone while the file kept
// its length (here: a range of zeros, as a lost write into a new block
// reads). A Store in a later boot must hash the bytes the file holds, so
// the damaged upload cannot be committed under the original digest.
func TestResumeAfterPowerLoss(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	orig := pumpData(3<<20 + 100)
	lost := bytes.Clone(orig)
	clear(lost[1<<20 : 1<<20+8192])

	tests := []struct {
		name  string
		boot  func(s *Store) [16]byte // the boot of the Store that resumes
		state func(t *testing.T, path string)
		want  []byte // the bytes Resume's digest must cover
	}{
		{"same boot: checkpoint trusted", func(s *Store) [16]byte { return s.boot }, nil, orig},
		{"later boot: file re-hashed", func(s *Store) [16]byte { return [16]byte{1, 2, 3} }, nil, lost},
		{"state without a boot, read in a known boot", func(s *Store) [16]byte { return [16]byte{1, 2, 3} }, rewriteV1, lost},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := Open(filepath.Join(dir, tc.name))
			if err != nil {
				t.Fatal(err)
			}
			w, err := st.Writer(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(orig); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			up := st.uploadDir(w.ID())
			if tc.state != nil {
				tc.state(t, filepath.Join(up, "state"))
			}
			f, err := os.OpenFile(filepath.Join(up, "data"), os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt(lost[1<<20:1<<20+8192], 1<<20); err != nil {
				t.Fatal(err)
			}
			f.Close()

			st.boot = tc.boot(st)
			r, err := st.Resume(ctx, w.ID())
			if err != nil {
				t.Fatalf("Resume: %v", err)
			}
			if r.Size() != int64(len(orig)) || r.Digest() != digest.FromBytes(tc.want) {
				t.Fatalf("Resume: size %d, digest %s; want %d, %s", r.Size(), r.Digest(), len(orig), digest.FromBytes(tc.want))
			}
			if bytes.Equal(tc.want, lost) {
				_, err := r.Commit(ctx, digest.FromBytes(orig), int64(len(orig)))
				if !errors.Is(err, blob.ErrDigestMismatch) {
					t.Fatalf("Commit of damaged bytes under the original digest: %v, want ErrDigestMismatch", err)
				}
				if _, err := st.Stat(ctx, digest.FromBytes(orig)); !errors.Is(err, blob.ErrNotFound) {
					t.Fatalf("Stat after the refused commit: %v, want ErrNotFound", err)
				}
			}
			r.Close()
		})
	}
}

// rewriteV1 turns every valid slot of the state file at path into the
// layout before boot identities (slotMagicV1: the same fields without boot).
func rewriteV1(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off+slotSize <= len(b); off += slotSize {
		c, ok := decodeSlot(b[off : off+slotSize])
		if !ok {
			continue
		}
		v1 := encodeV1(c)
		if got, ok := decodeSlot(v1); !ok || got.boot != ([16]byte{}) || got.offset != c.offset || got.alg != c.alg {
			t.Fatalf("a V1 slot decodes as %+v, %v", got, ok)
		}
		copy(b[off:], v1)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// encodeV1 lays c out as a slot of the layout before boot identities
// (slotMagicV1: the fields of encode without boot).
func encodeV1(c checkpoint) []byte {
	b := make([]byte, 0, slotSize)
	b = append(b, slotMagicV1...)
	b = binary.BigEndian.AppendUint64(b, c.seq)
	b = binary.BigEndian.AppendUint64(b, uint64(c.offset))
	b = binary.BigEndian.AppendUint64(b, uint64(c.started.UnixNano()))
	b = append(b, byte(len(c.alg)))
	b = append(b, c.alg...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.hash)))
	b = append(b, c.hash...)
	b = b[:slotSize-4]
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// TestBootID: on Linux the boot identity is known, and stable within a boot.
func TestBootID(t *testing.T) {
	id := bootID()
	if _, err := os.Stat("/proc/sys/kernel/random/boot_id"); err != nil {
		t.Skip("no boot_id on this system")
	}
	if id == ([16]byte{}) || bootID() != id {
		t.Fatalf("bootID = %x, then %x", id, bootID())
	}
}
