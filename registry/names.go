package registry

// MaxNameLength is the longest repository name accepted, in bytes.
const MaxNameLength = 255

// ValidateName reports whether name is a valid repository name: the OCI
// distribution-spec v1.1 grammar
//
//	[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
//
// and at most MaxNameLength bytes. The error wraps ErrNameInvalid.
func ValidateName(name string) error {
	if name == "" {
		return errorf(ErrNameInvalid, "empty repository name")
	}
	if len(name) > MaxNameLength {
		return errorf(ErrNameInvalid, "repository name of %d bytes is longer than %d", len(name), MaxNameLength)
	}
	if i := nameError(name); i >= 0 {
		return errorf(ErrNameInvalid, "repository name %q: unexpected %q at byte %d", truncate(name), name[i], i)
	}
	return nil
}

// nameError returns the index of the first byte that breaks the grammar, or
// -1 when name is valid.
func nameError(name string) int {
	i := 0
	for {
		// A path component: alnum+ (separator alnum+)*.
		if i >= len(name) || !alnum(name[i]) {
			return min(i, len(name)-1)
		}
		for i < len(name) && alnum(name[i]) {
			i++
		}
		for i < len(name) && name[i] != '/' {
			switch name[i] {
			case '.':
				i++
			case '_':
				i++
				if i < len(name) && name[i] == '_' {
					i++
				}
			case '-':
				for i < len(name) && name[i] == '-' {
					i++
				}
			default:
				return i
			}
			if i >= len(name) || !alnum(name[i]) {
				return min(i, len(name)-1)
			}
			for i < len(name) && alnum(name[i]) {
				i++
			}
		}
		if i == len(name) {
			return -1
		}
		i++ // the slash; a component must follow
	}
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func truncate(s string) string {
	if len(s) > 140 {
		return s[:140] + "..."
	}
	return s
}
