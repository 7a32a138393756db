// Package httpapi serves a registry.Registry as an http.Handler that
// implements the OCI distribution API v1.1: the /v2/ check, blobs (with
// ranges), uploads (monolithic, streamed, chunked, cross-repository mount),
// manifests by tag and digest, tags lists, the catalog and the referrers
// API. Repository names may contain slashes, plain or percent-encoded;
// routes are parsed from the right. Error bodies use the spec's codes.
//
// The handler also serves ACR's data-plane REST API (api-version 2021-07-01,
// which the Azure SDKs use; the api-version parameter is ignored):
//
//	GET /acr/v1/_catalog?n&last                      repositories, Link to the next page
//	GET|PATCH|DELETE /acr/v1/{name}                  properties; attributes; delete (202)
//	GET /acr/v1/{name}/_tags?n&last&orderby&digest   tags with properties
//	GET|PATCH|DELETE /acr/v1/{name}/_tags/{tag}      properties; attributes; untag (202)
//	GET /acr/v1/{name}/_manifests?n&last&orderby     manifests with properties
//	GET|PATCH|DELETE /acr/v1/{name}/_manifests/{d}   properties; attributes; delete (202)
//
// orderby is none (lexical, the default), timedesc or timeasc (by
// lastUpdateTime). Names may hold slashes, plain or %2F; the first segment
// starting with "_" ends the name. Listings leave out items with
// listEnabled=false and give a relative Link whose last is the next page's
// cursor (opaque in time order). PATCH bodies are partial JSON of the
// changeable attributes (an empty body is 400); a repository DELETE answers
// {"manifestsDeleted":[...],"tagsDeleted":[...]}. Errors carry ACR's codes
// with a detail object: a lock refuses with 405 REGISTRY_DISALLOWED_OPERATION,
// unknown names, tags and manifests are NAME_UNKNOWN, TAG_UNKNOWN and
// MANIFEST_UNKNOWN. Times are UTC with seven fractional digits. Reads ask
// metadata/read, PATCH metadata/write, deletes content/delete (untag: OCI
// delete and metadata/write, as on /v2/); Access.Scope names these with
// ACR's scope actions. WithTokenHandler mounts a token service at
// /oauth2/token and /oauth2/exchange, ahead of authorization.
//
// Soft-deleted items (registry.Registry.SetSoftDelete) have ACR's routes
// under /acr/v1/_deleted/:
//
//	GET  /acr/v1/_deleted/_catalog?n&last              deleted repositories
//	GET  /acr/v1/_deleted/{name}/_tags?n&last          deleted tags
//	GET  /acr/v1/_deleted/{name}/_manifests?n&last     deleted manifests
//	POST /acr/v1/_deleted/{name}/_manifests/{d}?force  restore; body {"tag":...}
//
// Listings are newest first (by deletedAt), n entries a page (100 when n
// is not given, at most 10000), with a relative Link whose last is the next
// page's opaque cursor. The catalog answers {"repositories":[{"repository",
// "createdAt","deletedAt","expiresAt"}]}; the tags {"registry","imageName",
// "tags":[{"tag","digest","deletedAt","expiresAt"}]} (a tag deleted twice
// is listed twice); the manifests {"registry","imageName","manifests":
// [{"digest","mediaType","artifactType","subject","size","tags","createdAt",
// "deletedAt","expiresAt"}]}, tags being those it carried when deleted and
// subject a referrer's (restore it first). expiresAt, beyond ACR (whose
// clients compute it), is deletedAt plus the current setting's days. A
// repository with nothing deleted, or unknown, lists nothing.
//
// A restore (registry.Repository.Restore) brings back manifest {d} with
// every tag it carried, or only the tag of the body; force=true overwrites
// a tag that now points elsewhere. It answers 200 with {"registry",
// "imageName","digest","manifestRestored","repositoryRestored","tags",
// "overwrittenTags":[{"tag","digest"}],"deletedManifests"}: the tags it set,
// those force moved, and the manifests force left untagged and
// soft-deleted. Refusals: a manifest neither deleted nor stored is 404
// MANIFEST_UNKNOWN; an index whose children, or a referrer whose subject,
// are not stored is 409 MANIFEST_UNKNOWN naming them; a tag pointing
// elsewhere without force is 409 UNSUPPORTED; a blob gone meanwhile is 409
// MANIFEST_BLOB_UNKNOWN; a lock (the repository's, or a tag's that force
// would move) is 405 REGISTRY_DISALLOWED_OPERATION; a bad force, body or
// cursor is 400 UNSUPPORTED. Listings ask deleted/read and restores
// deleted/restore (token scope actions deleted_read and deleted_restore);
// the deleted catalog is registry-wide (Access.Repository ""), asked as the
// catalog is ("registry:catalog:*").
//
// Access control is an Authorizer consulted once per request with the
// repository and the actions (OCI's pull/push/delete and ACR's
// content/metadata permissions); it may answer with a Basic or Bearer
// challenge. The handler keeps no state: upload sessions live in the
// registry, so any number of handlers may serve one registry.
//
// Errors map to the spec's codes in one place. Three answers need more
// than the spec's table:
//   - A registry that cannot serve (registry.ErrUnavailable: a store closed,
//     read-only or failed; an operation the server cut short or timed out)
//     answers 503 with code UNAVAILABLE, the code CNCF distribution uses,
//     whatever else the error wraps: a corrupt record is the store's failure,
//     not the client's invalid input. The message is generic; the error with
//     its cause goes to the logger (WithLogger), as for a 500.
//   - A request whose own context was cancelled (the client went away, or
//     the host cancelled it) gets StatusClientClosedRequest, 499, with no
//     body and no code: nobody reads it, and a client that is still there
//     must not take an OCI code for the state of the registry. It is logged
//     at debug level.
//   - A lost race (registry.ErrConflict: a tag compare-and-swap lost, an
//     upload session held by another writer, a blob being garbage
//     collected) answers 409 Conflict, the HTTP status for "resolve and
//     resubmit". The spec has no code for it, so the code names what the
//     request was about: BLOB_UPLOAD_INVALID on upload routes only; on
//     manifest routes MANIFEST_BLOB_UNKNOWN when a blob the manifest needs is
//     being collected (push it again), MANIFEST_INVALID for another PUT and
//     MANIFEST_UNKNOWN for a DELETE (untag) or read; BLOB_UNKNOWN on blob
//     routes. Likewise a failed precondition without a specific code answers
//     BLOB_UPLOAD_INVALID on uploads but MANIFEST_INVALID on manifests.
//
// Limits: manifest bodies are capped (WithMaxManifestSize, 413 beyond it),
// open upload sessions by registry.WithMaxUploads (429). Request-header size
// and read/write timeouts belong to the host's http.Server (MaxHeaderBytes,
// ReadHeaderTimeout, ReadTimeout); examples/registryd shows one setting.
package httpapi
