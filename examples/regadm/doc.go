// Command regadm administers a regkit data folder: the folder registryd
// serves (-data, default ./data or $REGKIT_DATA). It purges as acr purge
// does, runs retention policies, locks and unlocks content, imports and
// exports artifacts, and manages artifact cache rules, scope maps, tokens,
// anonymous pull and the admin user. purge, policy apply, lock and unlock
// also work on a running server through its API (-registry URL), as acr
// purge does.
//
//	regadm [-data DIR | -registry URL [--username U --password P]] [-output text|json] COMMAND [flags] [args]
//
// Flags follow Go's flag package: -flag and --flag are the same, and a
// boolean takes its value with "=" (--enabled=false). A command's flags may
// come before or after its arguments. -data, -registry (with its
// credential flags) and -output are accepted before the command and after
// it.
//
// # Commands
//
//	purge --filter REPO-REGEX:TAG-REGEX... --ago AGE [--keep N] [--untagged | --untagged-only]
//	      [--include-locked] [--dry-run] [--concurrency N] [--verbose]
//
// Deletes tags, and with --untagged the manifests left without tags, with
// acr purge's flags and meaning (see policy.Purge): --filter is repeatable
// (filters hitting one repository combine with OR; the repository regex is
// anchored, the tag regex is not; .NET-style syntax such as ^(?!latest$).*
// works); --ago takes [N]d plus a Go duration (30d, 2d3h6m, 1.5h, 0d); --keep
// spares the N most recently updated tags per repository; --untagged-only
// deletes only untagged manifests (filters then only scope repositories and
// --ago may be left out); --include-locked unlocks and deletes locked items;
// --dry-run reports the same plan and deletes nothing; --concurrency bounds
// the deletions at once (1 to 32; default the registry's). Everything is
// checked (policy.Compile) before the data folder is opened.
//
//	policy apply FILE.json [--dry-run] [--concurrency N] [--verbose]
//
// Runs a policy.Policy read from FILE.json (its JSON field names: "purge",
// "untaggedRetention", "keep"; unknown fields are refused) through
// registry.Registry.Purge. A policy without "purge" or "untaggedRetention"
// would delete nothing and is refused.
//
//	policy set NAME FILE.json
//	policy list
//	policy delete NAME
//
// Store, list or remove policies that every sweep runs (registry.Registry
// SetPolicy; registryd sweeps every -sweep-interval).
//
//	sweep [--dry-run] [--concurrency N] [--verbose]
//	runs [--n N]
//
// sweep runs untagged retention (when enabled) and every stored policy now;
// runs lists the records every purge and sweep leaves, newest first.
//
//	retention show
//	retention set [--enabled=true|false] [--days N]
//	retention sweep [--dry-run] [--concurrency N] [--verbose]
//
// Show or change the registry's untagged-manifest retention setting
// (registry.RetentionPolicy; --days 0 to 365). A flag left out of set keeps
// its current value. sweep deletes what the setting says is due, now,
// instead of waiting for a server's background sweep.
//
//	lock [--delete | --delete-only] REF...
//	unlock REF...
//
// REF is a repository (repo), a tag (repo:tag) or a manifest (repo@digest).
// lock sets writeEnabled=false, ACR's lock: the item can be neither
// overwritten, untagged nor deleted (on a repository: nothing in it). --delete
// also sets deleteEnabled=false; --delete-only sets only deleteEnabled=false
// and leaves writeEnabled as it is (ACR's "prevent deletion, allow updates").
// unlock sets writeEnabled and deleteEnabled both true. Each REF is changed
// on its own: one that fails is reported and the others still change.
//
//	history REPO:TAG | REPO [--n N]
//	revert REPO:TAG --to TIME
//
// history lists the recorded moves of a tag (every push, retag, untag and
// delete that moved it, within the registry's tag history window), or of
// every tag of a repository, newest first: time, kind, and the digests
// before and after ("-": none). --n keeps the newest N. revert points the
// tag back at the manifest it pointed to at TIME, an RFC 3339 time or an
// age before now in purge's --ago syntax (1d, 2h30m); it is refused when
// that manifest is gone (the error names its digest) or the tag is locked.
//
//	lock-rules show
//	lock-rules set FILE.json
//
// Show or replace the lock rules: FILE.json holds a JSON array of
// registry.LockRule, such as
//
//	[{"repositories": "prod/.*", "tags": "^v[0-9]", "lockDelete": true}]
//
// ([] removes every rule). Patterns are checked (policy.CompileLockRules)
// before the data folder is opened. Rules apply to tags created from then on.
//
//	soft-delete show
//	soft-delete set [--enabled=true|false] [--days N]
//
// Show or change the soft-delete setting (registry.SoftDeletePolicy, ACR's
// soft delete): while enabled, every deletion (a manifest or tag deleted
// over /v2/ or /acr/v1/, a purge, retention, a repository delete) keeps what
// it deletes restorable for --days days, 1 to 90 (default 7). A flag left
// out of set keeps its current value. Expiry uses the current days, so
// raising them extends what is already deleted; a server (registryd) purges
// what has expired, regadm never does.
//
//	deleted list [--repository R]
//
// Lists the soft-deleted repositories, or with --repository the deleted
// manifests (with the tags they carried) and deleted tags of R, live or
// deleted, newest first, each with its deletion time and expiry. --output
// json prints an array of {"repository","createdAt","deletedAt",
// "expiresAt"}, or {"repository","manifests":[{"digest","mediaType",
// "artifactType","subject","size","tags","createdAt","deletedAt",
// "expiresAt"}],"tags":[{"tag","digest","deletedAt","expiresAt"}]}.
//
//	restore repo:tag | repo@digest [--force]
//
// Restores a soft-deleted manifest (registry.Repository.Restore): by digest,
// with every tag it carried; by tag, the manifest the most recently deleted
// record of that tag pointed at, with that tag (re-tagging it when the
// manifest is still stored). A deleted repository comes back with it. ACR's
// rules hold: an index needs its children stored, a referrer its subject
// (restore them first; the error names them), locks refuse, and a tag that
// now points at another manifest needs --force, which moves it (the moved
// tag is kept as deleted, and a manifest it leaves untagged is
// soft-deleted). --output json prints {"repository","digest",
// "manifestRestored","repositoryRestored","tags","overwrittenTags":
// [{"tag","digest"}],"deletedManifests"}.
//
//	scope-map create NAME --repository REPO ACTION[,ACTION]... [--description TEXT]
//	scope-map list
//	scope-map show NAME
//	scope-map update NAME [--add-repository REPO ACTIONS]... [--remove-repository REPO ACTIONS]... [--description TEXT]
//	scope-map delete NAME
//
// Manage scope maps (package registry/access), as az acr scope-map does. A
// rule flag takes two values: the repository (a name, PREFIX/* for every
// repository below PREFIX, or * for all) and a comma-separated list of
// actions (content/read, content/write, content/delete, metadata/read,
// metadata/write, and deleted/read, deleted/restore for soft-deleted
// artifacts); it is repeatable, and rules on one repository add up.
// list shows ACR's five system scope maps (read-only) first. A scope map a
// token uses cannot be deleted.
//
//	token create NAME --scope-map MAP [--status enabled|disabled] [--no-passwords] [--expiration WHEN]
//	token list
//	token show NAME
//	token update NAME [--scope-map MAP] [--status enabled|disabled]
//	token delete NAME
//	token password generate NAME [--password1] [--password2] [--expiration WHEN]
//	token password delete NAME [--password1] [--password2]
//
// Manage tokens, as az acr token does. create generates both passwords and
// prints them once (only their hashes are stored) unless --no-passwords;
// password generate replaces the passwords named (both when neither flag is
// given) and prints them once. WHEN is an RFC 3339 time or a duration from
// now in --ago's syntax (30d, 12h); passwords without one never expire.
//
//	anonymous-pull show
//	anonymous-pull set --enabled=true|false
//	admin show
//	admin set --username NAME
//	admin disable
//
// Show or change anonymous pull (callers without credentials may pull any
// repository) and the admin user (every right, the catalog included).
// admin set takes the password from $REGKIT_ADMIN_PASSWORD, or generates
// one and prints it once.
//
//	signing-key list
//	signing-key rotate [--token-lifetime D]
//	signing-key remove ID
//
// Manage the keys that sign access tokens, kept in DIR/keys. These verbs
// never open the metadata file, so they run while registryd holds the
// folder: after a rotate the server signs with the new key within a minute
// and keeps verifying tokens of the older keys until they expire (give
// --token-lifetime when the server runs with one). remove deletes a retired
// key at once, for a key thought compromised.
//
//	import SOURCE TARGET [--force] [--referrers] [--platform OS/ARCH[/VARIANT]]...
//	       [--plain-http] [--username U --password P | --docker-config FILE] [--concurrency N]
//
// Copies an artifact into TARGET (repository[:tag]) as az acr import does
// (registry.Registry.Import). SOURCE is one of
//
//	host[:port]/repo:tag, host[:port]/repo@digest   a registry (default tag latest)
//	oci:DIR[:tag], oci:DIR@digest                   an OCI image layout folder
//	oci-archive:FILE.tar[:tag]                      a tar of one
//	regkit:DIR/repo:tag, regkit:DIR/repo@digest     another regkit data folder
//
// A layout with a single tag needs none. Without a tag in TARGET the
// source's is used; a source named by digest is imported untagged. An
// existing target tag fails the import before anything is copied unless
// --force is given; a locked tag is never overwritten. An index comes with
// every child, or only those of --platform (one platform: that child alone;
// several: a new index of them). --referrers also copies signatures and
// SBOMs, recursively. A remote source is read over HTTPS (--plain-http:
// HTTP) with --username and --password (or $REGKIT_PASSWORD), else with the
// credentials of the Docker config file (default: Docker's own; "" for
// none), else anonymously. Blobs the data folder holds already are not read
// again, so an interrupted import is resumed by running it again.
//
//	export REF DIR|FILE.tar [--referrers] [--tag NAME]
//
// Writes the artifact REF (repo:tag or repo@digest) with every child as an
// OCI image layout folder, or a tar of one when the path ends in .tar, as
// oras writes it; oras, crane and skopeo read it (oci:DIR:TAG,
// oci-archive:FILE.tar:TAG). An existing layout folder is added to.
//
//	cache-rule create NAME --source-repo HOST/REPO --target-repo REPO
//	       [--username U [--password P]] [--cred-set NAME] [--plain-http]
//	cache-rule list
//	cache-rule delete NAME
//
// Manage artifact cache rules (registry.CacheRule, as az acr cache does): a
// pull from registryd of a tag or digest that a covered repository lacks
// fetches it from the upstream first. --target-repo is a repository or
// PREFIX/*, with --source-repo then ending in /* too. The password comes
// from --password or $REGKIT_PASSWORD and is stored in the data folder as
// given, since the server must present it upstream; list never prints it.
// --cred-set names a credential set instead, which the server resolves at
// each use: registryd reads it from its -credential-sets folder
// (DIR/NAME/username and DIR/NAME/password), so no secret is stored in the
// data folder. create replaces a rule of the same name; delete leaves what
// was cached.
//
// # Output
//
// Text output is for people: purge, policy apply and retention sweep print a
// table of every tag and manifest deleted (or, on a dry run, that would be),
// every planned deletion skipped, each with why, then a summary line;
// --verbose adds what stays and why. On a terminal a progress line on stderr
// shows how far a run that lasts longer than half a second got. --output
// json prints every result and listing as JSON instead: for purges the whole
// registry.PurgeResult with every repository's plan, for imports and exports
// registry.ImportResult and registry.ExportResult. An import on a terminal
// shows blobs and bytes done on its progress line.
//
// # The data folder
//
// regadm opens the folder itself (registry.Open). It refuses a folder that is
// not a regkit data folder (no meta.db: regadm never creates one) and one a
// server holds: the metadata store keeps an exclusive lock on meta.db while
// open, and regadm checks that lock without waiting and says that a server
// holds the folder. Stop registryd first. regadm runs no background work
// while it holds the folder: untagged retention deletes only through
// retention sweep.
//
// # A running server
//
// With -registry URL (http://host:port or https://host; a bare host means
// HTTPS) instead of -data, purge, policy apply, lock and unlock work on a
// running server through ACR's data-plane API (/acr/v1/) and the
// distribution API (/v2/), as registryd serves them (package
// registry/httpapi) and as acr purge uses them. Giving both -data and
// -registry is an error (status 2); -registry wins over $REGKIT_DATA. Every
// other command needs -data and says so (status 2).
//
// Credentials are --username and --password (or $REGKIT_PASSWORD), else
// the entry for the server's host in the Docker config file
// (--docker-config FILE; default Docker's own, "" for none), else none.
// They answer both the server's Basic challenges and its Bearer challenges
// (a token fetched from the realm the challenge names, such as registryd's
// /oauth2/token), through oras-go's auth client.
//
// lock and unlock PATCH the changeable attributes of each REF. purge (and
// policy apply) list the repositories (/acr/v1/_catalog), read each one the
// policy applies to (its attributes, _tags and _manifests with their times,
// attributes and index children, and the /v2/ referrers of every manifest),
// build from them the policy.Snapshot a data folder would give, evaluate it
// with the same policy code at the local time, and print the same table or
// JSON. Deletions go over the API stage by stage, at most --concurrency
// requests at once (default GOMAXPROCS, as acr purge's): DELETE /acr/v1/NAME/_tags/TAG
// to untag, DELETE /v2/NAME/manifests/DIGEST to delete a manifest (the
// server deletes its referrers with it). With --include-locked, a locked
// item is unlocked (PATCH writeEnabled and deleteEnabled true) just before
// it is deleted. --dry-run reads the same and deletes nothing. What differs
// from a purge of a data folder:
//
//   - Each deletion is re-checked just before it is sent: a tag is read
//     again and skipped if it moved or was locked; a manifest and the
//     referrers planned to go with it are read again and skipped if one was
//     tagged or locked or a referrer arrived. The check and the deletion are
//     two requests, not one transaction, so a change between them is not
//     seen. A 404, 405 (a lock), 409 or 412 from the server skips the item
//     with the server's answer as the reason; other failures stop the run.
//   - The API has no last-pull times (keep rules by pull see none) and no
//     untagged-since times (a policy with "untaggedRetention" needs -data).
//   - Listings leave out items with listEnabled=false: such a repository is
//     not purged, such a tag or manifest is read only when a listed item
//     names it (a manifest's tags, a tag's digest, an index's children, a
//     referrer), and otherwise stays.
//   - Referrers are found with one /v2/ referrers request per manifest, so
//     a referrer whose subject is not in the repository is not known as one
//     while planning: before an untagged manifest is deleted its body is
//     read, and one with a subject is skipped (a dry run lists it as going).
//
// # Exit status
//
//	0  the command did what it was asked (a purge whose planned deletions
//	   were skipped because the content changed since the plan succeeded too:
//	   the result lists them)
//	1  it failed: the folder could not be opened, a server holds it, the
//	   server of -registry could not be reached, refused the credentials or
//	   does not serve the API, or an operation failed, possibly after some
//	   changes (the output says which)
//	2  bad usage: unknown command or flag, bad regular expression, bad --ago,
//	   conflicting flags (-data with -registry), a malformed -registry URL, a
//	   command that needs -data given -registry, an unreadable or invalid
//	   input file; nothing was done
//
// SIGINT or SIGTERM stop a purge between deletions (status 1); a second one
// kills regadm at once.
package main
