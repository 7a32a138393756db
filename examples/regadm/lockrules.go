package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry"
)

// runLockRulesShow is "regadm lock-rules show".
func runLockRulesShow(ctx context.Context, e *env, args []string) error {
	fs := e.flags("lock-rules show")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("lock-rules show: unexpected argument %q", pos[0])
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		rules, err := reg.LockRules(ctx)
		if err != nil {
			return fmt.Errorf("lock-rules show: %w", err)
		}
		return e.printLockRules(rules)
	})
}

// runLockRulesSet is "regadm lock-rules set FILE.json": the file's JSON
// array of registry.LockRule replaces the rules ([] removes them all).
func runLockRulesSet(ctx context.Context, e *env, args []string) error {
	fs := e.flags("lock-rules set")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("lock-rules set: want one rules file, got %d arguments", len(pos))
	}
	rules, err := readLockRules(pos[0])
	if err != nil {
		return err
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		if err := reg.SetLockRules(ctx, rules); err != nil {
			if errors.Is(err, registry.ErrInvalid) {
				return usagef("lock-rules set: %w", err)
			}
			return fmt.Errorf("lock-rules set: %w", err)
		}
		now, err := reg.LockRules(ctx)
		if err != nil {
			return fmt.Errorf("lock-rules set: read them back: %w", err)
		}
		return e.printLockRules(now)
	})
}

// readLockRules reads a rules file: a JSON array of registry.LockRule with
// no unknown fields, whose patterns compile (policy.CompileLockRules, as
// SetLockRules checks them).
func readLockRules(path string) ([]registry.LockRule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("read lock rules: %w", err)
	}
	var rules []registry.LockRule
	if err := decodeStrict(b, &rules); err != nil {
		return nil, usagef("lock rules %s: %w", path, err)
	}
	if rules == nil {
		return nil, usagef("lock rules %s: want a JSON array ([] removes every rule)", path)
	}
	if _, err := policy.CompileLockRules(rules, 0); err != nil {
		return nil, usagef("lock rules %s: %w", path, err)
	}
	return rules, nil
}

// printLockRules writes the rules as a table or JSON.
func (e *env) printLockRules(rules []registry.LockRule) error {
	if e.output == outputJSON {
		if rules == nil {
			rules = []registry.LockRule{}
		}
		return e.writeJSON(rules)
	}
	if len(rules) == 0 {
		if _, err := fmt.Fprintln(e.stdout, "No lock rules."); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tREPOSITORIES\tTAGS\tLOCKS")
	for i, r := range rules {
		locks := "writeEnabled=false"
		if r.LockDelete {
			locks += " deleteEnabled=false"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", i, orAll(r.Repositories), orAll(r.Tags), locks)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// orAll shows an empty pattern as what it means.
func orAll(pattern string) string {
	if pattern == "" {
		return "(all)"
	}
	return pattern
}
