package schema

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/meta"
	metamem "github.com/regkit/regkit/registry/meta/memory"
)

// TestTagHistoryLayout pins table H's keys, its scans in both directions
// with bounds, a repository's scan (which must not reach a repository its
// name prefixes) and Prune across repositories.
func TestTagHistoryLayout(t *testing.T) {
	ctx := context.Background()
	store := metamem.New()
	defer store.Close()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	d := func(i int) digest.Digest { return digest.FromString(fmt.Sprint(i)) }
	moves := []struct {
		repo, tag string
		i         int
	}{
		{"a", "v1", 1}, {"a", "v1", 3}, {"a", "v2", 2}, {"a/b", "v1", 4}, {"ab", "x", 0}, {"a", "v1", 5},
	}
	err := store.Update(ctx, func(tx meta.Tx) error {
		for _, m := range moves {
			if err := TagHistory.Put(tx, m.repo, m.tag, at(m.i), &TagMove{Kind: "push", Old: d(m.i - 1), New: d(m.i)}); err != nil {
				return err
			}
		}
		return Settings.Put(tx, "x", 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = store.View(ctx, func(tx meta.Tx) error {
		raw := "H\x00t\x00a\x00v1\x00" + timeKey(at(3))
		if v, err := tx.Get([]byte(raw)); err != nil || len(v) == 0 {
			t.Errorf("raw tag key: %q, %v", v, err)
		}
		raw = "H\x00r\x00a\x00" + timeKey(at(3)) + "\x00v1"
		if _, err := tx.Get([]byte(raw)); err != nil {
			t.Errorf("raw repo key: %v", err)
		}
		tagScan := func(reverse bool, bound time.Time) string {
			var got []string
			err := TagHistory.ScanTag(tx, "a", "v1", reverse, bound, func(when time.Time, rec *TagMove) bool {
				if rec.New != d(int(when.Sub(t0)/time.Second)) || rec.Kind != "push" {
					t.Errorf("record at %v: %+v", when, rec)
				}
				got = append(got, fmt.Sprint(int(when.Sub(t0)/time.Second)))
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			return strings.Join(got, " ")
		}
		for _, c := range []struct {
			reverse bool
			bound   time.Time
			want    string
		}{
			{false, time.Time{}, "1 3 5"},
			{true, time.Time{}, "5 3 1"},
			{true, at(5), "3 1"},
			{true, at(4), "3 1"},
			{false, at(1), "3 5"},
			{false, at(2), "3 5"},
			{false, at(5), ""},
		} {
			if got := tagScan(c.reverse, c.bound); got != c.want {
				t.Errorf("ScanTag(reverse %v, %v) = %q, want %q", c.reverse, c.bound, got, c.want)
			}
		}
		last, found, err := TagHistory.Last(tx, "a", "v1")
		if err != nil || !found || !last.Equal(at(5)) {
			t.Errorf("Last = %v %v %v", last, found, err)
		}
		if _, found, _ := TagHistory.Last(tx, "a", "v"); found {
			t.Error("Last of a tag whose name prefixes another's found a move")
		}
		repoScan := func(before time.Time, beforeTag string) string {
			var got []string
			err := TagHistory.ScanRepo(tx, "a", before, beforeTag, func(when time.Time, tg string, _ *TagMove) bool {
				got = append(got, fmt.Sprintf("%s@%d", tg, int(when.Sub(t0)/time.Second)))
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			return strings.Join(got, " ")
		}
		if got := repoScan(time.Time{}, ""); got != "v1@5 v1@3 v2@2 v1@1" {
			t.Errorf("ScanRepo = %q", got)
		}
		if got := repoScan(at(3), "v1"); got != "v2@2 v1@1" {
			t.Errorf("ScanRepo after v1@3 = %q", got)
		}
		return nil
	})
	var n int
	err = store.Update(ctx, func(tx meta.Tx) error {
		var err error
		n, err = TagHistory.Prune(tx, at(3), 100)
		return err
	})
	if err != nil || n != 3 { // a v1@1, a v2@2, ab x@0
		t.Fatalf("Prune = %d, %v; want 3", n, err)
	}
	err = store.Update(ctx, func(tx meta.Tx) error {
		var err error
		n, err = TagHistory.Prune(tx, at(10), 1)
		return err
	})
	if err != nil || n != 1 {
		t.Fatalf("Prune with limit 1 = %d, %v", n, err)
	}
	_ = store.View(ctx, func(tx meta.Tx) error {
		var keys []string
		_ = tx.Scan(meta.Prefix([]byte("H")), func(k, _ []byte) bool { keys = append(keys, string(k)); return true })
		if len(keys) != 4 { // a v1@5 and a/b v1@4, twice each
			t.Errorf("left %d keys: %q", len(keys), keys)
		}
		if _, err := tx.Get(key(tSetting, "x")); err != nil {
			t.Errorf("Prune reached another table: %v", err)
		}
		return nil
	})
}

// TestTagMoveCorrupt: a record that does not decode is an error, never a
// panic.
func TestTagMoveCorrupt(t *testing.T) {
	for _, b := range [][]byte{nil, {9}, {codecVersion, 200}, {codecVersion, 1, 'x', 5}} {
		var rec TagMove
		if err := decodeRecord(b, &rec); err == nil {
			t.Errorf("decode %q: no error", b)
		}
	}
}

// TestTagHistoryScanRepoBatches: a repository's scan reads more moves than
// one batch, newest first, and stops where fn says.
func TestTagHistoryScanRepoBatches(t *testing.T) {
	ctx := context.Background()
	store := metamem.New()
	defer store.Close()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const n = 150
	err := store.Update(ctx, func(tx meta.Tx) error {
		for i := 0; i < n; i++ {
			rec := &TagMove{Kind: "tag", New: digest.FromString(fmt.Sprint(i))}
			if err := TagHistory.Put(tx, "big", fmt.Sprint("t", i%3), t0.Add(time.Duration(i/2)*time.Second), rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = store.View(ctx, func(tx meta.Tx) error {
		var got []int
		err := TagHistory.ScanRepo(tx, "big", time.Time{}, "", func(at time.Time, tg string, rec *TagMove) bool {
			for i := 0; i < n; i++ {
				if rec.New == digest.FromString(fmt.Sprint(i)) {
					got = append(got, i)
				}
			}
			return len(got) < n-10
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n-10 || got[0] != n-1 || got[len(got)-1] != 10 {
			t.Errorf("scanned %d moves, from %d to %d", len(got), got[0], got[len(got)-1])
		}
		return nil
	})
}
