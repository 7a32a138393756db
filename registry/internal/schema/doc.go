// Package schema owns the registry's storage schema: the layout of keys in
// the metadata store, the encoding of every record, the typed accessors the
// registry reads and writes them through, and the schema version stored
// beside them. The registry package builds no key and decodes no record by
// itself.
//
// Every key is a one-byte table tag followed by parts, each after a 0x00
// separator. No repository name, tag or digest contains 0x00, so a prefix
// scan of one repository never reaches another (even "a" and "a/b").
//
//	r 0 repo                          repository record (catalog order)
//	t 0 repo 0 tag                    tag record (tags list order)
//	m 0 repo 0 digest                 manifest record (hot part, binary)
//	x 0 repo 0 digest                 manifest detail (annotations, platform, references)
//	b 0 repo 0 digest                 manifest bytes, exactly as pushed
//	d 0 repo 0 digest 0 tag           tags of a manifest (reverse of t)
//	f 0 repo 0 subject 0 referrer     referrers index (value: descriptor JSON)
//	c 0 repo 0 child 0 parent         index children (which indexes hold a child)
//	u 0 time 0 repo 0 digest          untagged manifests by untagged-since time
//	l 0 repo 0 blob                   blob link: the repository may read the blob
//	L 0 blob 0 repo                   reverse of l, for mounts and collection
//	g 0 blob                          blob record: references, review time, state
//	q 0 time 0 blob                   garbage-collection review queue
//	s 0 upload                        upload session: which repository owns it
//	v 0 schema                        the schema version (decimal text)
//	S 0 name                          a registry setting (JSON): retention, lockRules
//	p 0 repo 0 kind 0 name            last pull of a manifest (m, digest) or tag (t, name)
//	R 0 time 0 id                     record of a purge or sweep run (JSON)
//	e 0 namespace 0 key               extension state (registry.State), opaque values
//	H 0 t 0 repo 0 tag 0 time         tag history: one tag's moves (see history.go)
//	H 0 r 0 repo 0 time 0 tag         tag history: a repository's moves, for listing and expiry
//	D, M, T, U, P, K, Z               soft-deleted manifests, tags, repositories and
//	                                  their indexes (see deleted.go)
//
// time is 8 bytes big-endian Unix nanoseconds, so scans run in time order.
//
// Records on the hot paths (Repo, Tag, Manifest, Link, Blob) use a compact
// binary encoding: a version byte, then the fields in order as varints and
// length-prefixed strings. Cold data (a manifest's Detail, an upload
// Session, a referrer's descriptor) is JSON. Each table has an accessor
// value (Repos, Tags, Manifests, ...) whose methods read, write, delete and
// scan it.
//
// Accessors run inside the caller's meta.Tx. A missing record reads as
// found == false, never as an error; a record that does not decode is an
// error wrapping errdef.ErrUnavailable and the decoding error.
package schema
