package httpapi

import (
	"net/url"
	"strings"
)

// kind names an endpoint of the distribution API.
type kind int

const (
	kindNone kind = iota
	kindBase
	kindCatalog
	kindTags
	kindManifest
	kindBlob
	kindUploadStart
	kindUpload
	kindReferrers

	// ACR's data-plane API under /acr/v1/.
	kindACRCatalog
	kindACRRepo
	kindACRTags
	kindACRTag
	kindACRManifests
	kindACRManifest

	// Soft-deleted items under /acr/v1/_deleted/.
	kindACRDeletedCatalog
	kindACRDeletedTags
	kindACRDeletedManifests
	kindACRDeletedManifest
)

// acr reports whether k is a route of ACR's /acr/v1/ API.
func (k kind) acr() bool { return k >= kindACRCatalog }

// deleted reports whether k is a route of /acr/v1/_deleted/.
func (k kind) deleted() bool { return k >= kindACRDeletedCatalog }

// route is a parsed request path.
type route struct {
	kind kind
	// name is the repository, with percent-encoded slashes decoded.
	name string
	// ref is the tag or digest, blob digest, or upload ID.
	ref string
}

// parseRoute parses an escaped /v2/ path from the right, since repository
// names contain slashes (and may contain segments such as "blobs" or
// "manifests"). Each segment is unescaped on its own, so a name whose
// slashes arrive as %2F reads the same as one with plain slashes. ok is
// false for paths outside the API; the name is validated by the caller.
func parseRoute(escaped string) (route, bool) {
	rest, ok := strings.CutPrefix(escaped, "/v2")
	if !ok {
		return route{}, false
	}
	if rest == "" || rest == "/" {
		return route{kind: kindBase}, true
	}
	rest, ok = strings.CutPrefix(rest, "/")
	if !ok {
		return route{}, false
	}
	if rest == "_catalog" {
		return route{kind: kindCatalog}, true
	}
	segs := strings.Split(rest, "/")
	n := len(segs)
	var rt route
	var nameSegs []string
	switch {
	case n >= 3 && segs[n-2] == "tags" && segs[n-1] == "list":
		rt, nameSegs = route{kind: kindTags}, segs[:n-2]
	case n >= 3 && segs[n-2] == "manifests":
		rt, nameSegs = route{kind: kindManifest, ref: segs[n-1]}, segs[:n-2]
	case n >= 4 && segs[n-3] == "blobs" && segs[n-2] == "uploads":
		if segs[n-1] == "" {
			rt = route{kind: kindUploadStart}
		} else {
			rt = route{kind: kindUpload, ref: segs[n-1]}
		}
		nameSegs = segs[:n-3]
	case n >= 3 && segs[n-2] == "blobs" && segs[n-1] == "uploads":
		rt, nameSegs = route{kind: kindUploadStart}, segs[:n-2]
	case n >= 3 && segs[n-2] == "blobs":
		rt, nameSegs = route{kind: kindBlob, ref: segs[n-1]}, segs[:n-2]
	case n >= 3 && segs[n-2] == "referrers":
		rt, nameSegs = route{kind: kindReferrers, ref: segs[n-1]}, segs[:n-2]
	default:
		return route{}, false
	}
	ref, err := url.PathUnescape(rt.ref)
	if err != nil {
		return route{}, false
	}
	rt.ref = ref
	parts := make([]string, len(nameSegs))
	for i, s := range nameSegs {
		if parts[i], err = url.PathUnescape(s); err != nil {
			return route{}, false
		}
	}
	rt.name = strings.Join(parts, "/")
	return rt, true
}
