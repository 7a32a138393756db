package httpapi

import (
	"net/url"
	"strings"
)

// parseACRRoute parses an escaped /acr/v1/ path. Repository names may hold
// slashes, plain or as %2F; a name segment never starts with "_", so the
// first segment that does ("_tags", "_manifests") ends the name. The
// catalog is "_catalog" in the name's place; "_deleted/" starts the routes of
// soft-deleted items (parseACRDeletedRoute). ok is false for paths outside
// this API; the name is validated by the caller.
func parseACRRoute(escaped string) (route, bool) {
	rest, ok := strings.CutPrefix(escaped, "/acr/v1/")
	if !ok || rest == "" {
		return route{}, false
	}
	if rest == "_catalog" {
		return route{kind: kindACRCatalog}, true
	}
	if d, ok := strings.CutPrefix(rest, "_deleted/"); ok {
		return parseACRDeletedRoute(d)
	}
	nameSegs, tail, ok := splitACRName(rest)
	if !ok {
		return route{}, false
	}
	var rt route
	switch {
	case len(tail) == 0:
		rt.kind = kindACRRepo
	case len(tail) == 1 && tail[0] == "_tags":
		rt.kind = kindACRTags
	case len(tail) == 2 && tail[0] == "_tags" && tail[1] != "":
		rt.kind, rt.ref = kindACRTag, tail[1]
	case len(tail) == 1 && tail[0] == "_manifests":
		rt.kind = kindACRManifests
	case len(tail) == 2 && tail[0] == "_manifests" && tail[1] != "":
		rt.kind, rt.ref = kindACRManifest, tail[1]
	default:
		return route{}, false
	}
	return unescapeACRRoute(rt, nameSegs)
}

// splitACRName splits the path after "/acr/v1/" (or "/acr/v1/_deleted/")
// into the repository name's escaped segments and what follows them: the
// name ends at the first segment that starts with "_". ok is false when
// there is no name.
func splitACRName(rest string) (nameSegs, tail []string, ok bool) {
	segs := strings.Split(rest, "/")
	end := len(segs)
	for i, s := range segs {
		if strings.HasPrefix(s, "_") {
			end = i
			break
		}
	}
	return segs[:end], segs[end:], end > 0
}

// unescapeACRRoute unescapes rt's reference and sets its name from the
// escaped name segments.
func unescapeACRRoute(rt route, nameSegs []string) (route, bool) {
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
