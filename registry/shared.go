package registry

import (
	"context"
	"encoding/json"
	"time"

	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
)

// DefaultSharedRefresh is how often a Registry made WithSharedStore rereads
// the settings it holds in memory, when the option's interval is 0.
const DefaultSharedRefresh = 5 * time.Second

// WithSharedStore declares that other Registries, frontends in other
// processes or on other hosts, write the same metadata store (as with
// registry/meta/postgres). The Registry then keeps no cache that only its
// own commits would invalidate: the manifest cache is off, whatever
// WithManifestCache says, and the settings it holds in memory for every
// operation (soft delete, lock rules, cache rules) are reread every refresh
// (DefaultSharedRefresh when 0), so a change made through another frontend
// is in force here within that interval. Settings read inside an
// operation's own transaction (retention, stored policies, the deleted-item
// listings) need no refresh. A host's access model (registry/access) keeps
// its own view: call its Reload as often.
func WithSharedStore(refresh time.Duration) Option {
	return func(o *options) {
		o.shared = true
		o.sharedRefresh = refresh
		if refresh == 0 {
			o.sharedRefresh = DefaultSharedRefresh
		}
	}
}

// sharedSettings are the stored settings a Registry holds in memory, as
// the raw JSON last read, so a refresh reloads only what changed.
type sharedSettings struct {
	softDelete, lockRules, cacheRules string
}

func (r *Registry) readSharedSettings(ctx context.Context) (sharedSettings, error) {
	var s sharedSettings
	err := r.meta.View(ctx, func(tx meta.Tx) error {
		for _, x := range []struct {
			name string
			dst  *string
		}{{softDeleteSetting, &s.softDelete}, {lockRulesSetting, &s.lockRules}, {cacheRulesSetting, &s.cacheRules}} {
			var raw json.RawMessage
			if _, err := schema.Settings.Get(tx, x.name, &raw); err != nil {
				return err
			}
			*x.dst = string(raw)
		}
		return nil
	})
	return s, err
}

// refreshSettings rereads the settings held in memory and reloads those
// another writer of the store changed since the last refresh (or since
// New). A setting changed through this Registry is reloaded once more,
// which changes nothing.
func (r *Registry) refreshSettings(ctx context.Context) error {
	r.settingsMu.Lock()
	defer r.settingsMu.Unlock()
	now, err := r.readSharedSettings(ctx)
	if err != nil {
		return err
	}
	if now.softDelete != r.sharedSeen.softDelete {
		if err := r.loadSoftDeletePolicy(ctx); err != nil {
			return err
		}
	}
	if now.lockRules != r.sharedSeen.lockRules {
		if err := r.loadLockRules(ctx); err != nil {
			return err
		}
	}
	if now.cacheRules != r.sharedSeen.cacheRules {
		if err := r.loadCacheRules(ctx); err != nil {
			return err
		}
	}
	r.sharedSeen = now
	return nil
}
