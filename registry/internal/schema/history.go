package schema

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/meta"
)

// Table H: the history of every tag's moves. Each move is stored under
// two sub-tables of H:
//
//	H 0 t 0 repo 0 tag 0 time        one tag's moves, oldest first (value: TagMove)
//	H 0 r 0 repo 0 time 0 tag        a repository's moves, oldest first (no value)
//
// time is 8 bytes big-endian Unix nanoseconds. Within one tag the times are
// distinct (the registry stamps a move that would share its tag's last time
// one nanosecond later), so a tag's moves are in the order they were made.
// The t sub-table serves a tag's history and revert; the r sub-table a
// repository's history and the expiry sweep, which seeks from repository
// to repository and deletes each one's entries older than the window.

// tHistory is the tag of table H.
const tHistory = 'H'

// The sub-tables of H.
const (
	hTag  = "t"
	hRepo = "r"
)

// TagMove is one recorded move of a tag (table H), binary. The time is in
// the key.
type TagMove struct {
	// Kind names the operation that moved the tag (push, tag, untag,
	// delete, ...).
	Kind string
	// Old is the digest the tag pointed to before; empty: it did not
	// exist.
	Old digest.Digest
	// New is the digest it points to after; empty: it was removed.
	New digest.Digest
}

func (r *TagMove) marshal(e *encoder) {
	e.str(r.Kind)
	e.str(r.Old.String())
	e.str(r.New.String())
}

func (r *TagMove) unmarshal(d *decoder) {
	r.Kind = d.str()
	r.Old = digest.Digest(d.str())
	r.New = digest.Digest(d.str())
}

// TagHistoryTable is table H: every recorded move of every tag.
type TagHistoryTable struct{}

// TagHistory is the tag history table.
var TagHistory TagHistoryTable

func tagHistoryKey(repo, tag string, at time.Time) []byte {
	return append(prefix(tHistory, hTag, repo, tag), timeKey(at)...)
}

func repoHistoryKey(repo, tag string, at time.Time) []byte {
	k := append(prefix(tHistory, hRepo, repo), timeKey(at)...)
	k = append(k, 0)
	return append(k, tag...)
}

// keyTime decodes 8 bytes of timeKey.
func keyTime(b []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b))).UTC()
}

// Put records that tag of repo moved at time at. at must be after the
// tag's last recorded move (see Last).
func (TagHistoryTable) Put(tx meta.Tx, repo, tag string, at time.Time, rec *TagMove) error {
	if err := tx.Put(tagHistoryKey(repo, tag, at), encodeRecord(rec)); err != nil {
		return err
	}
	return tx.Put(repoHistoryKey(repo, tag, at), nil)
}

// Last returns the time of the last recorded move of tag in repo; found is
// false when none is recorded.
func (TagHistoryTable) Last(tx meta.Tx, repo, tag string) (at time.Time, found bool, err error) {
	p := prefix(tHistory, hTag, repo, tag)
	err = tx.Scan(meta.Range{Start: p, End: meta.PrefixEnd(p), Reverse: true}, func(k, _ []byte) bool {
		if len(k) == len(p)+8 {
			at, found = keyTime(k[len(p):]), true
		}
		return !found
	})
	return at, found, err
}

// ScanTag calls fn with the moves of tag in repo, until fn returns false:
// newest first when reverse is set, from those before the time before
// (zero: from the last); else oldest first, from those after the time
// after (zero: from the first).
func (TagHistoryTable) ScanTag(tx meta.Tx, repo, tag string, reverse bool, bound time.Time, fn func(at time.Time, rec *TagMove) bool) error {
	p := prefix(tHistory, hTag, repo, tag)
	r := meta.Range{Start: p, End: meta.PrefixEnd(p), Reverse: reverse}
	switch {
	case bound.IsZero():
	case reverse:
		r.End = append(append([]byte(nil), p...), timeKey(bound)...)
	default:
		r.Start = append(append([]byte(nil), p...), timeKey(bound.Add(time.Nanosecond))...)
	}
	return scan(tx, r, func(k []byte, rec *TagMove) bool {
		if len(k) != len(p)+8 {
			return true
		}
		return fn(keyTime(k[len(p):]), rec)
	})
}

// ScanRepo calls fn with the moves of every tag of repo, newest first,
// until fn returns false; with before set, it starts below the move of tag
// beforeTag at before (a cursor a previous scan ended on).
func (TagHistoryTable) ScanRepo(tx meta.Tx, repo string, before time.Time, beforeTag string, fn func(at time.Time, tag string, rec *TagMove) bool) error {
	p := prefix(tHistory, hRepo, repo)
	r := meta.Range{Start: p, End: meta.PrefixEnd(p), Reverse: true}
	if !before.IsZero() {
		r.End = repoHistoryKey(repo, beforeTag, before)
	}
	type entry struct {
		at  time.Time
		tag string
	}
	// Scan collects a batch of keys and reads their records after it, so
	// that fn may stop at any point.
	var batch []entry
	for {
		batch = batch[:0]
		err := tx.Scan(r, func(k, _ []byte) bool {
			// p time(8) 0 tag
			if len(k) >= len(p)+9 && k[len(p)+8] == 0 {
				batch = append(batch, entry{keyTime(k[len(p) : len(p)+8]), string(k[len(p)+9:])})
			}
			return len(batch) < 64
		})
		if err != nil {
			return err
		}
		for _, e := range batch {
			rec, found, err := get[TagMove](tx, tagHistoryKey(repo, e.tag, e.at))
			if err != nil {
				return err
			}
			if found && !fn(e.at, e.tag, &rec) {
				return nil
			}
		}
		if len(batch) < 64 {
			return nil
		}
		last := batch[len(batch)-1]
		r.End = repoHistoryKey(repo, last.tag, last.at)
	}
}

// Prune deletes recorded moves made before until, at most limit of them,
// and reports how many it deleted. It visits repositories in name order:
// each costs a seek, and only its expired moves are read.
func (TagHistoryTable) Prune(tx meta.Tx, until time.Time, limit int) (int, error) {
	type victim struct {
		repo, tag string
		at        time.Time
	}
	var victims []victim
	all := prefix(tHistory, hRepo)
	start := all
	for len(victims) < limit {
		// The next repository with history.
		var repo []byte
		err := tx.Scan(meta.Range{Start: start, End: meta.PrefixEnd(all)}, func(k, _ []byte) bool {
			rest := k[len(all):]
			if i := bytes.IndexByte(rest, 0); i > 0 {
				repo = append([]byte(nil), rest[:i]...)
			}
			return false
		})
		if err != nil {
			return 0, err
		}
		if repo == nil {
			break
		}
		p := prefix(tHistory, hRepo, string(repo))
		end := append(append([]byte(nil), p...), timeKey(until)...)
		err = tx.Scan(meta.Range{Start: p, End: end}, func(k, _ []byte) bool {
			if len(k) < len(p)+9 {
				return true
			}
			victims = append(victims, victim{string(repo), string(k[len(p)+9:]), keyTime(k[len(p) : len(p)+8])})
			return len(victims) < limit
		})
		if err != nil {
			return 0, err
		}
		start = meta.PrefixEnd(p)
	}
	for _, v := range victims {
		if err := tx.Delete(tagHistoryKey(v.repo, v.tag, v.at)); err != nil {
			return 0, err
		}
		if err := tx.Delete(repoHistoryKey(v.repo, v.tag, v.at)); err != nil {
			return 0, err
		}
	}
	return len(victims), nil
}
