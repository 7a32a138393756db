package schema

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/meta"
	metamem "github.com/regkit/regkit/registry/meta/memory"
	"github.com/regkit/regkit/tag"
)

// TestLayout pins the on-disk format: every table's key and every record's
// bytes, as the registry wrote them before this package existed. A change
// here breaks existing stores and needs a new Version.
func TestLayout(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(0, 1700000000123456789).UTC()
	attrs := tag.Attributes{DeleteEnabled: true, ReadEnabled: true}
	a, s := digest.FromString("a"), digest.FromString("s")
	store := metamem.New()
	defer store.Close()
	err := store.Update(ctx, func(tx meta.Tx) error {
		return errors.Join(
			Repos.Put(tx, "r/x", &Repo{CreatedAt: now, UpdatedAt: now, Attributes: attrs, ManifestCount: 3, TagCount: 2}),
			Tags.Put(tx, "r/x", "v1", &Tag{Digest: a, CreatedAt: now, Attributes: attrs}),
			Manifests.Put(tx, "r/x", a, &Manifest{MediaType: "application/vnd.oci.image.manifest.v1+json", Size: 512,
				ArtifactType: "at", ConfigMediaType: "c", Subject: s, CreatedAt: now, UpdatedAt: now,
				Attributes: attrs, Tags: 1, UntaggedSince: now}),
			Details.Put(tx, "r/x", a, &Detail{Platform: &ocispec.Platform{OS: "linux"}, Annotations: map[string]string{"k": "v"},
				Blobs: []digest.Digest{a}, Children: []digest.Digest{a}, Refs: []ChildRef{{Digest: a}}}),
			ManifestBytes.Put(tx, "r/x", a, []byte("{}")),
			ManifestTags.Put(tx, "r/x", a, "v1"),
			Referrers.Put(tx, "r/x", s, a, ocispec.Descriptor{MediaType: "m", Digest: a, Size: 2}),
			Children.Put(tx, "r/x", a, s),
			Untagged.Put(tx, now, "r/x", a),
			Links.Create(tx, "r/x", a, &Link{CreatedAt: now, Refs: 4}),
			Blobs.Put(tx, a, &Blob{Refs: 2, ReviewAfter: now, Deleting: true}),
			Queue.Put(tx, now, a),
			Sessions.Put(tx, "u1", &Session{Repository: "r", StartedAt: now}),
		)
	})
	if err != nil {
		t.Fatal(err)
	}
	const (
		da = "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
		ds = "sha256:043a718774c572bd8a25adbeb1bfcd5c0256ae11cecf9f9c3f925d0e52beaf89"
		tk = "\x17\x97\x9c\xfe=\x85\xcd\x15"
	)
	hexv := func(s string) string { b, _ := hex.DecodeString(s); return string(b) }
	want := map[string]string{
		"r\x00r/x":                        hexv("01aab4aed8c7bfce972faab4aed8c7bfce972f050604"),
		"t\x00r/x\x00v1":                  hexv("01477368613235363a63613937383131326361316262646361666163323331623339613233646334646137383665666638313437633465373262393830373738356166656534386262aab4aed8c7bfce972f0005"),
		"m\x00r/x\x00" + da:               hexv("012a6170706c69636174696f6e2f766e642e6f63692e696d6167652e6d616e69666573742e76312b6a736f6e80080261740163477368613235363a30343361373138373734633537326264386132356164626562316266636435633032353661653131636563663966396333663932356430653532626561663839aab4aed8c7bfce972faab4aed8c7bfce972f0502aab4aed8c7bfce972f"),
		"x\x00r/x\x00" + da:               `{"p":{"architecture":"","os":"linux"},"an":{"k":"v"},"b":["` + da + `"],"ch":["` + da + `"],"r":[{"d":"` + da + `"}]}`,
		"b\x00r/x\x00" + da:               "{}",
		"d\x00r/x\x00" + da + "\x00v1":    "",
		"f\x00r/x\x00" + ds + "\x00" + da: `{"mediaType":"m","digest":"` + da + `","size":2}`,
		"c\x00r/x\x00" + da + "\x00" + ds: "",
		"u\x00" + tk + "\x00r/x\x00" + da: "",
		"l\x00r/x\x00" + da:               hexv("01aab4aed8c7bfce972f08"),
		"L\x00" + da + "\x00r/x":          "",
		"g\x00" + da:                      hexv("0104aab4aed8c7bfce972f01"),
		"q\x00" + tk + "\x00" + da:        "",
		"s\x00u1":                         `{"r":"r","s":"2023-11-14T22:13:20.123456789Z"}`,
	}
	got := map[string]string{}
	err = store.View(ctx, func(tx meta.Tx) error {
		return tx.Scan(meta.Range{}, func(k, v []byte) bool {
			got[string(k)] = string(v)
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		for k, v := range got {
			if want[k] != v {
				t.Errorf("key %q = %q, want %q", k, v, want[k])
			}
		}
		for k := range want {
			if _, ok := got[k]; !ok {
				t.Errorf("key %q missing", k)
			}
		}
	}
}

// TestAccessors reads back through every accessor what TestLayout's kind of
// writes stored: the typed views decode what they encoded, scans page and
// stop, deletes remove both directions of a link.
func TestAccessors(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(0, 1700000000123456789).UTC()
	store := metamem.New()
	defer store.Close()
	d := func(i int) digest.Digest { return digest.FromString(fmt.Sprint(i)) }
	err := store.Update(ctx, func(tx meta.Tx) error {
		for i := range 5 {
			repo := fmt.Sprintf("a%d", i)
			if err := errors.Join(
				Repos.Put(tx, repo, &Repo{TagCount: i}),
				Tags.Put(tx, "a", fmt.Sprintf("t%d", i), &Tag{Digest: d(i)}),
				Manifests.Put(tx, "a", d(i), &Manifest{Size: int64(i)}),
				Links.Create(tx, repo, d(0), &Link{Refs: i}),
				Queue.Put(tx, now.Add(time.Duration(i)*time.Second), d(i)),
				Sessions.Put(tx, fmt.Sprint(i), &Session{Repository: repo}),
			); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = store.Update(ctx, func(tx meta.Tx) error {
		var names []string
		if err := Repos.Scan(tx, "a1", func(name string, rec *Repo) bool {
			names = append(names, fmt.Sprint(name, rec.TagCount))
			return len(names) < 2
		}); err != nil {
			return err
		}
		if strings.Join(names, ",") != "a22,a33" {
			t.Errorf("repository page after a1 = %v", names)
		}
		tg, ok, err := Tags.Get(tx, "a", "t3")
		if err != nil || !ok || tg.Digest != d(3) {
			t.Errorf("tag t3 = %+v, %v, %v", tg, ok, err)
		}
		if _, ok, err := Tags.Get(tx, "a", "nope"); ok || err != nil {
			t.Errorf("missing tag: found %v, %v", ok, err)
		}
		holders, err := Links.Holders(tx, d(0), 3)
		if err != nil || strings.Join(holders, ",") != "a0,a1,a2" {
			t.Errorf("holders = %v, %v", holders, err)
		}
		if err := Links.Delete(tx, "a1", d(0)); err != nil {
			return err
		}
		if holders, _ := Links.Holders(tx, d(0), 0); len(holders) != 4 {
			t.Errorf("holders after unlinking a1 = %v", holders)
		}
		if ok, _ := Links.Has(tx, "a1", d(0)); ok {
			t.Error("link a1 still there")
		}
		due, err := Queue.Due(tx, nil, now.Add(2*time.Second), 2)
		if err != nil || len(due) != 2 || due[0].Digest != d(0) || due[1].Digest != d(1) {
			t.Fatalf("due = %+v, %v", due, err)
		}
		due, err = Queue.Due(tx, &due[1], now.Add(2*time.Second), 2)
		if err != nil || len(due) != 1 || due[0].Digest != d(2) {
			t.Fatalf("next page = %+v, %v", due, err)
		}
		if n, err := Sessions.Count(tx, 3); n != 3 || err != nil {
			t.Errorf("sessions counted to 3 = %d, %v", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCorruptRecord: a record that does not decode is an error that keeps
// its class (ErrUnavailable) and its cause.
func TestCorruptRecord(t *testing.T) {
	ctx := context.Background()
	store := metamem.New()
	defer store.Close()
	err := store.Update(ctx, func(tx meta.Tx) error { return tx.Put(key(tTag, "a", "t"), []byte{codecVersion, 0x80}) })
	if err != nil {
		t.Fatal(err)
	}
	err = store.View(ctx, func(tx meta.Tx) error {
		_, _, err := Tags.Get(tx, "a", "t")
		return err
	})
	if !errors.Is(err, errdef.ErrUnavailable) || !errors.Is(err, errCorrupt) {
		t.Fatalf("corrupt tag: %v", err)
	}
	err = store.View(ctx, func(tx meta.Tx) error {
		return Tags.Scan(tx, "a", "", func(string, *Tag) bool { return true })
	})
	if !errors.Is(err, errdef.ErrUnavailable) || !errors.Is(err, errCorrupt) {
		t.Fatalf("scan over a corrupt tag: %v", err)
	}
}
