package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/regkit/regkit/registry"
)

// Exit statuses.
const (
	exitOK     = 0 // success
	exitFailed = 1 // the command ran and failed (possibly part done)
	exitUsage  = 2 // bad usage: nothing was done
)

// Output formats.
const (
	outputText = "text"
	outputJSON = "json"
)

// usageError marks an error of usage (flags, arguments, input files): the
// command did nothing and regadm exits with status 2.
type usageError struct {
	err error
	// reported: the flag package already printed the message and usage.
	reported bool
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message; %w works.
func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// isUsage reports whether err is an error of usage.
func isUsage(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}

// env is what one run works with: its output streams and the global flags.
// Nothing outlives the run.
type env struct {
	stdout, stderr io.Writer
	// data is the data folder (-data).
	data string
	// output is outputText or outputJSON (-output).
	output string
	// terminal reports whether stderr is a terminal (progress lines).
	terminal bool
}

// command is one verb (or verb and sub-verb: "retention show").
type command struct {
	name    string
	args    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands returns the verbs, in the order usage lists them.
func commands() []command {
	return []command{
		{"purge", "--filter REPO:TAG... --ago AGE [flags]", "delete tags and untagged manifests as acr purge does", runPurge},
		{"policy apply", "FILE.json [--dry-run] [--concurrency N]", "run a policy.Policy read from JSON", runPolicyApply},
		{"policy set", "NAME FILE.json", "store a policy that every sweep runs", runPolicySet},
		{"policy list", "", "list the stored policies", runPolicyList},
		{"policy delete", "NAME", "remove a stored policy", runPolicyDelete},
		{"sweep", "[--dry-run] [--concurrency N]", "run untagged retention and every stored policy now", runSweep},
		{"runs", "[--n N]", "list the records of past purges and sweeps, newest first", runRuns},
		{"retention show", "", "show the untagged-manifest retention setting", runRetentionShow},
		{"retention set", "[--enabled=true|false] [--days N]", "change the untagged-manifest retention setting", runRetentionSet},
		{"retention sweep", "[--dry-run] [--concurrency N]", "delete the untagged manifests retention says are due, now", runRetentionSweep},
		{"lock", "[--delete | --delete-only] REF...", "lock repositories, tags or manifests (REF: repo, repo:tag, repo@digest)", runLock},
		{"unlock", "REF...", "unlock repositories, tags or manifests (writeEnabled and deleteEnabled true)", runUnlock},
		{"lock-rules show", "", "show the lock rules", runLockRulesShow},
		{"lock-rules set", "FILE.json", "replace the lock rules with a JSON array of registry.LockRule", runLockRulesSet},
		{"scope-map create", "NAME --repository REPO ACTION[,ACTION]... [--description TEXT]", "create a scope map", runScopeMapCreate},
		{"scope-map list", "", "list the scope maps, system-defined first", runScopeMapList},
		{"scope-map show", "NAME", "show a scope map and its rules", runScopeMapShow},
		{"scope-map update", "NAME [--add-repository REPO ACTIONS]... [--remove-repository REPO ACTIONS]... [--description TEXT]", "change a scope map", runScopeMapUpdate},
		{"scope-map delete", "NAME", "delete a scope map no token uses", runScopeMapDelete},
		{"token create", "NAME --scope-map MAP [--status enabled|disabled] [--no-passwords] [--expiration WHEN]", "create a token and print its two passwords once", runTokenCreate},
		{"token list", "", "list the tokens", runTokenList},
		{"token show", "NAME", "show a token (never its passwords)", runTokenShow},
		{"token update", "NAME [--scope-map MAP] [--status enabled|disabled]", "change a token's scope map or status", runTokenUpdate},
		{"token delete", "NAME", "delete a token", runTokenDelete},
		{"token password generate", "NAME [--password1] [--password2] [--expiration WHEN]", "generate new token passwords and print them once", runTokenPasswordGenerate},
		{"token password delete", "NAME --password1|--password2", "remove token passwords", runTokenPasswordDelete},
		{"anonymous-pull show", "", "show whether anonymous pull is enabled", runAnonymousPullShow},
		{"anonymous-pull set", "--enabled=true|false", "allow or refuse pulls without credentials", runAnonymousPullSet},
		{"admin show", "", "show the admin user", runAdminShow},
		{"admin set", "--username NAME", "set the admin user (password from $REGKIT_ADMIN_PASSWORD, or generated and printed once)", runAdminSet},
		{"admin disable", "", "remove the admin user", runAdminDisable},
		{"cache-rule create", "NAME --source-repo HOST/REPO --target-repo REPO [--username U] [--cred-set NAME] [--plain-http]", "create or replace an artifact cache rule (pull-through from an upstream)", runCacheRuleCreate},
		{"cache-rule list", "", "list the artifact cache rules (never their passwords)", runCacheRuleList},
		{"cache-rule delete", "NAME", "delete an artifact cache rule (what it cached stays)", runCacheRuleDelete},
		{"import", "SOURCE TARGET [flags]", "copy an artifact into TARGET (repo[:tag]) from SOURCE: host/repo:tag, host/repo@digest, oci:DIR[:tag], oci-archive:FILE.tar[:tag] or regkit:DIR/repo:tag", runImport},
		{"export", "REF DIR|FILE.tar [--referrers] [--tag NAME]", "write an artifact (repo:tag or repo@digest) as an OCI image layout folder or tar", runExport},
	}
}

// run is regadm: it parses args (without the program name), runs the verb
// and returns the exit status. Everything it prints goes to stdout (results)
// and stderr (errors, progress).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, terminal: isTerminal(stderr)}
	fs := flag.NewFlagSet("regadm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	e.globalFlags(fs)
	fs.Usage = func() { e.usage(fs) }
	if err := fs.Parse(args); err != nil {
		return e.exit(&usageError{err: err, reported: true})
	}
	rest := fs.Args()
	if len(rest) == 0 {
		e.usage(fs)
		return e.exit(&usageError{err: errors.New("no command given"), reported: false})
	}
	if rest[0] == "help" {
		if cmd, _ := findCommand(rest[1:]); cmd != nil {
			return e.exit(cmd.run(ctx, e, []string{"-h"}))
		}
		e.usage(fs)
		return exitOK
	}
	cmd, n := findCommand(rest)
	if cmd == nil {
		if subs := subcommands(rest[0]); len(subs) > 0 {
			return e.exit(usagef("unknown command %q: %s takes %s (run regadm help)", strings.Join(rest[:n], " "), rest[0], strings.Join(subs, ", ")))
		}
		return e.exit(usagef("unknown command %q (run regadm help)", strings.Join(rest[:n], " ")))
	}
	return e.exit(cmd.run(ctx, e, rest[n:]))
}

// findCommand finds the command args start with and how many words name
// it. Without a match, n is how many words were looked at.
func findCommand(args []string) (*command, int) {
	if len(args) == 0 {
		return nil, 0
	}
	cmds := commands()
	for i := range cmds {
		words := strings.Fields(cmds[i].name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == cmds[i].name {
			return &cmds[i], len(words)
		}
	}
	for i := range cmds {
		// A group ("retention") without its sub-verb, or a bad one.
		if group, _, ok := strings.Cut(cmds[i].name, " "); ok && args[0] == group {
			return nil, min(2, len(args))
		}
	}
	return nil, 1
}

// subcommands lists the sub-verbs of group ("retention": show, set, ...).
func subcommands(group string) []string {
	var subs []string
	for _, c := range commands() {
		if g, sub, ok := strings.Cut(c.name, " "); ok && g == group {
			subs = append(subs, sub)
		}
	}
	return subs
}

// exit prints err, if any, and returns the exit status it calls for.
func (e *env) exit(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case isUsage(err):
		var u *usageError
		errors.As(err, &u)
		if !u.reported {
			fmt.Fprintf(e.stderr, "regadm: %v\n", err)
		}
		return exitUsage
	default:
		fmt.Fprintf(e.stderr, "regadm: %v\n", err)
		return exitFailed
	}
}

// globalFlags registers the flags every verb takes (-data, -output) on fs.
// They are accepted before the verb and after it.
func (e *env) globalFlags(fs *flag.FlagSet) {
	def := os.Getenv("REGKIT_DATA")
	if def == "" {
		def = "./data"
	}
	if e.data != "" {
		def = e.data
	}
	out := e.output
	if out == "" {
		out = outputText
	}
	fs.StringVar(&e.data, "data", def, "data folder of the registry (as registryd's -data; env REGKIT_DATA)")
	fs.StringVar(&e.output, "output", out, "output format: text or json")
}

// flags returns the flag set of a verb, with the global flags on it.
func (e *env) flags(cmd string) *flag.FlagSet {
	fs := flag.NewFlagSet("regadm "+cmd, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	e.globalFlags(fs)
	fs.Usage = func() {
		for _, c := range commands() {
			if c.name == cmd {
				fmt.Fprintf(e.stderr, "usage: regadm [-data DIR] [-output text|json] %s %s\n\n%s.\n\nFlags:\n", c.name, c.args, c.summary)
			}
		}
		fs.PrintDefaults()
	}
	return fs
}

// parse parses a verb's args, flags and positional arguments in any order
// (everything after "--" is positional), and checks the global flags.
func (e *env) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, &usageError{err: err, reported: true}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if e.output != outputText && e.output != outputJSON {
		return nil, usagef("-output %q: want text or json", e.output)
	}
	return pos, nil
}

// usage prints the overview of every verb.
func (e *env) usage(fs *flag.FlagSet) {
	w := e.stderr
	fmt.Fprintln(w, "usage: regadm [-data DIR] [-output text|json] COMMAND [flags] [args]")
	fmt.Fprintln(w, "\nAdministers a regkit data folder (stop registryd first). Commands:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nGlobal flags (also accepted after the command):")
	fs.PrintDefaults()
	fmt.Fprintln(w, "\nregadm COMMAND -h describes a command. Exit status: 0 done, 1 failed, 2 bad usage (nothing done).")
}

// writeJSON writes v to stdout, indented.
func (e *env) writeJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// withRegistry opens the data folder, runs fn and closes the registry,
// returning fn's error joined with Close's.
func (e *env) withRegistry(ctx context.Context, fn func(reg *registry.Registry) error) error {
	reg, err := openData(ctx, e.data)
	if err != nil {
		return err
	}
	err = fn(reg)
	if cerr := reg.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close %s: %w", e.data, cerr))
	}
	return err
}

// isTerminal reports whether w is a character device (a terminal; also
// /dev/null, where progress lines do no harm).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
