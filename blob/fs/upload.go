package fs

import (
	"context"
	"errors"
	"hash"
	iofs "io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

// hold marks id as held by a Writer of this Store, or reports false.
func (s *Store) hold(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[id] {
		return false
	}
	s.held[id] = true
	return true
}

func (s *Store) release(id string) {
	s.mu.Lock()
	delete(s.held, id)
	s.mu.Unlock()
}

func (s *Store) uploadDir(id string) string { return filepath.Join(s.uploads, id) }

// Writer implements blob.Ingester. The upload is assembled in tmp/ and
// renamed into uploads/ with its data file locked and a first checkpoint
// written.
func (s *Store) Writer(ctx context.Context, opts ...blob.WriterOption) (blob.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o, err := blob.ApplyWriterOptions(opts...)
	if err != nil {
		return nil, err
	}
	id := blob.NewUploadID()
	s.hold(id)
	stage := filepath.Join(s.tmp, id+".new")
	if err := s.fsys.Mkdir(stage, 0o755); err != nil {
		s.release(id)
		return nil, ioError("create upload", err)
	}
	w, err := s.newWriter(id, stage, o.Algorithm, o.Algorithm.Hash())
	if err == nil {
		err = s.fsys.Rename(stage, s.uploadDir(id))
	}
	if err != nil {
		if w != nil {
			w.closeFiles()
		}
		_ = s.fsys.RemoveAll(stage)
		s.release(id)
		return nil, ioError("create upload", err)
	}
	w.dir = s.uploadDir(id)
	w.k.path = filepath.Join(w.dir, "data") // the data file's name after the rename
	return w, nil
}

func (s *Store) newWriter(id, dir string, alg digest.Algorithm, h hash.Hash) (*writer, error) {
	path := filepath.Join(dir, "data")
	f, err := s.fsys.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	w := &writer{s: s, id: id, dir: dir, f: f, alg: alg, h: h, started: time.Now()}
	if err := tryLock(f); err != nil {
		w.closeFiles()
		return nil, err
	}
	w.k = newSink(s.fsys, f, path, s.direct, s.back, 0)
	w.sf, err = s.fsys.OpenFile(filepath.Join(dir, "state"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		w.closeFiles()
		return nil, err
	}
	if err := w.checkpoint(); err != nil {
		w.closeFiles()
		return nil, err
	}
	return w, nil
}

// Resume implements blob.Ingester. It restores the hash from the newest
// checkpoint and hashes only the bytes written after it.
func (s *Store) Resume(ctx context.Context, id string) (blob.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := blob.CheckUploadID(id); err != nil {
		return nil, err
	}
	if !s.hold(id) {
		return nil, errorf(blob.ErrConflict, "upload %s is held by another writer", id)
	}
	w, err := s.resume(ctx, id)
	if err != nil {
		s.release(id)
		return nil, err
	}
	return w, nil
}

func (s *Store) resume(ctx context.Context, id string) (*writer, error) {
	dir := s.uploadDir(id)
	f, err := s.lockData(id, os.O_RDWR)
	if err != nil {
		return nil, err
	}
	w := &writer{s: s, id: id, dir: dir, f: f}
	w.sf, err = s.fsys.OpenFile(filepath.Join(dir, "state"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		w.closeFiles()
		return nil, ioError("open upload state", err)
	}
	fi, err := f.Stat()
	if err != nil {
		w.closeFiles()
		return nil, ioError("stat upload", err)
	}
	size := fi.Size()
	c, ok := readCheckpoint(w.sf)
	w.started = fi.ModTime()
	w.alg = algorithm(c.alg)
	if ok {
		w.started, w.seq = c.started, c.seq
	}
	// The checkpoint's hash is trusted only for bytes the file still holds,
	// and only in the boot that wrote them: they were written, not synced,
	// so a power loss or a reboot since may have lost some of them while the
	// file kept its length. Then the file is hashed from the start, and a
	// Commit checks the bytes it really holds.
	from := int64(0)
	if h, restored := blob.RestoreHashState(c.alg, c.hash); ok && restored && c.offset <= size && c.boot == s.boot {
		w.h, from = h, c.offset
	} else {
		w.h = w.alg.Hash()
	}
	if err := hashFile(ctx, f, w.h, from, size); err != nil {
		w.closeFiles()
		return nil, err
	}
	w.off, w.ckpt = size, from
	w.k = newSink(s.fsys, f, filepath.Join(dir, "data"), s.direct, s.back, size)
	if from != size {
		if err := w.checkpoint(); err != nil {
			w.closeFiles()
			return nil, ioError("checkpoint upload", err)
		}
	}
	return w, nil
}

// lockData opens the data file of upload id, takes its lock, and checks the
// path still names the locked file (an Abort or Commit may have removed it
// between open and lock). It returns ErrNotFound or ErrConflict errors.
func (s *Store) lockData(id string, flag int) (file, error) {
	path := filepath.Join(s.uploadDir(id), "data")
	f, err := s.fsys.OpenFile(path, flag, 0)
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return nil, errorf(blob.ErrNotFound, "upload %s", id)
		}
		return nil, ioError("open upload", err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, errorf(blob.ErrConflict, "upload %s is held by another writer", id)
		}
		return nil, ioError("lock upload", err)
	}
	locked, err1 := f.Stat()
	named, err2 := os.Stat(path)
	if err1 != nil || err2 != nil || !os.SameFile(locked, named) {
		f.Close()
		return nil, errorf(blob.ErrNotFound, "upload %s", id)
	}
	return f, nil
}

// Abort implements blob.Ingester. Aborting an upload a Writer holds, in this
// process or another, returns an error wrapping ErrConflict.
func (s *Store) Abort(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := blob.CheckUploadID(id); err != nil {
		return err
	}
	if !s.hold(id) {
		return errorf(blob.ErrConflict, "upload %s is held by a writer", id)
	}
	defer s.release(id)
	f, err := s.lockData(id, os.O_RDONLY)
	if err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			_ = s.fsys.RemoveAll(s.uploadDir(id)) // a finished upload's leftover, if any
		}
		return err
	}
	defer f.Close()
	if err := s.fsys.RemoveAll(s.uploadDir(id)); err != nil {
		return ioError("remove upload", err)
	}
	return nil
}

// Uploads implements blob.UploadLister. Size and UpdatedAt come from the
// data file, StartedAt from the checkpoint.
func (s *Store) Uploads(ctx context.Context, fn func(blob.UploadInfo) error) error {
	ents, err := os.ReadDir(s.uploads)
	if err != nil {
		return ioError("read "+s.uploads, err)
	}
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		id := e.Name()
		if !e.IsDir() || blob.CheckUploadID(id) != nil {
			continue
		}
		info, ok := s.uploadInfo(id)
		if !ok {
			continue
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) uploadInfo(id string) (blob.UploadInfo, bool) {
	dir := s.uploadDir(id)
	fi, err := os.Stat(filepath.Join(dir, "data"))
	if err != nil {
		return blob.UploadInfo{}, false // finished or removed meanwhile
	}
	info := blob.UploadInfo{ID: id, Size: fi.Size(), StartedAt: fi.ModTime(), UpdatedAt: fi.ModTime()}
	if sf, err := os.Open(filepath.Join(dir, "state")); err == nil {
		if c, ok := readCheckpoint(sf); ok {
			info.StartedAt = c.started
		}
		sf.Close()
	}
	return info, true
}
