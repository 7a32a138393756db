package registry

import (
	"context"
	"fmt"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
)

// LockRule makes new tags locked at creation (Harbor's immutability rules,
// with ACR's attributes): see policy.LockRule.
type LockRule = policy.LockRule

// lockRulesSetting names the setting in the metadata store.
const lockRulesSetting = "lockRules"

// LockRules returns the lock rules, in order.
func (r *Registry) LockRules(ctx context.Context) ([]LockRule, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer r.leave()
	var rules []LockRule
	err := r.view(ctx, func(tx meta.Tx) error {
		rules = nil
		_, err := schema.Settings.Get(tx, lockRulesSetting, &rules)
		return err
	})
	return rules, err
}

// SetLockRules replaces the lock rules, persisted in the metadata store.
// From the next write on, a tag created in a repository and with a name
// that a rule matches is created with writeEnabled=false (and
// deleteEnabled=false when the rule says LockDelete), so a push that would
// move it is refused with ErrLocked like any lock. Existing tags keep their
// attributes. Patterns that do not compile fail with ErrInvalid and change
// nothing.
func (r *Registry) SetLockRules(ctx context.Context, rules []LockRule) error {
	if err := r.enter(); err != nil {
		return err
	}
	defer r.leave()
	compiled, err := policy.CompileLockRules(rules, 0)
	if err != nil {
		return fmt.Errorf("registry: lock rules: %w", err)
	}
	// One change at a time, so the rules in force are the last stored.
	r.settingsMu.Lock()
	defer r.settingsMu.Unlock()
	err = r.update(ctx, func(t *txn) error {
		return schema.Settings.Put(t, lockRulesSetting, compiled.Rules())
	})
	if err == nil {
		r.lockRules.Store(compiled)
	}
	return err
}

// loadLockRules compiles the stored lock rules, at New.
func (r *Registry) loadLockRules(ctx context.Context) error {
	var rules []LockRule
	err := r.meta.View(ctx, func(tx meta.Tx) error {
		rules = nil
		_, err := schema.Settings.Get(tx, lockRulesSetting, &rules)
		return err
	})
	if err != nil {
		return err
	}
	compiled, err := policy.CompileLockRules(rules, 0)
	if err != nil {
		return fmt.Errorf("registry: stored lock rules: %w", err)
	}
	r.lockRules.Store(compiled)
	return nil
}
