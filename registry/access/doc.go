// Package access is ACR's access model for a regkit registry, as a library
// with no HTTP in it: repository actions, scope maps, tokens with two
// passwords, the admin user and anonymous pull, stored in the registry's
// metadata store (registry.State, namespace "access"), and the two
// questions a token service asks on every request: who is this
// (Authenticate) and what may they do on this repository (Allowed).
//
// # Actions
//
// A right on a repository is an Action: content/read (pull), content/write
// (push, with content/read), content/delete (delete a manifest or the
// repository), metadata/read (list tags and manifests), metadata/write
// (untag, change attributes), deleted/read and deleted/restore (list and
// restore soft-deleted artifacts). ActionCatalog ("registry/catalog") is the
// registry-level right to list every repository: the admin user holds it
// (and anonymous callers while anonymous pull is on); ACR's tokens cannot
// list the catalog.
//
// # Scope maps
//
// A scope map is a named set of rules, each granting actions on a
// repository ("samples/hello"), on every repository below a prefix
// ("samples/*", at any depth, not "samples" itself) or on every repository
// ("*"). As in ACR, a wildcard may only end a rule's repository, after a
// slash, and only once; rules need not name existing repositories; and all
// rules matching a repository add up: with "samples/*" content/read and
// "samples/a/b" content/delete, a token holds both on samples/a/b and
// only content/read on samples/a/c. ACR's five system scope maps are built
// in and read-only: _repositories_admin (the five actions),
// _repositories_pull (content/read), _repositories_pull_metadata_read
// (with metadata/read), _repositories_push (content/read and write) and
// _repositories_push_metadata_write (with metadata/read and write), each on
// every repository. Names of scope maps and tokens follow ACR's rules (5 to
// 50 letters, digits, '-' and '_'), compare without regard to case, and
// user-defined scope maps may not start with '_'. A scope map a token uses
// cannot be deleted.
//
// # Tokens and passwords
//
// A token has a name (the user name clients log in with), one scope map,
// a status (enabled or disabled) and two password slots, password1 and
// password2, each empty or holding a password with an optional expiry.
// GeneratePassword makes a password of 256 random bits and returns it once;
// only a slow salted hash of it is stored.
//
// The hash is argon2id (golang.org/x/crypto/argon2, RFC 9106) at OWASP's
// minimum parameters (19 MiB, two passes, one thread), in the PHC string
// format, so each hash carries its parameters and they can be raised
// later. argon2id was chosen over bcrypt because it hashes passwords of any
// length (bcrypt stops at 72 bytes, which matters for admin passwords a host
// chooses) and is memory-hard, so guessing on GPUs is costly. Its memory
// cost is bounded: at most WithHashConcurrency hashes (GOMAXPROCS by
// default) run at once, so wrong passwords sent in a flood queue instead of
// taking memory without limit.
//
// # Authentication and authorization
//
// Authenticate takes a user name and password, the admin user's or a
// token's, and returns the subject: "admin" or "token:NAME". A password
// verified recently is recognized from a bounded in-memory cache in about
// a microsecond (the token endpoint issues thousands of tokens a second for
// the same few clients); a cache hit is checked against the current model
// every time, so disabling a token, removing or regenerating a password,
// an expiry passing, or replacing the admin user takes effect on the next
// call. Allowed answers from an in-memory view of the tokens and compiled
// scope maps, rebuilt after every write, in a few map lookups.
//
// The admin user, set by the host (SetAdmin), holds every action on every
// repository and the catalog. ACR's admin user is named after the registry
// and has two passwords; regkit's has a name of the host's choice and one
// password, rotated by setting a new one.
//
// Anonymous pull (SetAnonymousPull, ACR's anonymous-pull-enabled, off by
// default) gives callers without credentials content/read and
// metadata/read on every repository and the catalog: they pull, list
// repositories, tags and manifests and read properties, as ACR's anonymous
// callers do (its SDKs' anonymous tests list and read all of these); they
// never write, delete or change attributes. As in ACR,
// it does not add to what an authenticated caller holds: a client that
// sends credentials gets their rights.
//
// A Service keeps the model in memory and is the only writer of its
// namespace: use one per Registry.
package access
