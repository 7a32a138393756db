package postgres

import (
	"fmt"

	"github.com/regkit/regkit/registry/meta"
)

// DefaultTable is the table a Store keeps its keys in unless [WithTable]
// names another.
const DefaultTable = "regkit_meta"

// DefaultMaxRetries is how many times Update runs its function again after a
// serialization failure or a deadlock, unless [WithMaxRetries] says
// otherwise.
const DefaultMaxRetries = 10

// maxIdentifier is PostgreSQL's longest identifier (NAMEDATALEN - 1).
const maxIdentifier = 63

// Option configures [Open] and [New].
type Option func(*config)

type config struct {
	table      string
	maxRetries int
}

func defaultConfig() config {
	return config{table: DefaultTable, maxRetries: DefaultMaxRetries}
}

// WithTable sets the table that holds the keys (default [DefaultTable]).
// One table is one registry's metadata: every Store opened on it, in any
// process, shares the same keys. The name must be 1 to 63 characters of
// lowercase ASCII letters, digits and underscores, not starting with a
// digit; it is used quoted, in the connection's search_path. Open and New
// refuse any other name with an error wrapping meta.ErrInvalid.
func WithTable(name string) Option {
	return func(c *config) { c.table = name }
}

// WithMaxRetries sets how many times Update runs its function again when
// PostgreSQL aborts the transaction with a serialization failure (SQLSTATE
// 40001) or a deadlock (40P01), before it gives up with an error wrapping
// meta.ErrConflict (default [DefaultMaxRetries]; 0 runs the function once).
// Open and New refuse a negative n with an error wrapping meta.ErrInvalid.
func WithMaxRetries(n int) Option {
	return func(c *config) { c.maxRetries = n }
}

// validate checks c after the options ran.
func (c config) validate() error {
	if err := checkIdentifier(c.table); err != nil {
		return err
	}
	if c.maxRetries < 0 {
		return fmt.Errorf("%s: max retries %d is negative: %w", backend, c.maxRetries, meta.ErrInvalid)
	}
	return nil
}

// checkIdentifier accepts the table names WithTable documents. The rule is
// stricter than PostgreSQL's: a name that passes means the same quoted and
// unquoted, and needs no escaping.
func checkIdentifier(name string) error {
	bad := len(name) == 0 || len(name) > maxIdentifier || (name[0] >= '0' && name[0] <= '9')
	for i := 0; i < len(name) && !bad; i++ {
		c := name[i]
		bad = !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_')
	}
	if bad {
		return fmt.Errorf("%s: table name %q: want 1 to %d of a-z, 0-9 and _, not starting with a digit: %w",
			backend, name, maxIdentifier, meta.ErrInvalid)
	}
	return nil
}
