package tag

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"latest", true},
		{"v1.0.0", true},
		{"_hidden", true},
		{"A-Z_09.x", true},
		{"0", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{".leading-dot", false},
		{"-leading-dash", false},
		{"has space", false},
		{"slash/no", false},
		{"colon:no", false},
		{"at@no", false},
		{"ünicode", false},
		{"new\nline", false},
	}
	for _, tt := range tests {
		err := ValidateName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateName(%q) error %v does not wrap ErrInvalid", tt.name, err)
		}
	}
}

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"latest", "", ".x", strings.Repeat("b", 200), "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateName(s)
		if err == nil {
			if len(s) == 0 || len(s) > MaxNameLength || s[0] == '.' || s[0] == '-' {
				t.Fatalf("accepted %q", s)
			}
		}
	})
}

func TestPatchJSON(t *testing.T) {
	var p Patch
	if err := json.Unmarshal([]byte(`{"writeEnabled": false}`), &p); err != nil {
		t.Fatal(err)
	}
	got := p.Apply(DefaultAttributes())
	want := Attributes{DeleteEnabled: true, WriteEnabled: false, ReadEnabled: true, ListEnabled: true}
	if got != want {
		t.Fatalf("Apply = %+v, want %+v", got, want)
	}
	if p.Empty() || !(Patch{}).Empty() {
		t.Fatal("Empty wrong")
	}
	b, _ := json.Marshal(DefaultAttributes())
	if string(b) != `{"deleteEnabled":true,"writeEnabled":true,"readEnabled":true,"listEnabled":true}` {
		t.Fatalf("marshal = %s", b)
	}
}

func attrs(del, write, read, list bool) Attributes {
	return Attributes{DeleteEnabled: del, WriteEnabled: write, ReadEnabled: read, ListEnabled: list}
}

var (
	open      = DefaultAttributes()
	noWrite   = attrs(true, false, true, true)
	noDelete  = attrs(false, true, true, true)
	noRead    = attrs(true, true, false, true)
	repoOpen  = Repository("r", open)
	repoWLock = Repository("r", noWrite)
	repoDLock = Repository("r", noDelete)
)

func TestDecisions(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		locked bool
	}{
		{"write open repo", CheckWrite(repoOpen), false},
		{"write locked repo", CheckWrite(repoWLock), true},
		{"write delete-locked repo", CheckWrite(repoDLock), false},

		{"move open tag", CheckTagMove(repoOpen, Tag("t", open)), false},
		{"move write-locked tag", CheckTagMove(repoOpen, Tag("t", noWrite)), true},
		{"move delete-locked tag", CheckTagMove(repoOpen, Tag("t", noDelete)), false},
		{"move tag in locked repo", CheckTagMove(repoWLock, Tag("t", open)), true},

		{"untag open", CheckUntag(repoOpen, Tag("t", open)), false},
		{"untag write-locked", CheckUntag(repoOpen, Tag("t", noWrite)), true},
		{"untag delete-locked", CheckUntag(repoOpen, Tag("t", noDelete)), true},
		{"untag in locked repo", CheckUntag(repoWLock, Tag("t", open)), true},
		{"untag in delete-locked repo", CheckUntag(repoDLock, Tag("t", open)), false},

		{"delete open manifest", CheckManifestDelete(repoOpen, Manifest("d", open)), false},
		{"delete write-locked manifest", CheckManifestDelete(repoOpen, Manifest("d", noWrite)), true},
		{"delete delete-locked manifest", CheckManifestDelete(repoOpen, Manifest("d", noDelete)), true},
		{"delete manifest with locked tag", CheckManifestDelete(repoOpen, Manifest("d", open), Tag("a", open), Tag("b", noWrite)), true},
		{"delete manifest in locked repo", CheckManifestDelete(repoWLock, Manifest("d", open)), true},
		{"delete manifest in delete-locked repo", CheckManifestDelete(repoDLock, Manifest("d", open)), false},

		{"delete open repo", CheckRepositoryDelete(repoOpen, items(Tag("t", open), Manifest("d", open))), false},
		{"delete empty repo", CheckRepositoryDelete(repoOpen, nil), false},
		{"delete delete-locked repo", CheckRepositoryDelete(repoDLock, nil), true},
		{"delete write-locked repo", CheckRepositoryDelete(repoWLock, nil), true},
		{"delete repo with locked tag", CheckRepositoryDelete(repoOpen, items(Tag("t", noWrite))), true},
		{"delete repo with delete-locked manifest", CheckRepositoryDelete(repoOpen, items(Manifest("d", noDelete))), true},

		{"read open", CheckRead(repoOpen, Tag("t", open), Manifest("d", open)), false},
		{"read locked repo", CheckRead(Repository("r", noRead)), true},
		{"read locked tag", CheckRead(repoOpen, Tag("t", noRead)), true},
		{"read locked manifest", CheckRead(repoOpen, Manifest("d", noRead)), true},
		{"read write-locked", CheckRead(repoWLock, Tag("t", noWrite)), false},
	}
	for _, tt := range tests {
		if got := tt.err != nil; got != tt.locked {
			t.Errorf("%s: err = %v, want refused=%v", tt.name, tt.err, tt.locked)
		}
		if tt.err != nil && !errors.Is(tt.err, ErrLocked) {
			t.Errorf("%s: %v does not wrap ErrLocked", tt.name, tt.err)
		}
	}
}

func items(its ...Item) func(func(Item) bool) {
	return func(yield func(Item) bool) {
		for _, it := range its {
			if !yield(it) {
				return
			}
		}
	}
}

func TestLockedAndListed(t *testing.T) {
	if open.Locked() || !noWrite.Locked() || !noDelete.Locked() || noRead.Locked() {
		t.Fatal("Locked wrong")
	}
	if !Listed(Tag("t", open)) || Listed(Tag("t", attrs(true, true, true, false))) {
		t.Fatal("Listed wrong")
	}
}
