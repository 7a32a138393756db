// Package policy decides what retention and purge rules delete, without
// doing it.
//
// A [Snapshot] describes one repository as the registry sees it: its tags
// (digest, times, attributes, last pull) and manifests (media type, times,
// when they became untagged, attributes, subject, children). A [Policy]
// holds the rules, each a plain value a host builds in code or reads from
// JSON:
//
//   - [Purge]: ACR's acr purge (filters "repository-regex:tag-regex", ago,
//     keep, untagged, untagged-only, include-locked);
//   - [UntaggedRetention]: ACR's untagged-manifest retention policy (days);
//   - [KeepRule]: protections beyond ACR (keep the N newest tags by push or
//     pull, keep tags pushed or pulled within a duration, a keep pattern
//     that always wins), each scoped by a repository pattern.
//
// [Compile] checks a Policy once (regular expressions, durations, bounds)
// and returns an [Evaluator]; [Evaluator.Evaluate] takes a Snapshot and the
// time to judge it at and returns a [Plan]: every tag and manifest with its
// decision and the reason for it, deletions first in the order they are to
// run. Evaluation is pure: no I/O, no clock, no registry. The registry takes
// the snapshot, evaluates, and carries the plan out one transaction per
// deletion, re-checking inside each what the plan assumed; a dry run is the
// same plan, not carried out.
//
// # Decisions
//
// Decisions are per tag. A tag goes when a purge filter selects it, it was
// last updated before the cutoff, it is not locked (or include-locked is
// set), it is not among the keep newest, and no keep rule protects it.
// Deleting a tag untags: its manifest stays, and counts in
// [Plan.Untagged] when it loses its last tag. Harbor decides per artifact
// (one kept tag keeps every tag of the manifest); regkit does not: a
// manifest's other tags are judged on their own.
//
// A manifest goes only when it has no tags left and either the purge's
// untagged pass selects it (older than the cutoff) or untagged retention
// does (untagged, after the policy was enabled, for at least the policy's
// days). Never: a locked manifest (without include-locked), a manifest
// whose repository is write-locked, a child of an index that stays (at any
// depth), or a referrer on its own (a manifest with a subject goes only with
// its subject, and the plan lists it as going with it). A subject with a
// locked referrer stays, since deleting it would take the referrer along.
//
// # Regular expressions
//
// Filters and keep patterns use .NET-style syntax through
// github.com/dlclark/regexp2, in its RE2-compatible mode as acr purge uses
// it, so filters written for acr purge (lookarounds such as
// ^(?!latest$).*) work unchanged. A repository pattern is anchored at both
// ends; a tag pattern matches anywhere in the name unless it anchors itself.
// Every match runs under a timeout ([CompileOptions.MatchTimeout]); a match
// that times out never deletes: the item is kept with [ReasonMatchError].
package policy
