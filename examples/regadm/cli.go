package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

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
	// verb is the command being run ("retention show").
	verb string
	// dockerConfigSet reports whether --docker-config was given.
	dockerConfigSet bool
	// dataSet reports whether -data was given on the command line (its
	// default does not count against -registry).
	dataSet bool
	// registry is the URL of a running server (-registry), "" for -data.
	registry string
	// cred are the credentials for -registry.
	cred credentials
	// now is the clock a purge over -registry evaluates with (nil:
	// time.Now); tests set it.
	now func() time.Time
	// client is the HTTP client under the auth client for -registry (nil:
	// oras-go's retrying client); tests set it.
	client *http.Client
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
	// remote: the verb also works over -registry (and takes the
	// credential flags).
	remote bool
}

// commands returns the verbs, in the order usage lists them.
func commands() []command {
	return []command{
		{"purge", "--filter REPO:TAG... --ago AGE [flags]", "delete tags and untagged manifests as acr purge does", runPurge, true},
		{"policy apply", "FILE.json [--dry-run] [--concurrency N]", "run a policy.Policy read from JSON", runPolicyApply, true},
		{"policy set", "NAME FILE.json", "store a policy that every sweep runs", runPolicySet, false},
		{"policy list", "", "list the stored policies", runPolicyList, false},
		{"policy delete", "NAME", "remove a stored policy", runPolicyDelete, false},
		{"sweep", "[--dry-run] [--concurrency N]", "run untagged retention and every stored policy now", runSweep, false},
		{"runs", "[--n N]", "list the records of past purges and sweeps, newest first", runRuns, false},
		{"retention show", "", "show the untagged-manifest retention setting", runRetentionShow, false},
		{"retention set", "[--enabled=true|false] [--days N]", "change the untagged-manifest retention setting", runRetentionSet, false},
		{"retention sweep", "[--dry-run] [--concurrency N]", "delete the untagged manifests retention says are due, now", runRetentionSweep, false},
		{"soft-delete show", "", "show the soft-delete setting", runSoftDeleteShow, false},
		{"soft-delete set", "[--enabled=true|false] [--days N]", "change the soft-delete setting (deleted items stay restorable N days)", runSoftDeleteSet, false},
		{"deleted list", "[--repository R]", "list soft-deleted repositories, or the deleted manifests and tags of R, newest first", runDeletedList, false},
		{"restore", "repo:tag | repo@digest [--force]", "restore a soft-deleted manifest, by digest or by its most recently deleted tag", runRestore, false},
		{"lock", "[--delete | --delete-only] REF...", "lock repositories, tags or manifests (REF: repo, repo:tag, repo@digest)", runLock, true},
		{"unlock", "REF...", "unlock repositories, tags or manifests (writeEnabled and deleteEnabled true)", runUnlock, true},
		{"history", "REPO:TAG | REPO [--n N]", "list the recorded moves of a tag (or of every tag of a repository), newest first", runHistory, false},
		{"revert", "REPO:TAG --to TIME", "point a tag back at the manifest it pointed to at TIME (RFC 3339, or an age: 1d, 2h)", runRevert, false},
		{"lock-rules show", "", "show the lock rules", runLockRulesShow, false},
		{"lock-rules set", "FILE.json", "replace the lock rules with a JSON array of registry.LockRule", runLockRulesSet, false},
		{"scope-map create", "NAME --repository REPO ACTION[,ACTION]... [--description TEXT]", "create a scope map", runScopeMapCreate, false},
		{"scope-map list", "", "list the scope maps, system-defined first", runScopeMapList, false},
		{"scope-map show", "NAME", "show a scope map and its rules", runScopeMapShow, false},
		{"scope-map update", "NAME [--add-repository REPO ACTIONS]... [--remove-repository REPO ACTIONS]... [--description TEXT]", "change a scope map", runScopeMapUpdate, false},
		{"scope-map delete", "NAME", "delete a scope map no token uses", runScopeMapDelete, false},
		{"token create", "NAME --scope-map MAP [--status enabled|disabled] [--no-passwords] [--expiration WHEN]", "create a token and print its two passwords once", runTokenCreate, false},
		{"token list", "", "list the tokens", runTokenList, false},
		{"token show", "NAME", "show a token (never its passwords)", runTokenShow, false},
		{"token update", "NAME [--scope-map MAP] [--status enabled|disabled]", "change a token's scope map or status", runTokenUpdate, false},
		{"token delete", "NAME", "delete a token", runTokenDelete, false},
		{"token password generate", "NAME [--password1] [--password2] [--expiration WHEN]", "generate new token passwords and print them once", runTokenPasswordGenerate, false},
		{"token password delete", "NAME --password1|--password2", "remove token passwords", runTokenPasswordDelete, false},
		{"anonymous-pull show", "", "show whether anonymous pull is enabled", runAnonymousPullShow, false},
		{"anonymous-pull set", "--enabled=true|false", "allow or refuse pulls without credentials", runAnonymousPullSet, false},
		{"admin show", "", "show the admin user", runAdminShow, false},
		{"admin set", "--username NAME", "set the admin user (password from $REGKIT_ADMIN_PASSWORD, or generated and printed once)", runAdminSet, false},
		{"admin disable", "", "remove the admin user", runAdminDisable, false},
		{"cache-rule create", "NAME --source-repo HOST/REPO --target-repo REPO [--username U] [--cred-set NAME] [--plain-http]", "create or replace an artifact cache rule (pull-through from an upstream)", runCacheRuleCreate, false},
		{"cache-rule list", "", "list the artifact cache rules (never their passwords)", runCacheRuleList, false},
		{"cache-rule delete", "NAME", "delete an artifact cache rule (what it cached stays)", runCacheRuleDelete, false},
		{"signing-key list", "", "list the keys that sign and verify access tokens (DIR/keys; works while a server runs)", runSigningKeyList, false},
		{"signing-key rotate", "[--token-lifetime D]", "make a new signing key; older keys verify until their tokens expire (no downtime)", runSigningKeyRotate, false},
		{"signing-key remove", "ID", "delete a retired key at once (a key thought compromised)", runSigningKeyRemove, false},
		{"import", "SOURCE TARGET [flags]", "copy an artifact into TARGET (repo[:tag]) from SOURCE: host/repo:tag, host/repo@digest, oci:DIR[:tag], oci-archive:FILE.tar[:tag] or regkit:DIR/repo:tag", runImport, false},
		{"export", "REF DIR|FILE.tar [--referrers] [--tag NAME]", "write an artifact (repo:tag or repo@digest) as an OCI image layout folder or tar", runExport, false},
	}
}

// run is regadm: it parses args (without the program name), runs the verb
// and returns the exit status. Everything it prints goes to stdout (results)
// and stderr (errors, progress).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runEnv(ctx, &env{stdout: stdout, stderr: stderr, terminal: isTerminal(stderr)}, args)
}

// runEnv is run with an env the caller prepared (tests set its clock and
// HTTP client).
func runEnv(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("regadm", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	e.globalFlags(fs, true)
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
	e.verb = cmd.name
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

// credentials are the flags naming who regadm is to a server (-registry).
type credentials struct {
	username, password string
	// dockerConfig is the Docker config file whose entry for the server's
	// host is used when no username is given ("-": Docker's default, "":
	// none).
	dockerConfig string
}

// dataFlag is -data: it records that the flag was given, so that an
// explicit -data beside -registry is refused while the default is not.
type dataFlag struct{ e *env }

func (f dataFlag) String() string {
	if f.e == nil {
		return ""
	}
	return f.e.data
}

// Set sets the data folder.
func (f dataFlag) Set(v string) error {
	f.e.data, f.e.dataSet = v, true
	return nil
}

// globalFlags registers the flags every verb takes (-data, -registry,
// -output) on fs, and with remote the credentials for -registry. They are
// accepted before the verb and after it.
func (e *env) globalFlags(fs *flag.FlagSet, remote bool) {
	if e.data == "" {
		e.data = os.Getenv("REGKIT_DATA")
		if e.data == "" {
			e.data = "./data"
		}
	}
	if e.output == "" {
		e.output = outputText
	}
	if e.cred.dockerConfig == "" && !e.dockerConfigSet {
		e.cred.dockerConfig = "-"
	}
	fs.Var(dataFlag{e}, "data", "data folder `DIR` of the registry (as registryd's -data; env REGKIT_DATA)")
	fs.StringVar(&e.registry, "registry", e.registry, "`URL` of a running server (http://host:port, https://host) to work on instead of a data folder: purge, policy apply, lock and unlock only")
	fs.StringVar(&e.output, "output", e.output, "output format: text or json")
	if remote {
		fs.StringVar(&e.cred.username, "username", e.cred.username, "user name for -registry")
		fs.StringVar(&e.cred.password, "password", e.cred.password, "password or token for -registry (env REGKIT_PASSWORD)")
		fs.Func("docker-config", "Docker config `FILE` whose credentials for the -registry host are used without --username (\"-\": Docker's default, \"\": none)", func(v string) error {
			e.cred.dockerConfig, e.dockerConfigSet = v, true
			return nil
		})
	}
}

// flags returns the flag set of a verb, with the global flags on it.
func (e *env) flags(cmd string) *flag.FlagSet {
	fs := flag.NewFlagSet("regadm "+cmd, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	remote := false
	for _, c := range commands() {
		if c.name == cmd {
			remote = c.remote
		}
	}
	e.globalFlags(fs, remote)
	fs.Usage = func() {
		for _, c := range commands() {
			if c.name == cmd {
				where := "-data DIR"
				if c.remote {
					where = "-data DIR | -registry URL"
				}
				fmt.Fprintf(e.stderr, "usage: regadm [%s] [-output text|json] %s %s\n\n%s.\n", where, c.name, c.args, c.summary)
				if c.remote {
					fmt.Fprintln(e.stderr, "Works on a data folder (-data) or a running server (-registry URL).")
				} else {
					fmt.Fprintln(e.stderr, "Needs a data folder (-data); not available over -registry.")
				}
				if n := remoteNote(c.name); n != "" {
					fmt.Fprintf(e.stderr, "\n%s\n", n)
				}
				fmt.Fprintln(e.stderr, "\nFlags:")
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
	if e.registry != "" && e.dataSet {
		return nil, usagef("-data and -registry exclude each other: give a data folder or a server's URL, not both")
	}
	return pos, nil
}

// usage prints the overview of every verb.
func (e *env) usage(fs *flag.FlagSet) {
	w := e.stderr
	fmt.Fprintln(w, "usage: regadm [-data DIR | -registry URL] [-output text|json] COMMAND [flags] [args]")
	fmt.Fprintln(w, "\nAdministers a regkit data folder (stop registryd first), or a running server")
	fmt.Fprintln(w, "over its API with -registry URL (purge, policy apply, lock, unlock). Commands:")
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
	if e.registry != "" {
		return usagef("%s needs -data: it works on a data folder and is not available over -registry (purge, policy apply, lock and unlock are)", e.verb)
	}
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
