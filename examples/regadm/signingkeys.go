package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/token"
)

// The signing-key verbs work on DIR/keys, the token service's key folder
// (registryd -data DIR keeps its keys there), and never open the metadata
// file: they run while a server holds the folder, which is the point of a
// rotation without downtime. A running server signs with the new key within
// a minute and keeps verifying tokens of older keys until they expire.

// keyService opens the key folder of the data folder.
func (e *env) keyService(lifetime time.Duration) (*token.Service, error) {
	dir := filepath.Join(e.data, "keys")
	if fi, err := os.Stat(e.data); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("data folder %s: not a folder", e.data)
	}
	opts := []token.Option{token.WithKeyDir(dir)}
	if lifetime > 0 {
		opts = append(opts, token.WithLifetime(lifetime))
	}
	return token.New(opts...)
}

func runSigningKeyList(ctx context.Context, e *env, args []string) error {
	fs := e.flags("signing-key list")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("signing-key list: unexpected argument %q", pos[0])
	}
	svc, err := e.keyService(0)
	if err != nil {
		return err
	}
	return e.printKeys(svc.Keys())
}

func runSigningKeyRotate(ctx context.Context, e *env, args []string) error {
	fs := e.flags("signing-key rotate")
	lifetime := fs.Duration("token-lifetime", 0, "the server's -token-lifetime, if set: retired keys are kept that long after retiring (and at least the refresh-token lifetime)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("signing-key rotate: unexpected argument %q", pos[0])
	}
	if *lifetime < 0 {
		return usagef("signing-key rotate: --token-lifetime must not be negative")
	}
	svc, err := e.keyService(*lifetime)
	if err != nil {
		return err
	}
	if _, err := svc.Rotate(); err != nil {
		return fmt.Errorf("signing-key rotate: %w", err)
	}
	return e.printKeys(svc.Keys())
}

func runSigningKeyRemove(ctx context.Context, e *env, args []string) error {
	fs := e.flags("signing-key remove")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("signing-key remove: want one key id (see signing-key list)")
	}
	svc, err := e.keyService(0)
	if err != nil {
		return err
	}
	if err := svc.RemoveKey(pos[0]); err != nil {
		if errors.Is(err, errdef.ErrNotFound) || errors.Is(err, errdef.ErrPrecondition) {
			return usagef("signing-key remove: %w", err)
		}
		return fmt.Errorf("signing-key remove: %w", err)
	}
	return e.printf("Removed key %s: the tokens it signed no longer verify.\n", pos[0])
}

func (e *env) printKeys(keys []token.KeyInfo) error {
	if e.output == outputJSON {
		if keys == nil {
			keys = []token.KeyInfo{}
		}
		return e.writeJSON(keys)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tALGORITHM\tCREATED\tSTATE")
	for _, k := range keys {
		state := "signs"
		if !k.Signing {
			state = "verifies, retired " + fmtTime(k.Retired)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, fmtTime(k.Created), state)
	}
	return flushOutput(tw)
}
