package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry"
)

// runPolicySet is "regadm policy set NAME FILE.json": store a policy that
// every sweep runs (registryd's -sweep-interval, or "regadm sweep").
func runPolicySet(ctx context.Context, e *env, args []string) error {
	fs := e.flags("policy set")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("policy set: want a name and a policy file, got %d arguments", len(pos))
	}
	pol, err := readPolicy(pos[1])
	if err != nil {
		return err
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		if err := reg.SetPolicy(ctx, pos[0], &pol); err != nil {
			if errors.Is(err, registry.ErrInvalid) {
				return usagef("policy set: %w", err)
			}
			return fmt.Errorf("policy set: %w", err)
		}
		return e.listPolicies(ctx, reg)
	})
}

// runPolicyDelete is "regadm policy delete NAME".
func runPolicyDelete(ctx context.Context, e *env, args []string) error {
	fs := e.flags("policy delete")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("policy delete: want one name, got %d arguments", len(pos))
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		ps, err := reg.Policies(ctx)
		if err != nil {
			return fmt.Errorf("policy delete: %w", err)
		}
		if _, ok := ps[pos[0]]; !ok {
			return fmt.Errorf("policy delete: no stored policy %q", pos[0])
		}
		if err := reg.SetPolicy(ctx, pos[0], nil); err != nil {
			return fmt.Errorf("policy delete: %w", err)
		}
		return e.listPolicies(ctx, reg)
	})
}

// runPolicyList is "regadm policy list".
func runPolicyList(ctx context.Context, e *env, args []string) error {
	fs := e.flags("policy list")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("policy list: unexpected argument %q", pos[0])
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error { return e.listPolicies(ctx, reg) })
}

// listPolicies writes the stored policies as a table or a JSON object.
func (e *env) listPolicies(ctx context.Context, reg *registry.Registry) error {
	ps, err := reg.Policies(ctx)
	if err != nil {
		return fmt.Errorf("policies: %w", err)
	}
	if e.output == outputJSON {
		return e.writeJSON(ps)
	}
	if len(ps) == 0 {
		_, err := fmt.Fprintln(e.stdout, "No stored policies.")
		return err
	}
	names := make([]string, 0, len(ps))
	for n := range ps {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tRULES")
	for _, n := range names {
		fmt.Fprintf(tw, "%s\t%s\n", n, describePolicy(ps[n]))
	}
	return tw.Flush()
}

// describePolicy summarizes a policy's rules in one line.
func describePolicy(p policy.Policy) string {
	s := ""
	add := func(part string) {
		if s != "" {
			s += "; "
		}
		s += part
	}
	if pu := p.Purge; pu != nil {
		part := fmt.Sprintf("purge %v", pu.Filters)
		if pu.Ago != "" {
			part += " ago " + pu.Ago
		}
		if pu.Keep > 0 {
			part += fmt.Sprintf(" keep %d", pu.Keep)
		}
		if pu.Untagged {
			part += " untagged"
		}
		if pu.UntaggedOnly {
			part += " untagged-only"
		}
		if pu.IncludeLocked {
			part += " include-locked"
		}
		add(part)
	}
	if r := p.UntaggedRetention; r != nil {
		add(fmt.Sprintf("untagged retention %d days", r.Days))
	}
	if len(p.Keep) > 0 {
		add(fmt.Sprintf("%d keep rules", len(p.Keep)))
	}
	return s
}

// runSweep is "regadm sweep": untagged retention (when enabled) and every
// stored policy, now.
func runSweep(ctx context.Context, e *env, args []string) error {
	return e.runDeletions(ctx, "sweep", args, func(ctx context.Context, reg *registry.Registry, opts registry.PurgeOptions) (*registry.PurgeResult, error) {
		results, err := reg.Sweep(ctx, opts)
		all := &registry.PurgeResult{DryRun: opts.DryRun}
		for _, r := range results {
			all.Time = r.Time
			all.Plans = append(all.Plans, r.Plans...)
			all.Deleted = append(all.Deleted, r.Deleted...)
			all.Skipped = append(all.Skipped, r.Skipped...)
			all.Untagged += r.Untagged
		}
		return all, err
	})
}

// runRuns is "regadm runs [--n N]": the records of past purges and sweeps,
// newest first.
func runRuns(ctx context.Context, e *env, args []string) error {
	fs := e.flags("runs")
	n := fs.Int("n", 20, "show at most `N` runs (0: every run kept)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("runs: unexpected argument %q", pos[0])
	}
	if *n < 0 {
		return usagef("runs: -n %d: want 0 or more", *n)
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		runs, err := reg.Runs(ctx, *n)
		if err != nil {
			return fmt.Errorf("runs: %w", err)
		}
		if e.output == outputJSON {
			if runs == nil {
				runs = []registry.RunRecord{}
			}
			return e.writeJSON(runs)
		}
		if len(runs) == 0 {
			_, err := fmt.Fprintln(e.stdout, "No runs recorded.")
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "STARTED\tKIND\tDRY RUN\tREPOSITORIES\tDELETED\tSKIPPED\tTOOK\tERROR")
		for _, r := range runs {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%d\t%d\t%s\t%s\n", r.Started.Format(time.RFC3339), r.Kind, r.DryRun,
				r.Repositories, r.Deleted, r.Skipped, r.Finished.Sub(r.Started).Round(time.Millisecond), r.Error)
		}
		return tw.Flush()
	})
}
