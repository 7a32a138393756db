// Package manifest parses and validates every manifest type a registry
// stores (OCI image manifests and indexes, Docker v2 schema 2 manifests and
// manifest lists, OCI artifacts, read-only Docker schema 1) without ever
// changing the bytes, and exposes what the registry needs: the digest of the
// exact bytes, every referenced descriptor, the subject, the artifact type
// and platform selection for indexes.
package manifest
