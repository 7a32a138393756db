// Package httpapi serves a registry.Registry as an http.Handler that
// implements the OCI distribution API v1.1: the /v2/ check, blobs (with
// ranges), uploads (monolithic, streamed, chunked, cross-repository mount),
// manifests by tag and digest, tags lists, the catalog and the referrers
// API. Repository names may contain slashes, plain or percent-encoded;
// routes are parsed from the right. Error bodies use the spec's codes.
//
// Access control is an Authorizer consulted once per request with the
// repository and the actions (OCI's pull/push/delete and ACR's
// content/metadata permissions); it may answer with a Basic or Bearer
// challenge. The handler keeps no state: upload sessions live in the
// registry, so any number of handlers may serve one registry.
//
// Limits: manifest bodies are capped (WithMaxManifestSize, 413 beyond it),
// open upload sessions by registry.WithMaxUploads (429). Request-header size
// and read/write timeouts belong to the host's http.Server (MaxHeaderBytes,
// ReadHeaderTimeout, ReadTimeout); examples/registryd shows one setting.
package httpapi
