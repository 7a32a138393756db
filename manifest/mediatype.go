package manifest

import (
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Manifest media types. The OCI ones repeat image-spec's constants so that
// one package lists every type Parse knows.
const (
	// MediaTypeOCIManifest is an OCI image manifest (also used by artifacts).
	MediaTypeOCIManifest = ocispec.MediaTypeImageManifest
	// MediaTypeOCIIndex is an OCI image index.
	MediaTypeOCIIndex = ocispec.MediaTypeImageIndex
	// MediaTypeDockerManifest is a Docker image manifest v2, schema 2.
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	// MediaTypeDockerManifestList is a Docker manifest list (multi-arch).
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	// MediaTypeDockerSchema1 is an unsigned Docker image manifest v2, schema 1
	// (deprecated; read-only).
	MediaTypeDockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json"
	// MediaTypeDockerSchema1Signed is a signed (JWS) Docker image manifest v2,
	// schema 1 (deprecated; read-only).
	MediaTypeDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// Config media types.
const (
	// MediaTypeOCIConfig is the OCI image configuration.
	MediaTypeOCIConfig = ocispec.MediaTypeImageConfig
	// MediaTypeEmptyJSON is the empty descriptor's type: the two bytes "{}",
	// used as the config (and sometimes the layer) of artifacts.
	MediaTypeEmptyJSON = ocispec.MediaTypeEmptyJSON
	// MediaTypeDockerConfig is the Docker image configuration.
	MediaTypeDockerConfig = "application/vnd.docker.container.image.v1+json"
	// MediaTypeHelmConfig is the config of a Helm chart stored as an OCI artifact.
	MediaTypeHelmConfig = "application/vnd.cncf.helm.config.v1+json"
)

// Layer media types. The OCI ones are image-spec's; the Docker ones are
// declared here because image-spec does not define them.
const (
	// MediaTypeOCILayer is an uncompressed OCI layer (a tar archive).
	MediaTypeOCILayer = ocispec.MediaTypeImageLayer
	// MediaTypeOCILayerGzip is a gzip-compressed OCI layer.
	MediaTypeOCILayerGzip = ocispec.MediaTypeImageLayerGzip
	// MediaTypeOCILayerZstd is a zstd-compressed OCI layer.
	MediaTypeOCILayerZstd = ocispec.MediaTypeImageLayerZstd
	// MediaTypeOCIForeignLayer is an uncompressed non-distributable OCI layer
	// (deprecated by image-spec, still found in old images).
	MediaTypeOCIForeignLayer = "application/vnd.oci.image.layer.nondistributable.v1.tar"
	// MediaTypeOCIForeignLayerGzip is a gzip-compressed non-distributable OCI layer.
	MediaTypeOCIForeignLayerGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
	// MediaTypeOCIForeignLayerZstd is a zstd-compressed non-distributable OCI layer.
	MediaTypeOCIForeignLayerZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
	// MediaTypeDockerLayer is an uncompressed Docker layer.
	MediaTypeDockerLayer = "application/vnd.docker.image.rootfs.diff.tar"
	// MediaTypeDockerLayerGzip is a gzip-compressed Docker layer (the usual one).
	MediaTypeDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	// MediaTypeDockerLayerZstd is a zstd-compressed Docker layer.
	MediaTypeDockerLayerZstd = "application/vnd.docker.image.rootfs.diff.tar.zstd"
	// MediaTypeDockerForeignLayer is an uncompressed foreign Docker layer
	// (Windows base layers), fetched from its descriptor's urls.
	MediaTypeDockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar"
	// MediaTypeDockerForeignLayerGzip is a gzip-compressed foreign Docker layer.
	MediaTypeDockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
)

// Helm chart layer media types.
const (
	// MediaTypeHelmChart is the chart archive of a Helm chart.
	MediaTypeHelmChart = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	// MediaTypeHelmProvenance is the provenance file of a signed Helm chart.
	MediaTypeHelmProvenance = "application/vnd.cncf.helm.chart.provenance.v1.prov"
)

// IsManifestMediaType reports whether mt is a manifest type Parse
// interprets: the OCI manifest and index, the Docker schema 2 manifest and
// manifest list, and the two Docker schema 1 types. Parameters such as
// "; charset=utf-8" are ignored.
func IsManifestMediaType(mt string) bool {
	_, ok := kindOf(baseType(mt))
	return ok
}

// IsIndexMediaType reports whether mt is an OCI index or a Docker manifest list.
func IsIndexMediaType(mt string) bool {
	k, ok := kindOf(baseType(mt))
	return ok && k == kindIndex
}

// IsLayerMediaType reports whether mt is one of the image layer types above
// (OCI or Docker, any compression, distributable or not). Artifacts may use
// any media type for their layers; this only recognises image layers.
func IsLayerMediaType(mt string) bool {
	switch baseType(mt) {
	case MediaTypeOCILayer, MediaTypeOCILayerGzip, MediaTypeOCILayerZstd,
		MediaTypeOCIForeignLayer, MediaTypeOCIForeignLayerGzip, MediaTypeOCIForeignLayerZstd,
		MediaTypeDockerLayer, MediaTypeDockerLayerGzip, MediaTypeDockerLayerZstd,
		MediaTypeDockerForeignLayer, MediaTypeDockerForeignLayerGzip:
		return true
	}
	return false
}

// IsGzip reports whether mt names gzip-compressed content: a "+gzip"
// structured-syntax suffix (OCI) or a ".gzip" ending (Docker).
func IsGzip(mt string) bool {
	mt = baseType(mt)
	return strings.HasSuffix(mt, "+gzip") || strings.HasSuffix(mt, ".gzip")
}

// IsZstd reports whether mt names zstd-compressed content: a "+zstd"
// suffix (OCI) or a ".zstd" ending (Docker).
func IsZstd(mt string) bool {
	mt = baseType(mt)
	return strings.HasSuffix(mt, "+zstd") || strings.HasSuffix(mt, ".zstd")
}

// IsForeign reports whether mt is a non-distributable (OCI) or foreign
// (Docker) layer: one a registry may not hold, which clients fetch from the
// descriptor's urls instead.
func IsForeign(mt string) bool {
	switch baseType(mt) {
	case MediaTypeOCIForeignLayer, MediaTypeOCIForeignLayerGzip, MediaTypeOCIForeignLayerZstd,
		MediaTypeDockerForeignLayer, MediaTypeDockerForeignLayerGzip:
		return true
	}
	return false
}

// ValidMediaType reports whether mt is a well-formed media type without
// parameters, as descriptors and artifactType must be: type "/" subtype,
// each an RFC 6838 restricted-name of 1 to 127 characters (the pattern of
// image-spec's JSON schema).
func ValidMediaType(mt string) bool {
	typ, sub, ok := strings.Cut(mt, "/")
	return ok && restrictedName(typ) && restrictedName(sub)
}

// restrictedName checks RFC 6838's restricted-name: an ALPHA or DIGIT, then
// up to 126 of ALPHA, DIGIT and "!#$&-^_.+".
func restrictedName(s string) bool {
	if len(s) == 0 || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i == 0:
			return false
		case c == '.', c == '+', c == '-', c == '_', c == '!', c == '#', c == '$', c == '&', c == '^':
		default:
			return false
		}
	}
	return true
}

// baseType drops parameters and surrounding white space from a
// Content-Type value.
func baseType(mt string) string {
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	return strings.TrimSpace(mt)
}

// kind is the shape of a manifest, which decides how it is decoded.
type kind int

const (
	kindOpaque kind = iota
	kindImage
	kindIndex
	kindSchema1
)

// kindOf maps a known manifest media type to its shape.
func kindOf(mt string) (kind, bool) {
	switch mt {
	case MediaTypeOCIManifest, MediaTypeDockerManifest:
		return kindImage, true
	case MediaTypeOCIIndex, MediaTypeDockerManifestList:
		return kindIndex, true
	case MediaTypeDockerSchema1, MediaTypeDockerSchema1Signed:
		return kindSchema1, true
	}
	return kindOpaque, false
}

// isDocker reports whether mt is one of the Docker schema 2 types, whose
// mediaType field is required.
func isDocker(mt string) bool {
	return mt == MediaTypeDockerManifest || mt == MediaTypeDockerManifestList
}
