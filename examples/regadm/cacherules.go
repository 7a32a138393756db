package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/regkit/regkit/registry"
)

// runCacheRuleCreate is "regadm cache-rule create NAME --source-repo
// HOST/REPO --target-repo REPO [--username U] [--cred-set NAME]
// [--plain-http]": create or replace an artifact cache rule. The password
// comes from $REGKIT_PASSWORD or --password.
func runCacheRuleCreate(ctx context.Context, e *env, args []string) error {
	fs := e.flags("cache-rule create")
	var rule registry.CacheRule
	fs.StringVar(&rule.SourceRepository, "source-repo", "", "upstream repository, host[:port]/path, ending in /* with a wildcard target")
	fs.StringVar(&rule.TargetRepository, "target-repo", "", "local repository, or PREFIX/* for every repository under PREFIX/")
	fs.StringVar(&rule.Username, "username", "", "user name for the upstream (stored in the data folder as given)")
	fs.StringVar(&rule.Password, "password", "", "password or token for the upstream (env REGKIT_PASSWORD; stored as given)")
	fs.StringVar(&rule.CredentialSet, "cred-set", "", "credential set the server resolves (instead of --username)")
	fs.BoolVar(&rule.PlainHTTP, "plain-http", false, "talk HTTP, not HTTPS, to the upstream")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if rule.Name, err = oneName("cache-rule create", pos); err != nil {
		return err
	}
	if rule.SourceRepository == "" || rule.TargetRepository == "" {
		return usagef("cache-rule create: --source-repo and --target-repo are required")
	}
	if rule.Password == "" && rule.Username != "" {
		rule.Password = os.Getenv("REGKIT_PASSWORD")
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		stored, err := reg.SetCacheRule(ctx, rule)
		if errors.Is(err, registry.ErrInvalid) {
			return usagef("cache-rule create: %w", err)
		}
		if err != nil {
			return fmt.Errorf("cache-rule create: %w", err)
		}
		return e.printCacheRules([]registry.CacheRule{stored})
	})
}

// runCacheRuleList is "regadm cache-rule list".
func runCacheRuleList(ctx context.Context, e *env, args []string) error {
	fs := e.flags("cache-rule list")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("cache-rule list: unexpected argument %q", pos[0])
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		rules, err := reg.CacheRules(ctx)
		if err != nil {
			return fmt.Errorf("cache-rule list: %w", err)
		}
		return e.printCacheRules(rules)
	})
}

// runCacheRuleDelete is "regadm cache-rule delete NAME". What the rule
// cached stays.
func runCacheRuleDelete(ctx context.Context, e *env, args []string) error {
	fs := e.flags("cache-rule delete")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("cache-rule delete", pos)
	if err != nil {
		return err
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		if err := reg.DeleteCacheRule(ctx, name); err != nil {
			return fmt.Errorf("cache-rule delete: %w", err)
		}
		rules, err := reg.CacheRules(ctx)
		if err != nil {
			return fmt.Errorf("cache-rule delete: %w", err)
		}
		return e.printCacheRules(rules)
	})
}

// cacheRuleOutput is a rule as regadm prints it: the password never.
type cacheRuleOutput struct {
	registry.CacheRule
	Password    string `json:"password,omitempty"`
	HasPassword bool   `json:"hasPassword,omitempty"`
}

// printCacheRules writes the rules as a table or JSON, without passwords.
func (e *env) printCacheRules(rules []registry.CacheRule) error {
	if e.output == outputJSON {
		out := make([]cacheRuleOutput, 0, len(rules))
		for _, r := range rules {
			out = append(out, cacheRuleOutput{CacheRule: r, HasPassword: r.Password != ""})
		}
		return e.writeJSON(out)
	}
	if len(rules) == 0 {
		return e.printf("No cache rules.\n")
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTARGET\tSOURCE\tCREDENTIALS\tUPDATED")
	for _, r := range rules {
		creds := "(none)"
		switch {
		case r.CredentialSet != "":
			creds = "set " + r.CredentialSet
		case r.Username != "":
			creds = "user " + r.Username
		}
		src := r.SourceRepository
		if r.PlainHTTP {
			src += " (http)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.TargetRepository, src, creds, r.UpdatedAt.Format("2006-01-02 15:04:05"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
