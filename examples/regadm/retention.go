package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry"
)

// runRetentionShow is "regadm retention show".
func runRetentionShow(ctx context.Context, e *env, args []string) error {
	fs := e.flags("retention show")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("retention show: unexpected argument %q", pos[0])
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		rp, err := reg.Retention(ctx)
		if err != nil {
			return fmt.Errorf("retention show: %w", err)
		}
		return e.printRetention(rp)
	})
}

// runRetentionSet is "regadm retention set": each flag given replaces its
// part of the setting; a flag left out keeps the current value.
func runRetentionSet(ctx context.Context, e *env, args []string) error {
	fs := e.flags("retention set")
	var (
		enabled bool
		days    int
	)
	fs.BoolVar(&enabled, "enabled", false, "turn the policy on (--enabled=true) or off (--enabled=false)")
	fs.IntVar(&days, "days", 0, fmt.Sprintf("days a manifest stays untagged before it goes, 0 to %d", policy.MaxRetentionDays))
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("retention set: unexpected argument %q (write --enabled=false, with the =)", pos[0])
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["enabled"] && !set["days"] {
		return usagef("retention set: give --enabled=true|false, --days N, or both")
	}
	if set["days"] && (days < 0 || days > policy.MaxRetentionDays) {
		return usagef("--days %d: want 0 to %d", days, policy.MaxRetentionDays)
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		if !set["enabled"] || !set["days"] {
			cur, err := reg.Retention(ctx)
			if err != nil {
				return fmt.Errorf("retention set: read the current setting: %w", err)
			}
			if !set["enabled"] {
				enabled = cur.Enabled
			}
			if !set["days"] {
				days = cur.Days
			}
		}
		rp, err := reg.SetRetention(ctx, enabled, days)
		if err != nil {
			if errors.Is(err, registry.ErrInvalid) {
				return usagef("retention set: %w", err)
			}
			return fmt.Errorf("retention set: %w", err)
		}
		return e.printRetention(rp)
	})
}

// runRetentionSweep is "regadm retention sweep": the retention setting's
// deletions, now, with the same result output as purge.
func runRetentionSweep(ctx context.Context, e *env, args []string) error {
	return e.runDeletions(ctx, "retention sweep", args, func(ctx context.Context, reg *registry.Registry, opts registry.PurgeOptions) (*registry.PurgeResult, error) {
		return reg.SweepRetention(ctx, opts)
	})
}

// runDeletions is a verb that takes the run flags (--dry-run,
// --concurrency, --verbose) and no arguments, and runs fn as purge runs.
func (e *env) runDeletions(ctx context.Context, name string, args []string, fn purgeFunc) error {
	fs := e.flags(name)
	var o runOptions
	o.register(fs)
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("%s: unexpected argument %q", name, pos[0])
	}
	if err := o.check(); err != nil {
		return err
	}
	return e.execute(ctx, o, name, fn)
}

// printRetention writes the retention setting.
func (e *env) printRetention(rp registry.RetentionPolicy) error {
	if e.output == outputJSON {
		return e.writeJSON(rp)
	}
	s := fmt.Sprintf("Untagged retention: disabled (days: %d).", rp.Days)
	if rp.Enabled {
		since := ""
		if !rp.EnabledAt.IsZero() {
			since = " since " + fmtTime(rp.EnabledAt)
		}
		s = fmt.Sprintf("Untagged retention: enabled, %s: manifests untagged%s go once untagged that long.", plural(rp.Days, "day"), since)
	}
	if _, err := fmt.Fprintln(e.stdout, s); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
