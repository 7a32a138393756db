package access

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/regkit/regkit/registry"
)

// Namespace is the registry.State namespace the access model is stored in.
//
//	scopemap/NAME             a user-defined scope map (JSON scopeMapRecord)
//	token/NAME                a token with its password hashes (JSON tokenRecord)
//	admin                     the admin user (JSON adminRecord), when set
//	anonymous-pull-enabled    "true" when anonymous pull is on
//
// NAME is the lower-cased name: names are unique without regard to case.
const Namespace = "access"

const (
	keyScopeMap  = "scopemap/"
	keyToken     = "token/"
	keyAdmin     = "admin"
	keyAnonymous = "anonymous-pull-enabled"
)

// state is the whole access model as stored, read in one transaction; a
// write changes it in memory and records which keys to write.
type state struct {
	scopeMaps map[string]*scopeMapRecord
	tokens    map[string]*tokenRecord
	admin     *adminRecord
	anonymous bool

	puts map[string]any
	dels map[string]bool
}

func newState() *state {
	return &state{scopeMaps: map[string]*scopeMapRecord{}, tokens: map[string]*tokenRecord{}}
}

// load reads the whole model.
func load(tx registry.StateTx) (*state, error) {
	st := newState()
	var derr error
	decode := func(k string, v []byte, into any) bool {
		if err := json.Unmarshal(v, into); err != nil {
			derr = fmt.Errorf("access: corrupt record %q: %w: %w", k, registry.ErrUnavailable, err)
			return false
		}
		return true
	}
	err := tx.Scan("", func(k string, v []byte) bool {
		switch {
		case strings.HasPrefix(k, keyScopeMap):
			rec := &scopeMapRecord{}
			if !decode(k, v, rec) {
				return false
			}
			st.scopeMaps[strings.TrimPrefix(k, keyScopeMap)] = rec
		case strings.HasPrefix(k, keyToken):
			rec := &tokenRecord{}
			if !decode(k, v, rec) {
				return false
			}
			st.tokens[strings.TrimPrefix(k, keyToken)] = rec
		case k == keyAdmin:
			rec := &adminRecord{}
			if !decode(k, v, rec) {
				return false
			}
			st.admin = rec
		case k == keyAnonymous:
			if !decode(k, v, &st.anonymous) {
				return false
			}
		}
		return true
	})
	if derr != nil {
		return nil, derr
	}
	return st, err
}

// flush writes the changes recorded since load.
func (st *state) flush(tx registry.StateTx) error {
	for _, k := range slices.Sorted(maps.Keys(st.dels)) {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(st.puts)) {
		b, err := json.Marshal(st.puts[k])
		if err != nil {
			return fmt.Errorf("access: encode %s: %w: %w", k, registry.ErrInvalid, err)
		}
		if err := tx.Put(k, b); err != nil {
			return err
		}
	}
	return nil
}

func (st *state) put(k string, v any) {
	if st.puts == nil {
		st.puts, st.dels = map[string]any{}, map[string]bool{}
	}
	delete(st.dels, k)
	st.puts[k] = v
}

func (st *state) del(k string) {
	if st.puts == nil {
		st.puts, st.dels = map[string]any{}, map[string]bool{}
	}
	delete(st.puts, k)
	st.dels[k] = true
}

func (st *state) putScopeMap(rec *scopeMapRecord) {
	st.scopeMaps[nameKey(rec.Name)] = rec
	st.put(keyScopeMap+nameKey(rec.Name), rec)
}

func (st *state) deleteScopeMap(k string) {
	delete(st.scopeMaps, k)
	st.del(keyScopeMap + k)
}

func (st *state) putToken(rec *tokenRecord) {
	st.tokens[nameKey(rec.Name)] = rec
	st.put(keyToken+nameKey(rec.Name), rec)
}

func (st *state) deleteToken(k string) {
	delete(st.tokens, k)
	st.del(keyToken + k)
}

func (st *state) setAdmin(rec *adminRecord) {
	st.admin = rec
	if rec == nil {
		st.del(keyAdmin)
		return
	}
	st.put(keyAdmin, rec)
}

func (st *state) setAnonymous(on bool) {
	st.anonymous = on
	st.put(keyAnonymous, on)
}

// view is the in-memory model Authenticate and Allowed read: a state as
// committed, never changed after it is published, with every scope map
// compiled.
type view struct {
	state *state
	// matchers holds the compiled user-defined and system scope maps, by
	// lower-cased name.
	matchers map[string]*matcher
	// system holds the system scope maps by lower-cased name.
	system map[string]ScopeMap
}

func newView(st *state) *view {
	v := &view{state: st, matchers: map[string]*matcher{}, system: map[string]ScopeMap{}}
	for _, m := range systemMaps() {
		v.system[nameKey(m.Name)] = m
		v.matchers[nameKey(m.Name)] = newMatcher(m.Rules)
	}
	for k, rec := range st.scopeMaps {
		v.matchers[k] = newMatcher(rec.Rules)
	}
	return v
}

// write runs fn on the model as stored, in one transaction, writes what it
// changed and publishes the result to Authenticate and Allowed before it
// returns. Writes of one Service run one at a time.
func (s *Service) write(ctx context.Context, fn func(st *state) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var final *state
	err := s.st.Update(ctx, func(tx registry.StateTx) error {
		st, err := load(tx)
		if err != nil {
			return err
		}
		if err := fn(st); err != nil {
			return err
		}
		final = st
		return st.flush(tx)
	})
	if err != nil {
		return err
	}
	final.puts, final.dels = nil, nil
	s.view.Store(newView(final))
	return nil
}

// Reload rereads the access model from the metadata store. A Service sees
// every change made through it at once; when other processes change the
// model in a store they share (registry.WithSharedStore), call Reload as
// often as the Registry refreshes its settings, so that a token created,
// disabled or narrowed elsewhere is in force here within that interval.
func (s *Service) Reload(ctx context.Context) error { return s.reload(ctx) }

// reload reads the model from the store and publishes it.
func (s *Service) reload(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var st *state
	err := s.st.View(ctx, func(tx registry.StateTx) error {
		var err error
		st, err = load(tx)
		return err
	})
	if err != nil {
		return err
	}
	s.view.Store(newView(st))
	return nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
