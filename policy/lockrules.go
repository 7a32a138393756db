package policy

import (
	"time"
)

// LockRule locks tags at creation (Harbor's immutability rules, expressed
// with ACR's attributes): a tag whose repository and name match is created
// with writeEnabled=false, so no push can move it and nothing can untag or
// delete it until someone unlocks it.
type LockRule struct {
	// Repositories is an anchored pattern; empty means every repository.
	Repositories string `json:"repositories,omitempty"`
	// Tags is a pattern matched anywhere in the tag's name unless
	// anchored; empty means every tag.
	Tags string `json:"tags,omitempty"`
	// LockDelete also creates the tag with deleteEnabled=false.
	LockDelete bool `json:"lockDelete,omitempty"`
}

// LockRules are compiled lock rules; the zero value and nil match nothing.
// They are immutable and safe for concurrent use.
type LockRules struct {
	rules []lockRule
}

type lockRule struct {
	LockRule
	repo *pattern
	tags *pattern
}

// CompileLockRules checks rules and compiles their patterns. Errors wrap
// ErrInvalid and name the rule.
func CompileLockRules(rules []LockRule, timeout time.Duration) (*LockRules, error) {
	l := &LockRules{}
	for i, r := range rules {
		c := lockRule{LockRule: r}
		var err error
		if r.Repositories != "" {
			if c.repo, err = compilePattern(r.Repositories, true, timeout); err != nil {
				return nil, invalidf("lock rule %d: %w", i, err)
			}
		}
		if r.Tags != "" {
			if c.tags, err = compilePattern(r.Tags, false, timeout); err != nil {
				return nil, invalidf("lock rule %d: %w", i, err)
			}
		}
		l.rules = append(l.rules, c)
	}
	return l, nil
}

// Rules returns the rules as given.
func (l *LockRules) Rules() []LockRule {
	if l == nil {
		return nil
	}
	out := make([]LockRule, len(l.rules))
	for i, r := range l.rules {
		out[i] = r.LockRule
	}
	return out
}

// Match reports whether a new tag name in repository repo is to be locked,
// and whether its deletion too. A match that fails (timeout) locks: a rule
// meant to protect must not be skipped by an error.
func (l *LockRules) Match(repo, name string) (lock, lockDelete bool) {
	if l == nil {
		return false, false
	}
	for _, r := range l.rules {
		okRepo, err1 := r.repo.match(repo)
		if !okRepo && err1 == nil {
			continue
		}
		okTag, err2 := r.tags.match(name)
		if okTag || err2 != nil {
			lock = true
			lockDelete = lockDelete || r.LockDelete
		}
	}
	return lock, lockDelete
}
