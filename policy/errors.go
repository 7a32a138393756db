package policy

import (
	"fmt"

	"github.com/regkit/regkit/internal/errdef"
)

// ErrInvalid is the class of every error Compile, ParseAgo and ParseFilter
// return: a rule that cannot be evaluated (bad regular expression, bad
// duration, out-of-range number, conflicting flags). It is the same value
// as the other regkit packages' ErrInvalid.
var ErrInvalid = errdef.ErrInvalid

// invalidf returns an error of class ErrInvalid.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("policy: "+format+": %w", append(args, ErrInvalid)...)
}
