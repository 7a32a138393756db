package schema

import (
	"context"
	"strings"
	"testing"

	"github.com/regkit/regkit/registry/meta"
	metamem "github.com/regkit/regkit/registry/meta/memory"
)

// TestStateLayout pins table e's keys, and that a namespace's scan sees
// neither a namespace it prefixes nor another table.
func TestStateLayout(t *testing.T) {
	ctx := context.Background()
	store := metamem.New()
	defer store.Close()
	err := store.Update(ctx, func(tx meta.Tx) error {
		for _, kv := range [][3]string{{"ns", "a", "1"}, {"ns", "b/c", "2"}, {"ns-x", "a", "3"}} {
			if err := States.Put(tx, kv[0], kv[1], []byte(kv[2])); err != nil {
				return err
			}
		}
		return Settings.Put(tx, "retention", map[string]int{"days": 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = store.View(ctx, func(tx meta.Tx) error {
		if v, err := tx.Get([]byte("e\x00ns\x00b/c")); err != nil || string(v) != "2" {
			t.Errorf("raw key: %q, %v", v, err)
		}
		var got []string
		if err := States.Scan(tx, "ns", "", func(k string, v []byte) bool { got = append(got, k+"="+string(v)); return true }); err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, " ") != "a=1 b/c=2" {
			t.Errorf("scan ns: %v", got)
		}
		v, found, err := States.Get(tx, "ns-x", "a")
		if err != nil || !found || string(v) != "3" {
			t.Errorf("get ns-x/a: %q %v %v", v, found, err)
		}
		if _, found, err := States.Get(tx, "ns", "zz"); found || err != nil {
			t.Errorf("missing: %v %v", found, err)
		}
		return nil
	})
}
