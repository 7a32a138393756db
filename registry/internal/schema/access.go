package schema

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/meta"
)

// The generic record helpers every table's accessors are built on.

// get reads the record under k: binary when *T is a binaryRecord, else
// JSON. It returns found == false, and no error, when the key is missing.
func get[T any](tx meta.Tx, k []byte) (rec T, found bool, err error) {
	b, err := tx.Get(k)
	if err != nil {
		if errors.Is(err, meta.ErrNotFound) {
			return rec, false, nil
		}
		return rec, false, err
	}
	return rec, true, decode(k, b, &rec)
}

// put stores v under k: binary for a binaryRecord, else JSON.
func put(tx meta.Tx, k []byte, v any) error {
	if br, ok := v.(binaryRecord); ok {
		return tx.Put(k, encodeRecord(br))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("registry: encode record %q: %w: %w", k, err, errdef.ErrInvalid)
	}
	return tx.Put(k, b)
}

// has reports whether k is present.
func has(tx meta.Tx, k []byte) (bool, error) {
	_, err := tx.Get(k)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, meta.ErrNotFound) {
		return false, nil
	}
	return false, err
}

// decode fills into from v, read under k: binary for a binaryRecord, else
// JSON. A record that does not decode is an error wrapping the cause and
// ErrUnavailable: the store holds something this code cannot read.
func decode(k, v []byte, into any) error {
	var err error
	if br, ok := into.(binaryRecord); ok {
		err = decodeRecord(v, br)
	} else {
		err = json.Unmarshal(v, into)
	}
	if err != nil {
		return fmt.Errorf("registry: corrupt metadata record %q: %w: %w", k, err, errdef.ErrUnavailable)
	}
	return nil
}

// scan decodes every record in r and calls fn with its key, until fn
// returns false. A record that does not decode stops the scan with its
// error.
func scan[T any](tx meta.Tx, r meta.Range, fn func(k []byte, rec *T) bool) error {
	var derr error
	err := tx.Scan(r, func(k, v []byte) bool {
		var rec T
		if derr = decode(k, v, &rec); derr != nil {
			return false
		}
		return fn(k, &rec)
	})
	if derr != nil {
		return derr
	}
	return err
}

// scanKeys calls fn with the last part of every key in r, until fn returns
// false.
func scanKeys(tx meta.Tx, r meta.Range, fn func(last string) bool) error {
	return tx.Scan(r, func(k, _ []byte) bool { return fn(lastPart(k)) })
}

// listKeys returns the last part of every key in r.
func listKeys(tx meta.Tx, r meta.Range) ([]string, error) {
	var out []string
	err := scanKeys(tx, r, func(last string) bool {
		out = append(out, last)
		return true
	})
	return out, err
}
