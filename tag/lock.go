package tag

import (
	"fmt"
	"iter"
)

// Kind names the kind of item a lock decision is about.
type Kind string

// The item kinds that carry Attributes.
const (
	KindRepository Kind = "repository"
	KindTag        Kind = "tag"
	KindManifest   Kind = "manifest"
)

// Item is one attributed item a decision looks at: its kind, its name (for
// the error message) and its attributes.
type Item struct {
	Kind       Kind
	Name       string
	Attributes Attributes
}

// Repository builds the Item of a repository.
func Repository(name string, a Attributes) Item { return Item{KindRepository, name, a} }

// Tag builds the Item of a tag.
func Tag(name string, a Attributes) Item { return Item{KindTag, name, a} }

// Manifest builds the Item of a manifest, named by its digest.
func Manifest(dgst string, a Attributes) Item { return Item{KindManifest, dgst, a} }

func refuse(op string, it Item, attr string) error {
	return fmt.Errorf("tag: %s refused: %s %q has %s=false: %w", op, it.Kind, it.Name, attr, ErrLocked)
}

// CheckWrite decides whether new content may be written into a repository:
// uploading blobs, pushing manifests, adding a new tag. Only the
// repository's writeEnabled matters.
func CheckWrite(repo Item) error {
	if !repo.Attributes.WriteEnabled {
		return refuse("write", repo, "writeEnabled")
	}
	return nil
}

// CheckTagMove decides whether an existing tag may point elsewhere: the
// repository and the tag must both be writable. Pointing a tag at the
// manifest it already names changes nothing and needs no check.
func CheckTagMove(repo, tag Item) error {
	if err := CheckWrite(repo); err != nil {
		return err
	}
	if !tag.Attributes.WriteEnabled {
		return refuse("overwrite", tag, "writeEnabled")
	}
	return nil
}

// CheckUntag decides whether a tag may be removed (its manifest stays). The
// repository and the tag must be writable and the tag deletable.
func CheckUntag(repo, tag Item) error {
	if err := CheckWrite(repo); err != nil {
		return err
	}
	return checkDeletable("untag", tag)
}

// CheckManifestDelete decides whether a manifest may be deleted together with
// the tags that point to it (deleting a manifest removes its tags, so a
// locked tag blocks it too). The repository must be writable; the manifest
// and every tag both writable and deletable. The repository's deleteEnabled
// does not matter: it protects only the repository itself.
func CheckManifestDelete(repo, manifest Item, tags ...Item) error {
	if err := CheckWrite(repo); err != nil {
		return err
	}
	if err := checkDeletable("delete", manifest); err != nil {
		return err
	}
	for _, t := range tags {
		if err := checkDeletable("delete", t); err != nil {
			return err
		}
	}
	return nil
}

// CheckRepositoryDelete decides whether a repository may be deleted with all
// it holds: the repository must be writable and deletable, and no tag or
// manifest in it locked. contents yields the items inside (nil: none).
func CheckRepositoryDelete(repo Item, contents iter.Seq[Item]) error {
	if err := checkDeletable("delete", repo); err != nil {
		return err
	}
	var err error
	if contents != nil {
		contents(func(it Item) bool {
			err = checkDeletable("delete repository", it)
			return err == nil
		})
	}
	return err
}

// CheckRead decides whether content may be pulled: the repository and every
// item on the way (the tag used, the manifest) must be readable.
func CheckRead(items ...Item) error {
	for _, it := range items {
		if !it.Attributes.ReadEnabled {
			return refuse("read", it, "readEnabled")
		}
	}
	return nil
}

// Listed reports whether an item shows in listings.
func Listed(it Item) bool { return it.Attributes.ListEnabled }

func checkDeletable(op string, it Item) error {
	if !it.Attributes.WriteEnabled {
		return refuse(op, it, "writeEnabled")
	}
	if !it.Attributes.DeleteEnabled {
		return refuse(op, it, "deleteEnabled")
	}
	return nil
}
