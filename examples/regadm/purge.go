package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry"
)

// maxConcurrency is the most deletions at once --concurrency accepts, as
// registry.PurgeOptions (and acr purge) clamp it.
const maxConcurrency = 32

// filterList is the repeatable --filter flag.
type filterList []string

func (f *filterList) String() string { return strings.Join(*f, " ") }

// Set adds one filter.
func (f *filterList) Set(v string) error {
	*f = append(*f, v)
	return nil
}

// runOptions are the flags of every verb that deletes.
type runOptions struct {
	dryRun      bool
	concurrency int
	verbose     bool
}

func (o *runOptions) register(fs *flag.FlagSet) {
	fs.BoolVar(&o.dryRun, "dry-run", false, "evaluate and show what would go, delete nothing")
	fs.IntVar(&o.concurrency, "concurrency", 0, fmt.Sprintf("deletions at once, 1 to %d (default: the registry's; over -registry, requests at once, default GOMAXPROCS as acr purge's)", maxConcurrency))
	fs.BoolVar(&o.verbose, "verbose", false, "text output also lists what stays, and why")
}

func (o *runOptions) check() error {
	if o.concurrency < 0 || o.concurrency > maxConcurrency {
		return usagef("--concurrency %d: want 1 to %d", o.concurrency, maxConcurrency)
	}
	return nil
}

// runPurge is "regadm purge": acr purge's flags, checked by policy.Compile
// before the data folder is opened.
func runPurge(ctx context.Context, e *env, args []string) error {
	fs := e.flags("purge")
	var (
		filters filterList
		p       policy.Purge
		o       runOptions
	)
	fs.Var(&filters, "filter", "REPOSITORY-REGEX:TAG-REGEX selecting tags to delete; repeatable, filters combine with OR")
	fs.StringVar(&p.Ago, "ago", "", "delete only what was last updated longer ago than this: [N]d plus a Go duration (30d, 2d3h6m, 1.5h, 0d)")
	fs.IntVar(&p.Keep, "keep", 0, "spare the N most recently updated tags that would go, per repository")
	fs.BoolVar(&p.Untagged, "untagged", false, "also delete manifests left without tags (older than --ago too)")
	fs.BoolVar(&p.UntaggedOnly, "untagged-only", false, "delete only untagged manifests, no tags")
	fs.BoolVar(&p.IncludeLocked, "include-locked", false, "also delete locked tags and manifests, unlocking them first")
	o.register(fs)
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("purge: unexpected argument %q (flags only; a filter goes in --filter)", pos[0])
	}
	if err := o.check(); err != nil {
		return err
	}
	for _, f := range filters {
		if _, err := policy.ParseFilter(f); err != nil {
			return usagef("--filter %q: %w", f, err)
		}
	}
	if p.Ago != "" {
		if _, err := policy.ParseAgo(p.Ago); err != nil {
			return usagef("--ago %q: %w", p.Ago, err)
		}
	}
	p.Filters = filters
	pol := policy.Policy{Purge: &p}
	if _, err := policy.Compile(pol, policy.CompileOptions{}); err != nil {
		return usagef("purge: %w", err)
	}
	if e.registry != "" {
		return e.executeRemote(ctx, o, "purge", pol)
	}
	return e.execute(ctx, o, "purge", func(ctx context.Context, reg *registry.Registry, opts registry.PurgeOptions) (*registry.PurgeResult, error) {
		return reg.Purge(ctx, pol, opts)
	})
}

// runPolicyApply is "regadm policy apply FILE.json": a policy.Policy read
// from JSON (unknown fields rejected), checked, then run through Purge.
func runPolicyApply(ctx context.Context, e *env, args []string) error {
	fs := e.flags("policy apply")
	var o runOptions
	o.register(fs)
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("policy apply: want one policy file, got %d arguments", len(pos))
	}
	if err := o.check(); err != nil {
		return err
	}
	pol, err := readPolicy(pos[0])
	if err != nil {
		return err
	}
	if e.registry != "" {
		return e.executeRemote(ctx, o, "policy apply", pol)
	}
	return e.execute(ctx, o, "policy apply", func(ctx context.Context, reg *registry.Registry, opts registry.PurgeOptions) (*registry.PurgeResult, error) {
		return reg.Purge(ctx, pol, opts)
	})
}

// readPolicy reads and checks a policy file: one JSON object, no unknown
// fields, at least one delete rule, and it must compile.
func readPolicy(path string) (policy.Policy, error) {
	var pol policy.Policy
	b, err := os.ReadFile(path)
	if err != nil {
		return pol, usagef("read policy: %w", err)
	}
	if err := decodeStrict(b, &pol); err != nil {
		return pol, usagef("policy %s: %w", path, err)
	}
	if pol.Purge == nil && pol.UntaggedRetention == nil {
		return pol, usagef("policy %s has neither \"purge\" nor \"untaggedRetention\": it would delete nothing", path)
	}
	if _, err := policy.Compile(pol, policy.CompileOptions{}); err != nil {
		return pol, usagef("policy %s: %w", path, err)
	}
	return pol, nil
}

// decodeStrict decodes one JSON value from b into v, refusing unknown
// fields and anything after the value.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode JSON: %w", err)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("decode JSON: data after the first value")
	}
	return nil
}

// purgeFunc is one way of running a purge: Registry.Purge or
// Registry.SweepRetention.
type purgeFunc func(ctx context.Context, reg *registry.Registry, opts registry.PurgeOptions) (*registry.PurgeResult, error)

// execute opens the data folder, runs fn with a progress line on a
// terminal, and writes the result, even a partial one beside an error.
func (e *env) execute(ctx context.Context, o runOptions, what string, fn purgeFunc) error {
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		opts := registry.PurgeOptions{DryRun: o.dryRun, Concurrency: o.concurrency}
		var pr *progress
		if e.terminal {
			pr = newProgress(e.stderr, time.Now)
			opts.Progress = pr.update
		}
		res, err := fn(ctx, reg, opts)
		if pr != nil {
			pr.clear()
		}
		if res != nil {
			if werr := e.printResult(res, o.verbose); werr != nil {
				err = errors.Join(err, werr)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}

// printResult writes a result in the chosen format.
func (e *env) printResult(res *registry.PurgeResult, verbose bool) error {
	if e.output == outputJSON {
		// Empty lists as [], not null, for scripts.
		out := *res
		if out.Plans == nil {
			out.Plans = []*policy.Plan{}
		}
		if out.Deleted == nil {
			out.Deleted = []registry.PurgeItem{}
		}
		if out.Skipped == nil {
			out.Skipped = []registry.PurgeItem{}
		}
		return e.writeJSON(&out)
	}
	return writeResult(e.stdout, res, verbose)
}
