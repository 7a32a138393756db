package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/access"
)

// withAccess opens the data folder and its access model, runs fn and closes
// the registry.
func (e *env) withAccess(ctx context.Context, fn func(svc *access.Service) error) error {
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		svc, err := access.New(ctx, reg)
		if err != nil {
			return fmt.Errorf("access model: %w", err)
		}
		return fn(svc)
	})
}

// accessError turns a refusal of bad input into a usage error (exit 2:
// nothing was done) and wraps the rest with the verb.
func accessError(verb string, err error) error {
	if errors.Is(err, registry.ErrInvalid) {
		return usagef("%s: %w", verb, err)
	}
	return fmt.Errorf("%s: %w", verb, err)
}

// takeRules removes every rule flag (--NAME REPO ACTION[,ACTION], also
// -NAME and --NAME=REPO ACTIONS) from args, for each name in names, and
// returns the rules by flag name and the other arguments. A rule flag takes
// two values, which Go's flag package cannot, so they are taken out before
// the flags are parsed. Nothing after "--" is looked at.
func takeRules(args []string, names ...string) (map[string][]access.Rule, []string, error) {
	rules := map[string][]access.Rule{}
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, repo, hasRepo := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || !contains(names, name) {
			rest = append(rest, a)
			continue
		}
		need := 2
		if hasRepo {
			need = 1
		}
		if i+need >= len(args) {
			return nil, nil, usagef("--%s takes a repository and a comma-separated list of actions (--%s samples/* content/read,metadata/read)", name, name)
		}
		if !hasRepo {
			repo = args[i+1]
		}
		acts := args[i+need]
		r, err := access.ParseRule(repo, acts)
		if err != nil {
			return nil, nil, usagef("--%s %s %s: %w", name, repo, acts, err)
		}
		rules[name] = append(rules[name], r)
		i += need
	}
	return rules, rest, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ruleFlag documents a rule flag in -h (takeRules has removed it by then).
func ruleFlag(fs *flag.FlagSet, name, usage string) {
	fs.Func(name, usage, func(string) error { return nil })
}

// oneName checks that a verb got exactly one positional argument, a name.
func oneName(verb string, pos []string) (string, error) {
	if len(pos) != 1 {
		return "", usagef("%s: want one name, got %d arguments", verb, len(pos))
	}
	return pos[0], nil
}

// runScopeMapCreate is "regadm scope-map create NAME --repository REPO ACTIONS...".
func runScopeMapCreate(ctx context.Context, e *env, args []string) error {
	rules, args, err := takeRules(args, "repository")
	if err != nil {
		return err
	}
	fs := e.flags("scope-map create")
	ruleFlag(fs, "repository", "REPO ACTION[,ACTION]: grant the actions on REPO (a name, PREFIX/* or *); repeatable")
	desc := fs.String("description", "", "description of the scope map")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("scope-map create", pos)
	if err != nil {
		return err
	}
	if len(rules["repository"]) == 0 {
		return usagef("scope-map create: give at least one --repository REPO ACTION[,ACTION]")
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		m, err := svc.CreateScopeMap(ctx, access.ScopeMap{Name: name, Description: *desc, Rules: rules["repository"]})
		if err != nil {
			return accessError("scope-map create", err)
		}
		return e.printScopeMap(m)
	})
}

// runScopeMapUpdate is "regadm scope-map update NAME [--add-repository REPO
// ACTIONS]... [--remove-repository REPO ACTIONS]... [--description D]".
func runScopeMapUpdate(ctx context.Context, e *env, args []string) error {
	rules, args, err := takeRules(args, "add-repository", "remove-repository")
	if err != nil {
		return err
	}
	fs := e.flags("scope-map update")
	ruleFlag(fs, "add-repository", "REPO ACTION[,ACTION]: grant more actions on REPO; repeatable")
	ruleFlag(fs, "remove-repository", "REPO ACTION[,ACTION]: take the actions on REPO away; repeatable")
	desc := fs.String("description", "", "new description")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("scope-map update", pos)
	if err != nil {
		return err
	}
	u := access.ScopeMapUpdate{Add: rules["add-repository"], Remove: rules["remove-repository"]}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "description" {
			u.Description = desc
		}
	})
	if u.Description == nil && len(u.Add) == 0 && len(u.Remove) == 0 {
		return usagef("scope-map update: give --add-repository, --remove-repository or --description")
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		m, err := svc.UpdateScopeMap(ctx, name, u)
		if err != nil {
			return accessError("scope-map update", err)
		}
		return e.printScopeMap(m)
	})
}

// runScopeMapShow is "regadm scope-map show NAME".
func runScopeMapShow(ctx context.Context, e *env, args []string) error {
	fs := e.flags("scope-map show")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("scope-map show", pos)
	if err != nil {
		return err
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		m, err := svc.ScopeMap(ctx, name)
		if err != nil {
			return accessError("scope-map show", err)
		}
		return e.printScopeMap(m)
	})
}

// runScopeMapList is "regadm scope-map list".
func runScopeMapList(ctx context.Context, e *env, args []string) error {
	fs := e.flags("scope-map list")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("scope-map list: unexpected argument %q", pos[0])
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		maps, err := svc.ScopeMaps(ctx)
		if err != nil {
			return accessError("scope-map list", err)
		}
		if e.output == outputJSON {
			return e.writeJSON(maps)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tTYPE\tCREATED\tRULES\tDESCRIPTION")
		for _, m := range maps {
			typ, created := "UserDefined", fmtTime(m.Created)
			if m.System {
				typ, created = "SystemDefined", "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", m.Name, typ, created, len(m.Rules), m.Description)
		}
		return flushOutput(tw)
	})
}

// runScopeMapDelete is "regadm scope-map delete NAME".
func runScopeMapDelete(ctx context.Context, e *env, args []string) error {
	fs := e.flags("scope-map delete")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("scope-map delete", pos)
	if err != nil {
		return err
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		if err := svc.DeleteScopeMap(ctx, name); err != nil {
			return accessError("scope-map delete", err)
		}
		return e.printf("Deleted scope map %s.\n", name)
	})
}

// printScopeMap writes one scope map with its rules.
func (e *env) printScopeMap(m *access.ScopeMap) error {
	if e.output == outputJSON {
		return e.writeJSON(m)
	}
	typ := "user-defined, created " + fmtTime(m.Created)
	if m.System {
		typ = "system-defined, read-only"
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Scope map %s (%s)", m.Name, typ)
	if m.Description != "" {
		fmt.Fprintf(tw, ": %s", m.Description)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "REPOSITORY\tACTIONS")
	for _, r := range m.Rules {
		as := make([]string, len(r.Actions))
		for i, a := range r.Actions {
			as[i] = string(a)
		}
		fmt.Fprintf(tw, "%s\t%s\n", r.Repository, strings.Join(as, ","))
	}
	return flushOutput(tw)
}

func flushOutput(tw *tabwriter.Writer) error {
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// printf writes a line of text output.
func (e *env) printf(format string, args ...any) error {
	if _, err := fmt.Fprintf(e.stdout, format, args...); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
