package schema

import (
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/meta"
)

// Accessors of the blob link, blob, review queue and upload session tables.

// LinkTable is table l, with its reverse L: which repositories may read
// which blobs.
type LinkTable struct{}

// Links is the blob link table.
var Links LinkTable

// Get reads the link of blob dgst into repo.
func (LinkTable) Get(tx meta.Tx, repo string, dgst digest.Digest) (rec Link, found bool, err error) {
	return get[Link](tx, key(tLink, repo, dgst.String()))
}

// Has reports whether blob dgst is linked into repo.
func (LinkTable) Has(tx meta.Tx, repo string, dgst digest.Digest) (bool, error) {
	return has(tx, key(tLink, repo, dgst.String()))
}

// Create links blob dgst into repo: the link record and its reverse.
func (LinkTable) Create(tx meta.Tx, repo string, dgst digest.Digest, rec *Link) error {
	if err := put(tx, key(tLink, repo, dgst.String()), rec); err != nil {
		return err
	}
	return tx.Put(key(tLinkRev, dgst.String(), repo), nil)
}

// Put updates the record of an existing link (Create makes one).
func (LinkTable) Put(tx meta.Tx, repo string, dgst digest.Digest, rec *Link) error {
	return put(tx, key(tLink, repo, dgst.String()), rec)
}

// Delete removes the link of blob dgst into repo and its reverse.
func (LinkTable) Delete(tx meta.Tx, repo string, dgst digest.Digest) error {
	if err := tx.Delete(key(tLink, repo, dgst.String())); err != nil {
		return err
	}
	return tx.Delete(key(tLinkRev, dgst.String(), repo))
}

// List returns the blobs linked into repo, in digest order.
func (LinkTable) List(tx meta.Tx, repo string) ([]digest.Digest, error) {
	var out []digest.Digest
	err := scanKeys(tx, meta.Prefix(prefix(tLink, repo)), func(last string) bool {
		out = append(out, digest.Digest(last))
		return true
	})
	return out, err
}

// Holders returns the repositories blob dgst is linked into, in name
// order, at most limit of them (limit <= 0: all).
func (LinkTable) Holders(tx meta.Tx, dgst digest.Digest, limit int) ([]string, error) {
	var out []string
	err := scanKeys(tx, meta.Prefix(prefix(tLinkRev, dgst.String())), func(last string) bool {
		out = append(out, last)
		return limit <= 0 || len(out) < limit
	})
	return out, err
}

// ScanAll calls fn for every link of every repository until fn returns
// false.
func (LinkTable) ScanAll(tx meta.Tx, fn func(repo string, dgst digest.Digest, rec *Link) bool) error {
	return scan(tx, meta.Prefix(prefix(tLink)), func(k []byte, rec *Link) bool {
		p := splitKey(k)
		return fn(p[0], digest.Digest(p[1]), rec)
	})
}

// BlobTable is table g: each blob's registry-wide record.
type BlobTable struct{}

// Blobs is the blob table.
var Blobs BlobTable

// Get reads the record of blob dgst.
func (BlobTable) Get(tx meta.Tx, dgst digest.Digest) (rec Blob, found bool, err error) {
	return get[Blob](tx, key(tBlob, dgst.String()))
}

// Has reports whether blob dgst has a record.
func (BlobTable) Has(tx meta.Tx, dgst digest.Digest) (bool, error) {
	return has(tx, key(tBlob, dgst.String()))
}

// Put stores the record of blob dgst.
func (BlobTable) Put(tx meta.Tx, dgst digest.Digest, rec *Blob) error {
	return put(tx, key(tBlob, dgst.String()), rec)
}

// Delete removes the record of blob dgst.
func (BlobTable) Delete(tx meta.Tx, dgst digest.Digest) error {
	return tx.Delete(key(tBlob, dgst.String()))
}

// ScanAll calls fn for every blob record until fn returns false.
func (BlobTable) ScanAll(tx meta.Tx, fn func(dgst digest.Digest, rec *Blob) bool) error {
	return scan(tx, meta.Prefix(prefix(tBlob)), func(k []byte, rec *Blob) bool {
		return fn(digest.Digest(lastPart(k)), rec)
	})
}

// QueueTable is table q: blobs to review for collection, by review time.
type QueueTable struct{}

// Queue is the review queue.
var Queue QueueTable

// QueueEntry is one entry of the review queue.
type QueueEntry struct {
	// Digest is the blob to review.
	Digest digest.Digest
	// key is the entry's key, for Delete and for the next page.
	key []byte
}

// Put queues blob dgst for review at at. Entries are idempotent: the
// collector drops one whose blob record says "not yet".
func (QueueTable) Put(tx meta.Tx, at time.Time, dgst digest.Digest) error {
	return tx.Put(key(tQueue, timeKey(at), dgst.String()), nil)
}

// Due returns up to limit entries due at or before until, in review time
// order, starting after prev (from the first when prev is nil).
func (QueueTable) Due(tx meta.Tx, prev *QueueEntry, until time.Time, limit int) ([]QueueEntry, error) {
	start := prefix(tQueue)
	if prev != nil {
		start = append(append([]byte(nil), prev.key...), 0)
	}
	end := prefix(tQueue, timeKey(until.Add(time.Nanosecond)))
	var due []QueueEntry
	err := tx.Scan(meta.Range{Start: start, End: end}, func(k, _ []byte) bool {
		// 'q' 0 time[8] 0 digest
		if len(k) > 11 {
			due = append(due, QueueEntry{key: append([]byte(nil), k...), Digest: digest.Digest(k[11:])})
		}
		return len(due) < limit
	})
	return due, err
}

// Delete removes entry e from the queue.
func (QueueTable) Delete(tx meta.Tx, e QueueEntry) error { return tx.Delete(e.key) }

// SessionTable is table s: the upload sessions and the repository of each.
type SessionTable struct{}

// Sessions is the upload session table.
var Sessions SessionTable

// Get reads the record of upload session id.
func (SessionTable) Get(tx meta.Tx, id string) (rec Session, found bool, err error) {
	return get[Session](tx, key(tSession, id))
}

// Put stores the record of upload session id.
func (SessionTable) Put(tx meta.Tx, id string, rec *Session) error {
	return put(tx, key(tSession, id), rec)
}

// Delete removes the record of upload session id.
func (SessionTable) Delete(tx meta.Tx, id string) error { return tx.Delete(key(tSession, id)) }

// Count counts upload sessions, stopping at limit (limit <= 0: all).
func (SessionTable) Count(tx meta.Tx, limit int) (int, error) {
	n := 0
	err := tx.Scan(meta.Prefix(prefix(tSession)), func(_, _ []byte) bool {
		n++
		return limit <= 0 || n < limit
	})
	return n, err
}
