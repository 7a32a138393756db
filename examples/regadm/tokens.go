package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry/access"
)

// adminPasswordEnv names the variable admin set reads the password from.
const adminPasswordEnv = "REGKIT_ADMIN_PASSWORD"

// generated is a password shown once, as create and password generate
// print it.
type generated struct {
	Slot     access.Slot `json:"name"`
	Value    string      `json:"value"`
	Expiry   time.Time   `json:"expiry,omitzero"`
	Username string      `json:"username"`
}

// tokenOutput is what token create and password generate print in JSON:
// the token and the passwords generated, which cannot be read again.
type tokenOutput struct {
	*access.Token
	Generated []generated `json:"generatedPasswords,omitempty"`
}

// parseExpiration reads --expiration: an RFC 3339 time, or an age from now
// in --ago's syntax (30d, 12h, 1d12h). Empty: never.
func parseExpiration(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	d, err := policy.ParseAgo(s)
	if err != nil || d <= 0 {
		return time.Time{}, usagef("--expiration %q: want an RFC 3339 time or a positive duration such as 30d or 12h", s)
	}
	return now.Add(d).UTC(), nil
}

// runTokenCreate is "regadm token create NAME --scope-map MAP".
func runTokenCreate(ctx context.Context, e *env, args []string) error {
	fs := e.flags("token create")
	scopeMap := fs.String("scope-map", "", "scope map the token takes its rights from (required)")
	status := fs.String("status", "enabled", "enabled or disabled")
	noPasswords := fs.Bool("no-passwords", false, "generate no password (generate them later with token password generate)")
	expiration := fs.String("expiration", "", "expiry of the generated passwords: RFC 3339 time or a duration (30d); default never")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("token create", pos)
	if err != nil {
		return err
	}
	if *scopeMap == "" {
		return usagef("token create: --scope-map is required")
	}
	st, err := access.ParseStatus(*status)
	if err != nil {
		return usagef("--status: %w", err)
	}
	expiry, err := parseExpiration(*expiration, time.Now())
	if err != nil {
		return err
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		tk, err := svc.CreateToken(ctx, name, *scopeMap, st)
		if err != nil {
			return accessError("token create", err)
		}
		out := tokenOutput{Token: tk}
		if !*noPasswords {
			if out, err = generate(ctx, svc, name, access.Slots(), expiry); err != nil {
				return fmt.Errorf("token create: token %s created, generating its passwords failed: %w", name, err)
			}
		}
		return e.printToken(out)
	})
}

// generate generates passwords in slots and returns the token after.
func generate(ctx context.Context, svc *access.Service, name string, slots []access.Slot, expiry time.Time) (tokenOutput, error) {
	var out tokenOutput
	for _, sl := range slots {
		pw, err := svc.GeneratePassword(ctx, name, sl, expiry)
		if err != nil {
			return out, err
		}
		out.Generated = append(out.Generated, generated{Slot: sl, Value: pw, Expiry: expiry, Username: name})
	}
	tk, err := svc.Token(ctx, name)
	out.Token = tk
	return out, err
}

// runTokenShow is "regadm token show NAME".
func runTokenShow(ctx context.Context, e *env, args []string) error {
	fs := e.flags("token show")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("token show", pos)
	if err != nil {
		return err
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		tk, err := svc.Token(ctx, name)
		if err != nil {
			return accessError("token show", err)
		}
		return e.printToken(tokenOutput{Token: tk})
	})
}

// runTokenList is "regadm token list".
func runTokenList(ctx context.Context, e *env, args []string) error {
	fs := e.flags("token list")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("token list: unexpected argument %q", pos[0])
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		list, err := svc.Tokens(ctx)
		if err != nil {
			return accessError("token list", err)
		}
		if e.output == outputJSON {
			return e.writeJSON(list)
		}
		if len(list) == 0 {
			return e.printf("No tokens.\n")
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSCOPE MAP\tSTATUS\tCREATED\tPASSWORDS")
		for _, tk := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", tk.Name, tk.ScopeMap, tk.Status, fmtTime(tk.Created), len(tk.Passwords))
		}
		return flushOutput(tw)
	})
}

// runTokenUpdate is "regadm token update NAME [--scope-map MAP] [--status S]".
func runTokenUpdate(ctx context.Context, e *env, args []string) error {
	fs := e.flags("token update")
	scopeMap := fs.String("scope-map", "", "move the token to this scope map")
	status := fs.String("status", "", "enabled or disabled")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("token update", pos)
	if err != nil {
		return err
	}
	var u access.TokenUpdate
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "scope-map":
			u.ScopeMap = scopeMap
		case "status":
			st := access.Status(*status)
			u.Status = &st
		}
	})
	if u.ScopeMap == nil && u.Status == nil {
		return usagef("token update: give --scope-map, --status or both")
	}
	if u.Status != nil {
		if _, err := access.ParseStatus(*status); err != nil {
			return usagef("--status: %w", err)
		}
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		tk, err := svc.UpdateToken(ctx, name, u)
		if err != nil {
			return accessError("token update", err)
		}
		return e.printToken(tokenOutput{Token: tk})
	})
}

// runTokenDelete is "regadm token delete NAME".
func runTokenDelete(ctx context.Context, e *env, args []string) error {
	fs := e.flags("token delete")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("token delete", pos)
	if err != nil {
		return err
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		if err := svc.DeleteToken(ctx, name); err != nil {
			return accessError("token delete", err)
		}
		return e.printf("Deleted token %s.\n", name)
	})
}

// slotFlags registers --password1 and --password2 and returns the slots
// chosen.
func slotFlags(fs *flag.FlagSet) func() []access.Slot {
	p1 := fs.Bool("password1", false, "password1")
	p2 := fs.Bool("password2", false, "password2")
	return func() []access.Slot {
		var out []access.Slot
		if *p1 {
			out = append(out, access.Password1)
		}
		if *p2 {
			out = append(out, access.Password2)
		}
		return out
	}
}

// runTokenPasswordGenerate is "regadm token password generate NAME
// [--password1] [--password2] [--expiration WHEN]" (neither: both).
func runTokenPasswordGenerate(ctx context.Context, e *env, args []string) error {
	fs := e.flags("token password generate")
	slots := slotFlags(fs)
	expiration := fs.String("expiration", "", "expiry: RFC 3339 time or a duration (30d); default never")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("token password generate", pos)
	if err != nil {
		return err
	}
	expiry, err := parseExpiration(*expiration, time.Now())
	if err != nil {
		return err
	}
	which := slots()
	if len(which) == 0 {
		which = access.Slots()
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		out, err := generate(ctx, svc, name, which, expiry)
		if err != nil {
			return accessError("token password generate", err)
		}
		return e.printToken(out)
	})
}

// runTokenPasswordDelete is "regadm token password delete NAME
// --password1|--password2".
func runTokenPasswordDelete(ctx context.Context, e *env, args []string) error {
	fs := e.flags("token password delete")
	slots := slotFlags(fs)
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("token password delete", pos)
	if err != nil {
		return err
	}
	which := slots()
	if len(which) == 0 {
		return usagef("token password delete: give --password1, --password2 or both")
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		for _, sl := range which {
			if err := svc.DeletePassword(ctx, name, sl); err != nil {
				return accessError("token password delete", err)
			}
		}
		tk, err := svc.Token(ctx, name)
		if err != nil {
			return accessError("token password delete", err)
		}
		return e.printToken(tokenOutput{Token: tk})
	})
}

// printToken writes a token, and the passwords just generated, which are
// shown this once.
func (e *env) printToken(out tokenOutput) error {
	if e.output == outputJSON {
		return e.writeJSON(out)
	}
	tk := out.Token
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Token %s: scope map %s, %s, created %s.\n", tk.Name, tk.ScopeMap, tk.Status, fmtTime(tk.Created))
	if len(tk.Passwords) == 0 {
		fmt.Fprintln(tw, "No passwords.")
	} else {
		fmt.Fprintln(tw, "PASSWORD\tCREATED\tEXPIRES")
		for _, p := range tk.Passwords {
			exp := "never"
			if !p.Expiry.IsZero() {
				exp = fmtTime(p.Expiry)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Slot, fmtTime(p.Created), exp)
		}
	}
	if len(out.Generated) > 0 {
		fmt.Fprintln(tw, "\nGenerated passwords (shown this once; log in with the token name as user name):")
		for _, g := range out.Generated {
			fmt.Fprintf(tw, "%s\t%s\n", g.Slot, g.Value)
		}
	}
	return flushOutput(tw)
}

// runAnonymousPullShow is "regadm anonymous-pull show".
func runAnonymousPullShow(ctx context.Context, e *env, args []string) error {
	fs := e.flags("anonymous-pull show")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("anonymous-pull show: unexpected argument %q", pos[0])
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		on, err := svc.AnonymousPull(ctx)
		if err != nil {
			return accessError("anonymous-pull show", err)
		}
		return e.printAnonymous(on)
	})
}

// runAnonymousPullSet is "regadm anonymous-pull set --enabled=true|false".
func runAnonymousPullSet(ctx context.Context, e *env, args []string) error {
	fs := e.flags("anonymous-pull set")
	enabled := fs.Bool("enabled", false, "allow (--enabled=true) or refuse (--enabled=false) pulls without credentials")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("anonymous-pull set: unexpected argument %q (write --enabled=false, with the =)", pos[0])
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "enabled" })
	if !set {
		return usagef("anonymous-pull set: give --enabled=true or --enabled=false")
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		if err := svc.SetAnonymousPull(ctx, *enabled); err != nil {
			return accessError("anonymous-pull set", err)
		}
		return e.printAnonymous(*enabled)
	})
}

func (e *env) printAnonymous(on bool) error {
	if e.output == outputJSON {
		return e.writeJSON(map[string]bool{"anonymousPullEnabled": on})
	}
	if on {
		return e.printf("Anonymous pull: enabled (anyone may pull any repository without credentials).\n")
	}
	return e.printf("Anonymous pull: disabled.\n")
}

// runAdminShow is "regadm admin show".
func runAdminShow(ctx context.Context, e *env, args []string) error {
	fs := e.flags("admin show")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("admin show: unexpected argument %q", pos[0])
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		a, err := svc.Admin(ctx)
		if err != nil {
			return accessError("admin show", err)
		}
		return e.printAdmin(a, "")
	})
}

// runAdminSet is "regadm admin set --username NAME": the password comes
// from $REGKIT_ADMIN_PASSWORD, or is generated and printed once.
func runAdminSet(ctx context.Context, e *env, args []string) error {
	fs := e.flags("admin set")
	username := fs.String("username", "", "user name of the admin user (5 to 50 letters, digits, '-' and '_'; required)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("admin set: unexpected argument %q", pos[0])
	}
	if err := access.ValidateName(*username); err != nil {
		return usagef("admin set: --username: %w", err)
	}
	pw, shown := os.Getenv(adminPasswordEnv), ""
	if pw == "" {
		if pw, err = access.NewPassword(); err != nil {
			return fmt.Errorf("admin set: %w", err)
		}
		shown = pw
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		if err := svc.SetAdmin(ctx, *username, pw); err != nil {
			return accessError("admin set", err)
		}
		a, err := svc.Admin(ctx)
		if err != nil {
			return accessError("admin set", err)
		}
		return e.printAdmin(a, shown)
	})
}

// runAdminDisable is "regadm admin disable".
func runAdminDisable(ctx context.Context, e *env, args []string) error {
	fs := e.flags("admin disable")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("admin disable: unexpected argument %q", pos[0])
	}
	return e.withAccess(ctx, func(svc *access.Service) error {
		if err := svc.DisableAdmin(ctx); err != nil {
			return accessError("admin disable", err)
		}
		return e.printAdmin(access.Admin{}, "")
	})
}

// printAdmin writes the admin user and, when generated, its password.
func (e *env) printAdmin(a access.Admin, password string) error {
	if e.output == outputJSON {
		out := struct {
			access.Admin
			Password string `json:"password,omitempty"`
		}{a, password}
		return e.writeJSON(out)
	}
	if !a.Enabled {
		return e.printf("Admin user: disabled.\n")
	}
	if err := e.printf("Admin user: %s (set %s).\n", a.Username, fmtTime(a.Updated)); err != nil {
		return err
	}
	if password != "" {
		return e.printf("Generated password (shown this once): %s\n", password)
	}
	return nil
}
