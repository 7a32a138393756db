// Package registry is regkit's registry model: a Registry holds
// repositories, a Repository holds blobs, manifests and tags, and every
// change runs in one metadata transaction with ACR's lock checks inside it.
// It knows nothing of HTTP; registry/httpapi serves it.
package registry
