// Package blob defines regkit's content-addressed blob storage: the [Storage]
// interface, composed from small one-purpose interfaces, its upload [Writer],
// the error classes every backend returns, and helpers shared by backends.
//
// Storage is keyed by digest alone and knows nothing of repositories, tags,
// manifests or HTTP; the registry package adds those. Backends live in
// sub-packages: blob/memory (tests and harnesses), blob/fs (the embedded
// default). blob/blobtest is the conformance suite every backend runs in one
// line.
package blob
