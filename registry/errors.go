package registry

import (
	"fmt"

	"github.com/regkit/regkit/internal/errdef"
)

// Error classes. They are the same values every regkit package exports, so
// errors.Is(err, registry.ErrNotFound) holds for a blob.ErrNotFound too.
var (
	ErrNotFound       error = errdef.ErrNotFound
	ErrAlreadyExists  error = errdef.ErrAlreadyExists
	ErrInvalid        error = errdef.ErrInvalid
	ErrDigestMismatch error = errdef.ErrDigestMismatch
	ErrSizeMismatch   error = errdef.ErrSizeMismatch
	ErrTooLarge       error = errdef.ErrTooLarge
	ErrUnsupported    error = errdef.ErrUnsupported
	ErrLocked         error = errdef.ErrLocked
	ErrConflict       error = errdef.ErrConflict
	ErrPrecondition   error = errdef.ErrPrecondition
	ErrUnavailable    error = errdef.ErrUnavailable
)

// Specific errors, each in one class. The HTTP layer maps them to the OCI
// error codes (NAME_UNKNOWN, BLOB_UNKNOWN, MANIFEST_UNKNOWN, ...).
var (
	// ErrNameInvalid: a repository name outside the distribution-spec grammar.
	ErrNameInvalid error = errdef.New("invalid repository name", ErrInvalid)
	// ErrNameUnknown: the repository does not exist.
	ErrNameUnknown error = errdef.New("repository unknown", ErrNotFound)
	// ErrBlobUnknown: the blob is not linked into the repository.
	ErrBlobUnknown error = errdef.New("blob unknown to repository", ErrNotFound)
	// ErrBlobUploadUnknown: no such upload session in the repository.
	ErrBlobUploadUnknown error = errdef.New("blob upload unknown", ErrNotFound)
	// ErrManifestUnknown: no manifest by that tag or digest.
	ErrManifestUnknown error = errdef.New("manifest unknown", ErrNotFound)
	// ErrManifestBlobUnknown: a manifest references a blob the repository lacks.
	ErrManifestBlobUnknown error = errdef.New("manifest references a blob unknown to the repository", ErrPrecondition)
	// ErrManifestChildUnknown: an index references a manifest the repository lacks.
	ErrManifestChildUnknown error = errdef.New("index references a manifest unknown to the repository", ErrPrecondition)
	// ErrTagInvalid: a tag outside the grammar.
	ErrTagInvalid error = errdef.New("invalid tag", ErrInvalid)
	// ErrBlobReferenced: a blob cannot be removed from a repository while a
	// manifest in it references the blob.
	ErrBlobReferenced error = errdef.New("blob is referenced by a manifest in the repository", ErrPrecondition)
	// ErrManifestReferenced: a manifest cannot be deleted while an index in
	// the repository holds it as a child; delete the index first.
	ErrManifestReferenced error = errdef.New("manifest is a child of an index", ErrPrecondition)
	// ErrCollecting: garbage collection is removing the blob right now; retry.
	ErrCollecting error = errdef.New("blob is being garbage collected", ErrConflict)
)

func errorf(err error, format string, args ...any) error {
	return fmt.Errorf("registry: "+format+": %w", append(args, err)...)
}
