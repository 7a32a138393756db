package schema

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/meta"
)

// Accessors of the repository, tag and manifest tables.

// RepoTable is table r: one Repo per repository, in catalog order.
type RepoTable struct{}

// Repos is the repository table.
var Repos RepoTable

// Get reads repo's record; found is false when there is none.
func (RepoTable) Get(tx meta.Tx, repo string) (rec Repo, found bool, err error) {
	return get[Repo](tx, key(tRepo, repo))
}

// Put stores repo's record.
func (RepoTable) Put(tx meta.Tx, repo string, rec *Repo) error { return put(tx, key(tRepo, repo), rec) }

// Delete removes repo's record.
func (RepoTable) Delete(tx meta.Tx, repo string) error { return tx.Delete(key(tRepo, repo)) }

// Scan calls fn for each repository after last (from the first when last
// is empty), in name order, until fn returns false.
func (RepoTable) Scan(tx meta.Tx, last string, fn func(repo string, rec *Repo) bool) error {
	r := meta.Range{Start: pageStart(tRepo, nil, last), End: meta.PrefixEnd(prefix(tRepo))}
	return scan(tx, r, func(k []byte, rec *Repo) bool { return fn(string(k[2:]), rec) })
}

// TagTable is table t: one Tag per tag of a repository, in name order.
type TagTable struct{}

// Tags is the tag table.
var Tags TagTable

// Get reads the record of tag name in repo.
func (TagTable) Get(tx meta.Tx, repo, name string) (rec Tag, found bool, err error) {
	return get[Tag](tx, key(tTag, repo, name))
}

// Put stores the record of tag name in repo.
func (TagTable) Put(tx meta.Tx, repo, name string, rec *Tag) error {
	return put(tx, key(tTag, repo, name), rec)
}

// Delete removes tag name from repo.
func (TagTable) Delete(tx meta.Tx, repo, name string) error { return tx.Delete(key(tTag, repo, name)) }

// Scan calls fn for each tag of repo after last (from the first when last
// is empty), in name order, until fn returns false.
func (TagTable) Scan(tx meta.Tx, repo, last string, fn func(name string, rec *Tag) bool) error {
	r := meta.Range{Start: pageStart(tTag, []string{repo}, last), End: meta.PrefixEnd(prefix(tTag, repo))}
	return scan(tx, r, func(k []byte, rec *Tag) bool { return fn(lastPart(k), rec) })
}

// ScanAll calls fn for every tag of every repository until fn returns false.
func (TagTable) ScanAll(tx meta.Tx, fn func(repo, name string, rec *Tag) bool) error {
	return scan(tx, meta.Prefix(prefix(tTag)), func(k []byte, rec *Tag) bool {
		p := splitKey(k)
		return fn(p[0], p[1], rec)
	})
}

// ManifestTable is table m: the hot part of each manifest's record, in
// digest order per repository.
type ManifestTable struct{}

// Manifests is the manifest table.
var Manifests ManifestTable

// Get reads the record of manifest dgst in repo (without its Detail).
func (ManifestTable) Get(tx meta.Tx, repo string, dgst digest.Digest) (rec Manifest, found bool, err error) {
	return get[Manifest](tx, key(tManifest, repo, dgst.String()))
}

// Has reports whether repo holds manifest dgst.
func (ManifestTable) Has(tx meta.Tx, repo string, dgst digest.Digest) (bool, error) {
	return has(tx, key(tManifest, repo, dgst.String()))
}

// Put stores the record of manifest dgst in repo (not its Detail: see
// Details.Put).
func (ManifestTable) Put(tx meta.Tx, repo string, dgst digest.Digest, rec *Manifest) error {
	return put(tx, key(tManifest, repo, dgst.String()), rec)
}

// Delete removes the record of manifest dgst from repo.
func (ManifestTable) Delete(tx meta.Tx, repo string, dgst digest.Digest) error {
	return tx.Delete(key(tManifest, repo, dgst.String()))
}

// Scan calls fn for each manifest of repo after the digest last (from the
// first when last is empty), in digest order, until fn returns false.
func (ManifestTable) Scan(tx meta.Tx, repo, last string, fn func(dgst digest.Digest, rec *Manifest) bool) error {
	r := meta.Range{Start: pageStart(tManifest, []string{repo}, last), End: meta.PrefixEnd(prefix(tManifest, repo))}
	return scan(tx, r, func(k []byte, rec *Manifest) bool { return fn(digest.Digest(lastPart(k)), rec) })
}

// ScanAll calls fn for every manifest of every repository until fn returns
// false.
func (ManifestTable) ScanAll(tx meta.Tx, fn func(repo string, dgst digest.Digest, rec *Manifest) bool) error {
	return scan(tx, meta.Prefix(prefix(tManifest)), func(k []byte, rec *Manifest) bool {
		p := splitKey(k)
		return fn(p[0], digest.Digest(p[1]), rec)
	})
}

// DetailTable is table x: the cold part of each manifest's record, JSON.
type DetailTable struct{}

// Details is the manifest detail table.
var Details DetailTable

// Load reads the detail of manifest dgst in repo into rec.Detail; a missing
// detail loads as an empty one.
func (DetailTable) Load(tx meta.Tx, repo string, dgst digest.Digest, rec *Manifest) error {
	det, _, err := get[Detail](tx, key(tDetail, repo, dgst.String()))
	rec.Detail = &det
	return err
}

// Put stores the detail of manifest dgst in repo.
func (DetailTable) Put(tx meta.Tx, repo string, dgst digest.Digest, det *Detail) error {
	return put(tx, key(tDetail, repo, dgst.String()), det)
}

// Delete removes the detail of manifest dgst from repo.
func (DetailTable) Delete(tx meta.Tx, repo string, dgst digest.Digest) error {
	return tx.Delete(key(tDetail, repo, dgst.String()))
}

// ManifestBytesTable is table b: each manifest's bytes, exactly as pushed.
type ManifestBytesTable struct{}

// ManifestBytes is the manifest bytes table.
var ManifestBytes ManifestBytesTable

// Get returns the bytes of manifest dgst in repo, valid until tx ends, or
// the store's error wrapping meta.ErrNotFound.
func (ManifestBytesTable) Get(tx meta.Tx, repo string, dgst digest.Digest) ([]byte, error) {
	return tx.Get(key(tBytes, repo, dgst.String()))
}

// Has reports whether the bytes of manifest dgst are in repo.
func (ManifestBytesTable) Has(tx meta.Tx, repo string, dgst digest.Digest) (bool, error) {
	return has(tx, key(tBytes, repo, dgst.String()))
}

// Put stores the bytes of manifest dgst in repo.
func (ManifestBytesTable) Put(tx meta.Tx, repo string, dgst digest.Digest, data []byte) error {
	return tx.Put(key(tBytes, repo, dgst.String()), data)
}

// Delete removes the bytes of manifest dgst from repo.
func (ManifestBytesTable) Delete(tx meta.Tx, repo string, dgst digest.Digest) error {
	return tx.Delete(key(tBytes, repo, dgst.String()))
}

// ManifestTagTable is table d: the tags of each manifest, the reverse of
// table t.
type ManifestTagTable struct{}

// ManifestTags is the table of each manifest's tags.
var ManifestTags ManifestTagTable

// Put records that tag name of repo points at dgst.
func (ManifestTagTable) Put(tx meta.Tx, repo string, dgst digest.Digest, name string) error {
	return tx.Put(key(tDigestTags, repo, dgst.String(), name), nil)
}

// Delete records that tag name of repo no longer points at dgst.
func (ManifestTagTable) Delete(tx meta.Tx, repo string, dgst digest.Digest, name string) error {
	return tx.Delete(key(tDigestTags, repo, dgst.String(), name))
}

// List returns the tags of dgst in repo, in lexical order.
func (ManifestTagTable) List(tx meta.Tx, repo string, dgst digest.Digest) ([]string, error) {
	return listKeys(tx, meta.Prefix(prefix(tDigestTags, repo, dgst.String())))
}

// ReferrerTable is table f: for each subject, the manifests that refer to
// it, each with its descriptor (JSON).
type ReferrerTable struct{}

// Referrers is the referrers table.
var Referrers ReferrerTable

// Put records that referrer, described by desc, refers to subject in repo.
func (ReferrerTable) Put(tx meta.Tx, repo string, subject, referrer digest.Digest, desc ocispec.Descriptor) error {
	return put(tx, key(tReferrer, repo, subject.String(), referrer.String()), desc)
}

// Delete removes referrer from the referrers of subject in repo.
func (ReferrerTable) Delete(tx meta.Tx, repo string, subject, referrer digest.Digest) error {
	return tx.Delete(key(tReferrer, repo, subject.String(), referrer.String()))
}

// List returns the digests of the referrers of subject in repo.
func (ReferrerTable) List(tx meta.Tx, repo string, subject digest.Digest) ([]digest.Digest, error) {
	var out []digest.Digest
	err := scanKeys(tx, meta.Prefix(prefix(tReferrer, repo, subject.String())), func(last string) bool {
		out = append(out, digest.Digest(last))
		return true
	})
	return out, err
}

// Scan calls fn with the descriptor of each referrer of subject in repo,
// in digest order, until fn returns false.
func (ReferrerTable) Scan(tx meta.Tx, repo string, subject digest.Digest, fn func(desc *ocispec.Descriptor) bool) error {
	return scan(tx, meta.Prefix(prefix(tReferrer, repo, subject.String())), func(_ []byte, d *ocispec.Descriptor) bool {
		return fn(d)
	})
}

// ChildTable is table c: for each manifest, the indexes of its repository
// that hold it as a child.
type ChildTable struct{}

// Children is the index children table.
var Children ChildTable

// Put records that index parent holds child in repo.
func (ChildTable) Put(tx meta.Tx, repo string, child, parent digest.Digest) error {
	return tx.Put(key(tChild, repo, child.String(), parent.String()), nil)
}

// Delete removes the record that index parent holds child in repo.
func (ChildTable) Delete(tx meta.Tx, repo string, child, parent digest.Digest) error {
	return tx.Delete(key(tChild, repo, child.String(), parent.String()))
}

// ScanParents calls fn with each index of repo that holds child, until fn
// returns false.
func (ChildTable) ScanParents(tx meta.Tx, repo string, child digest.Digest, fn func(parent digest.Digest) bool) error {
	return scanKeys(tx, meta.Prefix(prefix(tChild, repo, child.String())), func(last string) bool {
		return fn(digest.Digest(last))
	})
}

// UntaggedTable is table u: untagged manifests by the time they became
// untagged, for retention.
type UntaggedTable struct{}

// Untagged is the untagged manifests table.
var Untagged UntaggedTable

// Put records that manifest dgst of repo is untagged since at.
func (UntaggedTable) Put(tx meta.Tx, at time.Time, repo string, dgst digest.Digest) error {
	return tx.Put(key(tUntagged, timeKey(at), repo, dgst.String()), nil)
}

// Delete removes the entry Put(at, repo, dgst) wrote.
func (UntaggedTable) Delete(tx meta.Tx, at time.Time, repo string, dgst digest.Digest) error {
	return tx.Delete(key(tUntagged, timeKey(at), repo, dgst.String()))
}

// Scan calls fn for each manifest untagged at or after from and before
// until (from zero: since the first), in time order, until fn returns false.
func (UntaggedTable) Scan(tx meta.Tx, from, until time.Time, fn func(at time.Time, repo string, dgst digest.Digest) bool) error {
	start := prefix(tUntagged)
	if !from.IsZero() {
		start = append(start, timeKey(from)...)
	}
	end := append(prefix(tUntagged), timeKey(until)...)
	return tx.Scan(meta.Range{Start: start, End: end}, func(k, _ []byte) bool {
		// u 0 time(8) 0 repo 0 digest: the time may hold 0x00 bytes, so
		// it is cut by length, and the digest after the last separator.
		if len(k) < 12 {
			return true
		}
		at := time.Unix(0, int64(binary.BigEndian.Uint64(k[2:10]))).UTC()
		rest := k[11:]
		i := bytes.LastIndexByte(rest, 0)
		if i < 0 {
			return true
		}
		return fn(at, string(rest[:i]), digest.Digest(rest[i+1:]))
	})
}

// ScanRepo calls fn for each (child, parent) pair of repo's indexes, until
// fn returns false.
func (ChildTable) ScanRepo(tx meta.Tx, repo string, fn func(child, parent digest.Digest) bool) error {
	return tx.Scan(meta.Prefix(prefix(tChild, repo)), func(k, _ []byte) bool {
		p := splitKey(k)
		if len(p) != 3 {
			return true
		}
		return fn(digest.Digest(p[1]), digest.Digest(p[2]))
	})
}

// SettingTable is table S: registry settings (retention, lock rules), one
// JSON document each.
type SettingTable struct{}

// Settings is the settings table.
var Settings SettingTable

// Get decodes setting name into v and reports whether it was stored.
func (SettingTable) Get(tx meta.Tx, name string, v any) (found bool, err error) {
	k := key(tSetting, name)
	b, err := tx.Get(k)
	if errors.Is(err, meta.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return true, fmt.Errorf("registry: corrupt setting %q: %w: %w", name, err, errdef.ErrUnavailable)
	}
	return true, nil
}

// Put stores v as setting name.
func (SettingTable) Put(tx meta.Tx, name string, v any) error {
	return put(tx, key(tSetting, name), v)
}

// PullTable is table p: the last recorded pull of each manifest (kind
// PullManifest, name its digest) and of each tag (kind PullTag), as 8 bytes
// of big-endian Unix nanoseconds.
type PullTable struct{}

// Pulls is the last-pull table.
var Pulls PullTable

// The kinds of Pulls entries.
const (
	PullManifest = "m"
	PullTag      = "t"
)

// Put records that name (of kind PullManifest or PullTag) in repo was last
// pulled at.
func (PullTable) Put(tx meta.Tx, repo, kind, name string, at time.Time) error {
	return tx.Put(key(tPull, repo, kind, name), []byte(timeKey(at)))
}

// Delete removes the record of name in repo.
func (PullTable) Delete(tx meta.Tx, repo, kind, name string) error {
	return tx.Delete(key(tPull, repo, kind, name))
}

// ScanRepo calls fn for every pull record of repo until fn returns false.
func (PullTable) ScanRepo(tx meta.Tx, repo string, fn func(kind, name string, at time.Time) bool) error {
	return tx.Scan(meta.Prefix(prefix(tPull, repo)), func(k, v []byte) bool {
		p := splitKey(k)
		if len(p) != 3 || len(v) != 8 {
			return true
		}
		return fn(p[1], p[2], time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC())
	})
}

// RunTable is table R: records of purge and sweep runs (JSON), by the time
// they started.
type RunTable struct{}

// Runs is the run records table.
var Runs RunTable

// Put stores the record of a run that started at.
func (RunTable) Put(tx meta.Tx, at time.Time, id string, v any) error {
	return put(tx, key(tRun, timeKey(at), id), v)
}

// Scan decodes records newest first into a fresh value from newRec and calls
// fn with it, until fn returns false.
func (RunTable) Scan(tx meta.Tx, newRec func() any, fn func(rec any) bool) error {
	var derr error
	err := tx.Scan(meta.Range{Start: prefix(tRun), End: meta.PrefixEnd(prefix(tRun)), Reverse: true}, func(k, v []byte) bool {
		rec := newRec()
		if derr = json.Unmarshal(v, rec); derr != nil {
			derr = fmt.Errorf("registry: corrupt run record %q: %w: %w", k, derr, errdef.ErrUnavailable)
			return false
		}
		return fn(rec)
	})
	if derr != nil {
		return derr
	}
	return err
}

// Prune deletes the records of runs started before until, at most limit of
// them, and reports how many it deleted.
func (RunTable) Prune(tx meta.Tx, until time.Time, limit int) (int, error) {
	var keys [][]byte
	err := tx.Scan(meta.Range{Start: prefix(tRun), End: append(prefix(tRun), timeKey(until)...)}, func(k, _ []byte) bool {
		keys = append(keys, append([]byte(nil), k...))
		return len(keys) < limit
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := tx.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
