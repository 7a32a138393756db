// Package manifest parses and validates every manifest type a registry
// stores (OCI image manifests and indexes, Docker v2 schema 2 manifests and
// manifest lists, OCI artifacts, read-only Docker schema 1) without ever
// changing the bytes, and exposes what the registry needs: the digest of the
// exact bytes, every referenced descriptor, the subject, the artifact type
// and platform selection for indexes. It depends only on the specifications'
// Go types (go-digest, image-spec) and needs no registry.
//
// # Parsing
//
// [Parse] takes the declared media type (a push's Content-Type) and the
// bytes, and returns a [Manifest] or an error that wraps one of regkit's
// error classes: [ErrTooLarge] (over [Options].MaxSize, 4 MiB by default,
// checked before anything is parsed), [ErrInvalid] (malformed JSON or a
// broken rule, often through a specific error such as [ErrDuplicateKey] or
// [ErrMediaTypeMismatch]) or [ErrUnsupported] ([ErrUnknownMediaType],
// [ErrSchema1]). Error messages name the offending field, as in
// "manifest: layers[2].digest: ...".
//
// The shapes and their media types:
//
//	image manifest   MediaTypeOCIManifest, MediaTypeDockerManifest          Image(), Config(), Layers()
//	index            MediaTypeOCIIndex, MediaTypeDockerManifestList         Index(), Manifests()
//	schema 1         MediaTypeDockerSchema1, MediaTypeDockerSchema1Signed   Schema1(), Layers(); Deprecated()
//	opaque           any other type, with Options.AllowUnknown              IsOpaque()
//
// OCI artifacts are image manifests (or indexes) with an artifactType, often
// with the empty config ([MediaTypeEmptyJSON]) and a subject; Helm charts are
// image manifests with a [MediaTypeHelmConfig] config ([Manifest.IsHelmChart]).
//
// With no declared type (or "application/json") the type is detected: the
// body's mediaType field, else schema 1 when schemaVersion is 1 (signed when
// it has signatures), else an OCI manifest when it has a config and an OCI
// index when it has manifests.
//
// # Rules
//
// The JSON is read by a strict single-pass decoder (faster than
// encoding/json, which also cannot see the first three problems):
//   - a key that appears twice in one object, at any depth and however it
//     is escaped, is rejected ([ErrDuplicateKey]);
//   - a key that differs only in case from a field the specification
//     defines ("MediaType", "Config") is rejected too, since encoding/json
//     would read it as that field and two readers could disagree;
//   - anything but white space after the value is rejected
//     ([ErrTrailingData]); arrays and objects may nest 64 deep;
//   - integers (schemaVersion, size) must be written as integers; invalid
//     UTF-8 and lone surrogates in strings become U+FFFD, as with
//     encoding/json; unknown fields are ignored, as the specifications
//     require, but must be well-formed JSON.
//
// Then the specifications' rules: schemaVersion is 2 (1 for schema 1);
// image manifests need config and layers, indexes need manifests;
// descriptors need a mediaType (an RFC 6838 type/subtype without
// parameters, see [ValidMediaType]), a digest that parses with an
// available algorithm (sha256, sha384, sha512) and a size that is not
// negative; urls must be absolute URIs; embedded data must match the
// digest and size; platforms need os and architecture. A mediaType field
// must equal the declared type ([ErrMediaTypeMismatch]); the OCI types may
// omit it, the Docker schema 2 types must have it. A descriptor of type
// [MediaTypeEmptyJSON] must describe the two bytes "{}", and an OCI
// manifest whose config is empty must have an artifactType. Layers and
// index children may be of any media type; a subject need not exist.
//
// Schema 1 is parsed only with [Options].AllowSchema1: schemaVersion 1, at
// least one fsLayers entry with a valid blobSum, exactly one history entry
// per layer. JWS signatures are not verified (see [Schema1]).
//
// # Digests and references
//
// A manifest's digest is the digest of its exact bytes ([Manifest.Digest]
// is sha256, [Manifest.DigestAs] any available algorithm); [Verify] checks
// content against a descriptor's digest and size. [Manifest.References]
// lists every descriptor the manifest depends on, classified as
// [KindConfig], [KindLayer], [KindManifest] or [KindSubject], for existence
// checks, reference counting, garbage collection, import and the referrers
// index. [Manifest.Descriptor] and [Manifest.ArtifactType] give what the
// referrers API lists: an image manifest without artifactType reports its
// config's media type; an index reports its own field only.
//
// # Platforms and layers
//
// [SelectPlatform] picks an index child for a platform, by the rules
// documented at [MatchPlatform] and in platform.go: architecture aliases
// normalised ([NormalizePlatform]), variant defaults (arm64 is v8, arm is
// v7), older variants accepted (arm v7 runs v6 and v5), os.version by
// major.minor.build, os.features as a subset of the wanted ones, the
// closest match preferred. [ParsePlatform] reads "linux/arm64/v8".
//
// [IsLayerMediaType], [IsGzip], [IsZstd] and [IsForeign] classify layer media
// types; regkit/internal/compress detects a blob's actual compression from
// its first bytes.
package manifest
