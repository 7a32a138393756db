package manifest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Platform matching.
//
// A wanted platform (the machine that will run the image) matches a
// candidate (an index child's platform) when, after NormalizePlatform:
//   - the operating systems are equal;
//   - the architectures are equal (no cross-architecture fallback: a
//     registry returns what was asked for, so arm64 never selects a 32-bit
//     arm image and amd64 never selects 386);
//   - the variant is compatible. For arm (v5 < v6 < v7 < v8), arm64 (v8 <
//     v8.1 < ... < v9 < ...) and amd64 (v1 < v2 < v3 < v4) a machine runs its
//     own level and every lower one: arm v7 runs v7, v6 and v5 images, an
//     amd64 v3 machine runs v1, v2 and v3 images. Defaults: arm without a
//     variant is v7, arm64 without one is v8, amd64 without one is v1. For
//     other architectures the variants must be equal, or the candidate's
//     empty;
//   - os.version is compatible: when both name one, the first three
//     dot-separated parts (major.minor.build, which decides Windows
//     compatibility) must be equal;
//   - the wanted os.features include every feature the candidate requires.
//
// Among matches, SelectPlatform prefers an exact variant, then the highest
// variant level (the closest to the wanted one), then an identical
// os.version, then the earliest child in the index.

// NormalizePlatform returns p with the spellings matching uses:
// lower case; os "macos" is "darwin"; architecture aliases x86_64 and x86-64
// are amd64, i386 to i686 are 386, aarch64 is arm64, armhf is arm v7,
// armel is arm v6, armv5/armv6/armv7 (with an optional "l") are arm with that
// variant; bare variant numbers get a "v" ("7" is "v7"); the default
// variants are spelled out for arm ("v7") and dropped for arm64 ("v8",
// "v8.0") and amd64 ("v1"). OSFeatures are kept as they are.
func NormalizePlatform(p ocispec.Platform) ocispec.Platform {
	p.OS = strings.ToLower(p.OS)
	if p.OS == "macos" {
		p.OS = "darwin"
	}
	arch, variant := strings.ToLower(p.Architecture), strings.ToLower(p.Variant)
	if variant != "" && variant[0] >= '0' && variant[0] <= '9' {
		variant = "v" + variant
	}
	switch arch {
	case "i386", "i486", "i586", "i686", "x86", "386":
		arch = "386"
	case "x86_64", "x86-64", "amd64":
		arch = "amd64"
		if variant == "v1" {
			variant = ""
		}
	case "aarch64", "arm64":
		arch = "arm64"
		if variant == "v8" || variant == "v8.0" {
			variant = ""
		}
	case "armhf", "armel", "armv5", "armv5l", "armv5tel", "armv6", "armv6l", "armv7", "armv7l":
		if variant == "" {
			switch arch {
			case "armhf", "armv7", "armv7l":
				variant = "v7"
			case "armel", "armv6", "armv6l":
				variant = "v6"
			default:
				variant = "v5"
			}
		}
		arch = "arm"
	case "arm":
		if variant == "" {
			variant = "v7"
		}
	}
	p.Architecture, p.Variant = arch, variant
	return p
}

// level returns the order of a normalized variant for architectures whose
// variants are ordered.
func level(arch, variant string) (major, minor int, ok bool) {
	v, hasV := strings.CutPrefix(variant, "v")
	switch arch {
	case "arm":
		if n, err := strconv.Atoi(v); err == nil && hasV && n >= 5 && n <= 8 {
			return n, 0, true
		}
	case "arm64":
		if variant == "" {
			return 8, 0, true
		}
		if !hasV {
			return 0, 0, false
		}
		majS, minS, dotted := strings.Cut(v, ".")
		maj, err1 := strconv.Atoi(majS)
		min, err2 := 0, error(nil)
		if dotted {
			min, err2 = strconv.Atoi(minS)
		}
		if err1 == nil && err2 == nil && maj >= 8 && maj < 100 && min >= 0 && min < 100 {
			return maj, min, true
		}
	case "amd64":
		if variant == "" {
			return 1, 0, true
		}
		if n, err := strconv.Atoi(v); err == nil && hasV && n >= 2 && n <= 4 {
			return n, 0, true
		}
	}
	return 0, 0, false
}

// score ranks a match; see the rules at the top of this file.
type score struct {
	exactVariant   bool
	major, minor   int
	exactOSVersion bool
}

func (s score) better(t score) bool {
	switch {
	case s.exactVariant != t.exactVariant:
		return s.exactVariant
	case s.major != t.major:
		return s.major > t.major
	case s.minor != t.minor:
		return s.minor > t.minor
	}
	return s.exactOSVersion && !t.exactOSVersion
}

// match reports whether want can run have (both normalized) and how well.
func match(want, have ocispec.Platform) (score, bool) {
	var s score
	if want.OS != have.OS || want.Architecture != have.Architecture {
		return s, false
	}
	s.exactVariant = want.Variant == have.Variant
	if !s.exactVariant {
		wMaj, wMin, ok1 := level(want.Architecture, want.Variant)
		hMaj, hMin, ok2 := level(have.Architecture, have.Variant)
		switch {
		case ok1 && ok2:
			if hMaj > wMaj || hMaj == wMaj && hMin > wMin {
				return s, false
			}
			s.major, s.minor = hMaj, hMin
		case ok1 || ok2 || have.Variant != "":
			return s, false
		}
	} else if maj, min, ok := level(have.Architecture, have.Variant); ok {
		s.major, s.minor = maj, min
	}
	if want.OSVersion != "" && have.OSVersion != "" && osBuild(want.OSVersion) != osBuild(have.OSVersion) {
		return s, false
	}
	s.exactOSVersion = want.OSVersion == have.OSVersion
	for _, f := range have.OSFeatures {
		if !slices.Contains(want.OSFeatures, f) {
			return s, false
		}
	}
	return s, true
}

// osBuild keeps the first three dot-separated parts of an os.version.
func osBuild(v string) string {
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] == '.' {
			if n++; n == 3 {
				return v[:i]
			}
		}
	}
	return v
}

// MatchPlatform reports whether a machine of platform want can run an
// image built for platform have, by the rules at the top of this file.
func MatchPlatform(want, have ocispec.Platform) bool {
	_, ok := match(NormalizePlatform(want), NormalizePlatform(have))
	return ok
}

// SelectPlatform picks the child of idx that best matches want (rules at
// the top of this file). Children without a platform are skipped. The
// error wraps ErrNoMatchingPlatform (class ErrNotFound) when none matches,
// ErrInvalid when want has no os or architecture or idx is nil.
func SelectPlatform(idx *ocispec.Index, want ocispec.Platform) (ocispec.Descriptor, error) {
	if idx == nil {
		return ocispec.Descriptor{}, errorf(ErrInvalid, "select platform: no index")
	}
	if want.OS == "" || want.Architecture == "" {
		return ocispec.Descriptor{}, errorf(ErrInvalid, "select platform: os and architecture are required")
	}
	w := NormalizePlatform(want)
	best, bestScore := -1, score{}
	for i, c := range idx.Manifests {
		if c.Platform == nil {
			continue
		}
		s, ok := match(w, NormalizePlatform(*c.Platform))
		if ok && (best < 0 || s.better(bestScore)) {
			best, bestScore = i, s
		}
	}
	if best < 0 {
		return ocispec.Descriptor{}, errorf(ErrNoMatchingPlatform, "%s", FormatPlatform(want))
	}
	return idx.Manifests[best], nil
}

// ParsePlatform parses "os[(os.version)]/architecture[/variant]", as in
// "linux/arm64", "linux/arm/v7" or "windows(10.0.17763.5458)/amd64", and
// returns it normalized. Each part is letters, digits, ".", "_" or "-".
// The error wraps ErrInvalid.
func ParsePlatform(s string) (ocispec.Platform, error) {
	var p ocispec.Platform
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return p, errorf(ErrInvalid, "platform %q: want os/architecture[/variant]", truncate(s))
	}
	os := parts[0]
	if i := strings.IndexByte(os, '('); i >= 0 {
		if !strings.HasSuffix(os, ")") {
			return p, errorf(ErrInvalid, "platform %q: unclosed os.version", truncate(s))
		}
		os, p.OSVersion = os[:i], os[i+1:len(os)-1]
		if !platformWord(p.OSVersion) {
			return p, errorf(ErrInvalid, "platform %q: os.version", truncate(s))
		}
	}
	p.OS, p.Architecture = os, parts[1]
	if len(parts) == 3 {
		p.Variant = parts[2]
		if !platformWord(p.Variant) {
			return p, errorf(ErrInvalid, "platform %q: variant", truncate(s))
		}
	}
	if !platformWord(p.OS) || !platformWord(p.Architecture) {
		return p, errorf(ErrInvalid, "platform %q: os and architecture", truncate(s))
	}
	return NormalizePlatform(p), nil
}

func platformWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// FormatPlatform writes p in the form ParsePlatform reads (os.features are
// not part of it).
func FormatPlatform(p ocispec.Platform) string {
	var b strings.Builder
	b.WriteString(p.OS)
	if p.OSVersion != "" {
		fmt.Fprintf(&b, "(%s)", p.OSVersion)
	}
	b.WriteString("/" + p.Architecture)
	if p.Variant != "" {
		b.WriteString("/" + p.Variant)
	}
	return b.String()
}
