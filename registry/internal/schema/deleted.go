package schema

import (
	"encoding/binary"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/meta"
)

// The soft-delete tables. A soft-deleted manifest, tag or repository leaves
// its live table (m, t, r) for one of these, so no read path of the live
// tables sees it; a manifest's bytes (b) and detail (x) stay where they are,
// under the same key, until the item is restored or purged for good.
//
//	D 0 repo 0 digest                 deleted manifest record (binary)
//	M 0 repo 0 time 0 digest          deleted manifests of a repository by deletion time
//	T 0 repo 0 tag 0 time             deleted tag record (binary), by tag then deletion time
//	U 0 repo 0 time 0 tag             deleted tags of a repository by deletion time
//	P 0 repo                          deleted repository record (binary)
//	K 0 time 0 repo                   deleted repositories by deletion time
//	Z 0 time 0 kind 0 repo 0 name     expiry queue of deleted manifests (kind m) and tags (kind t)
//
// time is the deletion time, 8 bytes big-endian Unix nanoseconds: listings
// scan M, U and K backwards (newest first), expiry scans Z and K forwards.
const (
	tDelManifest   = 'D'
	tDelManifestAt = 'M'
	tDelTag        = 'T'
	tDelTagAt      = 'U'
	tDelRepo       = 'P'
	tDelRepoAt     = 'K'
	tDelExpiry     = 'Z'
)

// The kinds of expiry queue entries.
const (
	DeletedKindManifest byte = 'm'
	DeletedKindTag      byte = 't'
)

// DeletedManifest is a soft-deleted manifest's record (table D), binary:
// the live record as it was, when it was deleted, and the tags it carried.
// It keeps one reference in the blob records (g) for each of its blobs, so
// collection leaves them, and none in the link records (l).
type DeletedManifest struct {
	// Manifest is the record as it was when deleted (Tags and
	// UntaggedSince are not meaningful; Detail is not stored here).
	Manifest Manifest
	// DeletedAt is when it was deleted.
	DeletedAt time.Time
	// Tags are the tags that pointed at it when it was deleted, in
	// lexical order; each has its own deleted tag record.
	Tags []string
}

func (r *DeletedManifest) marshal(e *encoder) {
	r.Manifest.marshal(e)
	e.time(r.DeletedAt)
	e.int(len(r.Tags))
	for _, t := range r.Tags {
		e.str(t)
	}
}

func (r *DeletedManifest) unmarshal(d *decoder) {
	r.Manifest.unmarshal(d)
	r.DeletedAt = d.time()
	n := d.int()
	if n < 0 || n > len(d.b) {
		d.fail()
		return
	}
	r.Tags = make([]string, 0, n)
	for range n {
		r.Tags = append(r.Tags, d.str())
	}
}

// DeletedTag is a soft-deleted tag's record (table T), binary: the live
// record as it was (the digest it pointed at, its times and attributes).
type DeletedTag struct {
	// Tag is the record as it was when deleted.
	Tag Tag
	// DeletedAt is when it was deleted.
	DeletedAt time.Time
}

func (r *DeletedTag) marshal(e *encoder) { r.Tag.marshal(e); e.time(r.DeletedAt) }

func (r *DeletedTag) unmarshal(d *decoder) { r.Tag.unmarshal(d); r.DeletedAt = d.time() }

// DeletedRepo is a soft-deleted repository's record (table P), binary: the
// live record as it was (its counts are zero: its manifests and tags have
// records of their own).
type DeletedRepo struct {
	// Repo is the record as it was when deleted.
	Repo Repo
	// DeletedAt is when it was deleted.
	DeletedAt time.Time
}

func (r *DeletedRepo) marshal(e *encoder) { r.Repo.marshal(e); e.time(r.DeletedAt) }

func (r *DeletedRepo) unmarshal(d *decoder) { r.Repo.unmarshal(d); r.DeletedAt = d.time() }

// DeletedCursor is where a newest-first page of deleted items ends: the
// deletion time and name (digest, tag or repository) of its last entry.
// The zero cursor starts at the newest.
type DeletedCursor struct {
	// At is the deletion time of the last entry seen.
	At time.Time
	// Name is its digest, tag or repository name.
	Name string
}

// DeletedManifestTable is table D with its indexes M and Z.
type DeletedManifestTable struct{}

// DeletedManifests is the deleted manifest table.
var DeletedManifests DeletedManifestTable

// Get reads the deleted record of manifest dgst in repo.
func (DeletedManifestTable) Get(tx meta.Tx, repo string, dgst digest.Digest) (rec DeletedManifest, found bool, err error) {
	return get[DeletedManifest](tx, key(tDelManifest, repo, dgst.String()))
}

// Has reports whether manifest dgst of repo is soft-deleted.
func (DeletedManifestTable) Has(tx meta.Tx, repo string, dgst digest.Digest) (bool, error) {
	return has(tx, key(tDelManifest, repo, dgst.String()))
}

// Put stores the deleted record of manifest dgst in repo and indexes it by
// rec.DeletedAt. A manifest is deleted at most once at a time: the caller
// deletes any earlier record first.
func (DeletedManifestTable) Put(tx meta.Tx, repo string, dgst digest.Digest, rec *DeletedManifest) error {
	if err := put(tx, key(tDelManifest, repo, dgst.String()), rec); err != nil {
		return err
	}
	at := timeKey(rec.DeletedAt)
	if err := tx.Put(key(tDelManifestAt, repo, at, dgst.String()), nil); err != nil {
		return err
	}
	return tx.Put(key(tDelExpiry, at, string(DeletedKindManifest), repo, dgst.String()), nil)
}

// Delete removes the deleted record of manifest dgst in repo, deleted at
// at, and its index entries.
func (DeletedManifestTable) Delete(tx meta.Tx, repo string, dgst digest.Digest, at time.Time) error {
	if err := tx.Delete(key(tDelManifest, repo, dgst.String())); err != nil {
		return err
	}
	tk := timeKey(at)
	if err := tx.Delete(key(tDelManifestAt, repo, tk, dgst.String())); err != nil {
		return err
	}
	return tx.Delete(key(tDelExpiry, tk, string(DeletedKindManifest), repo, dgst.String()))
}

// Scan calls fn with the deleted manifests of repo, newest first, starting
// after cur (at the newest for the zero cursor), until fn returns false.
// Each entry costs a step of the time index and a read of its record.
func (DeletedManifestTable) Scan(tx meta.Tx, repo string, cur DeletedCursor, fn func(dgst digest.Digest, rec *DeletedManifest) bool) error {
	return scanByTime(tx, prefix(tDelManifestAt, repo), cur,
		func(_ time.Time, name string) []byte { return key(tDelManifest, repo, name) },
		func(name string, rec *DeletedManifest) bool { return fn(digest.Digest(name), rec) })
}

// DeletedTagTable is table T with its indexes U and Z.
type DeletedTagTable struct{}

// DeletedTags is the deleted tag table.
var DeletedTags DeletedTagTable

// Put stores the deleted record of tag name in repo, deleted at
// rec.DeletedAt, with its index entries. A tag deleted twice at the same
// time keeps the last record.
func (DeletedTagTable) Put(tx meta.Tx, repo, name string, rec *DeletedTag) error {
	at := timeKey(rec.DeletedAt)
	if err := put(tx, key(tDelTag, repo, name, at), rec); err != nil {
		return err
	}
	if err := tx.Put(key(tDelTagAt, repo, at, name), nil); err != nil {
		return err
	}
	return tx.Put(key(tDelExpiry, at, string(DeletedKindTag), repo, name), nil)
}

// Get reads the record of tag name of repo deleted at at.
func (DeletedTagTable) Get(tx meta.Tx, repo, name string, at time.Time) (rec DeletedTag, found bool, err error) {
	return get[DeletedTag](tx, key(tDelTag, repo, name, timeKey(at)))
}

// Delete removes the record of tag name of repo deleted at at, and its
// index entries.
func (DeletedTagTable) Delete(tx meta.Tx, repo, name string, at time.Time) error {
	tk := timeKey(at)
	if err := tx.Delete(key(tDelTag, repo, name, tk)); err != nil {
		return err
	}
	if err := tx.Delete(key(tDelTagAt, repo, tk, name)); err != nil {
		return err
	}
	return tx.Delete(key(tDelExpiry, tk, string(DeletedKindTag), repo, name))
}

// Newest returns the most recent deleted record of tag name in repo, and
// optionally the newest one that pointed at dgst (dgst empty: any). It costs
// a backwards scan of that tag's records.
func (DeletedTagTable) Newest(tx meta.Tx, repo, name string, dgst digest.Digest) (rec DeletedTag, found bool, err error) {
	p := prefix(tDelTag, repo, name)
	var derr error
	err = tx.Scan(meta.Range{Start: p, End: meta.PrefixEnd(p), Reverse: true}, func(k, v []byte) bool {
		if len(k) != len(p)+8 {
			return true
		}
		var r DeletedTag
		if derr = decode(k, v, &r); derr != nil {
			return false
		}
		if dgst != "" && r.Tag.Digest != dgst {
			return true
		}
		rec, found = r, true
		return false
	})
	if derr != nil {
		return DeletedTag{}, false, derr
	}
	return rec, found, err
}

// Scan calls fn with the deleted tags of repo, newest first, starting
// after cur (at the newest for the zero cursor), until fn returns false.
func (DeletedTagTable) Scan(tx meta.Tx, repo string, cur DeletedCursor, fn func(name string, rec *DeletedTag) bool) error {
	return scanByTime(tx, prefix(tDelTagAt, repo), cur,
		func(at time.Time, name string) []byte { return key(tDelTag, repo, name, timeKey(at)) }, fn)
}

// DeletedRepoTable is table P with its index K.
type DeletedRepoTable struct{}

// DeletedRepos is the deleted repository table.
var DeletedRepos DeletedRepoTable

// Get reads the deleted record of repo.
func (DeletedRepoTable) Get(tx meta.Tx, repo string) (rec DeletedRepo, found bool, err error) {
	return get[DeletedRepo](tx, key(tDelRepo, repo))
}

// Put stores the deleted record of repo and indexes it by rec.DeletedAt;
// the caller deletes any earlier record first.
func (DeletedRepoTable) Put(tx meta.Tx, repo string, rec *DeletedRepo) error {
	if err := put(tx, key(tDelRepo, repo), rec); err != nil {
		return err
	}
	return tx.Put(key(tDelRepoAt, timeKey(rec.DeletedAt), repo), nil)
}

// Delete removes the deleted record of repo, deleted at at, and its index
// entry.
func (DeletedRepoTable) Delete(tx meta.Tx, repo string, at time.Time) error {
	if err := tx.Delete(key(tDelRepo, repo)); err != nil {
		return err
	}
	return tx.Delete(key(tDelRepoAt, timeKey(at), repo))
}

// Scan calls fn with the deleted repositories, newest first, starting
// after cur, until fn returns false.
func (DeletedRepoTable) Scan(tx meta.Tx, cur DeletedCursor, fn func(repo string, rec *DeletedRepo) bool) error {
	return scanByTime(tx, prefix(tDelRepoAt), cur,
		func(_ time.Time, name string) []byte { return key(tDelRepo, name) }, fn)
}

// scanByTime walks the time index under p newest first, starting after
// cur, reads the record recKey names for each entry (skipping entries
// whose record is gone) and calls fn with it until fn returns false. Each
// entry costs a step of the index and a read of its record.
func scanByTime[T any](tx meta.Tx, p []byte, cur DeletedCursor, recKey func(at time.Time, name string) []byte, fn func(name string, rec *T) bool) error {
	var rerr error
	err := tx.Scan(newestFirst(p, cur), func(k, _ []byte) bool {
		at, name, ok := timeName(k, len(p))
		if !ok {
			return true
		}
		var rec T
		var found bool
		rec, found, rerr = get[T](tx, recKey(at, name))
		if rerr != nil {
			return false
		}
		if !found {
			return true
		}
		return fn(name, &rec)
	})
	if rerr != nil {
		return rerr
	}
	return err
}

// Due calls fn with the repositories deleted before until, oldest first,
// until fn returns false.
func (DeletedRepoTable) Due(tx meta.Tx, until time.Time, fn func(repo string, at time.Time) bool) error {
	p := prefix(tDelRepoAt)
	end := append(append([]byte(nil), p...), timeKey(until)...)
	return tx.Scan(meta.Range{Start: p, End: end}, func(k, _ []byte) bool {
		at, name, ok := timeName(k, len(p))
		if !ok {
			return true
		}
		return fn(name, at)
	})
}

// DeletedExpiryTable is table Z: every deleted manifest and tag by its
// deletion time, for expiry.
type DeletedExpiryTable struct{}

// DeletedExpiry is the expiry queue of deleted manifests and tags.
var DeletedExpiry DeletedExpiryTable

// Due calls fn with the manifests and tags deleted before until, oldest
// first, until fn returns false. kind is DeletedKindManifest (name is a
// digest) or DeletedKindTag (name is a tag).
func (DeletedExpiryTable) Due(tx meta.Tx, until time.Time, fn func(kind byte, repo, name string, at time.Time) bool) error {
	p := prefix(tDelExpiry)
	end := append(append([]byte(nil), p...), timeKey(until)...)
	return tx.Scan(meta.Range{Start: p, End: end}, func(k, _ []byte) bool {
		// Z 0 time(8) 0 kind 0 repo 0 name
		if len(k) < len(p)+8+4 {
			return true
		}
		at := time.Unix(0, int64(binary.BigEndian.Uint64(k[len(p):]))).UTC()
		rest := k[len(p)+9:]
		kind := rest[0]
		rest = rest[2:]
		for i := len(rest) - 1; i >= 0; i-- {
			if rest[i] == 0 {
				return fn(kind, string(rest[:i]), string(rest[i+1:]), at)
			}
		}
		return true
	})
}

// newestFirst is the backwards range of the keys below p (each p, time,
// 0x00, name) that come before cur, or all of them for the zero cursor.
func newestFirst(p []byte, cur DeletedCursor) meta.Range {
	r := meta.Range{Start: p, End: meta.PrefixEnd(p), Reverse: true}
	if !cur.At.IsZero() || cur.Name != "" {
		end := append(append([]byte(nil), p...), timeKey(cur.At)...)
		end = append(end, 0)
		r.End = append(end, cur.Name...)
	}
	return r
}

// timeName splits a key made of a prefix of length n, a time, 0x00 and a
// name.
func timeName(k []byte, n int) (at time.Time, name string, ok bool) {
	if len(k) < n+9 || k[n+8] != 0 {
		return time.Time{}, "", false
	}
	at = time.Unix(0, int64(binary.BigEndian.Uint64(k[n:]))).UTC()
	return at, string(k[n+9:]), true
}

// Drop removes one expiry queue entry whose item has no record (a queue
// entry never outlives its record; Drop is for a store damaged otherwise).
func (DeletedExpiryTable) Drop(tx meta.Tx, kind byte, repo, name string, at time.Time) error {
	return tx.Delete(key(tDelExpiry, timeKey(at), string(kind), repo, name))
}

// ScanAll calls fn for every deleted manifest of every repository, in
// repository and digest order, until fn returns false.
func (DeletedManifestTable) ScanAll(tx meta.Tx, fn func(repo string, dgst digest.Digest, rec *DeletedManifest) bool) error {
	return scan(tx, meta.Prefix(prefix(tDelManifest)), func(k []byte, rec *DeletedManifest) bool {
		p := splitKey(k)
		return fn(p[0], digest.Digest(p[1]), rec)
	})
}

// Has reports whether repo has a deleted record.
func (DeletedRepoTable) Has(tx meta.Tx, repo string) (bool, error) {
	return has(tx, key(tDelRepo, repo))
}

// ScanKeys calls fn with the repository and digest of every stored
// manifest's bytes, live or deleted, until fn returns false (for Check:
// bytes neither a live nor a deleted manifest owns are a half-done purge).
func (ManifestBytesTable) ScanKeys(tx meta.Tx, fn func(repo string, dgst digest.Digest) bool) error {
	return tx.Scan(meta.Prefix(prefix(tBytes)), func(k, _ []byte) bool {
		p := splitKey(k)
		if len(p) != 2 {
			return true
		}
		return fn(p[0], digest.Digest(p[1]))
	})
}
