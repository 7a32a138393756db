package access

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// benchService has a scope map of 100 exact and 20 wildcard rules, 1,000
// tokens on it, and one password with the default (production) argon2id
// parameters.
func benchService(b *testing.B) (*Service, string) {
	ctx := context.Background()
	s, _ := newService(b, WithHashParams(DefaultHashParams))
	var rs []Rule
	for i := range 100 {
		rs = append(rs, Rule{Repository: fmt.Sprintf("team%d/app", i), Actions: []Action{ContentRead, ContentWrite}})
	}
	for i := range 20 {
		rs = append(rs, Rule{Repository: fmt.Sprintf("team%d/*", i), Actions: []Action{MetadataRead}})
	}
	if _, err := s.CreateScopeMap(ctx, ScopeMap{Name: "bench-map", Rules: rs}); err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		if _, err := s.CreateToken(ctx, fmt.Sprintf("token-%04d", i), "bench-map", ""); err != nil {
			b.Fatal(err)
		}
	}
	pw, err := s.GeneratePassword(ctx, "token-0500", Password1, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	return s, pw
}

func BenchmarkAuthenticate(b *testing.B) {
	s, pw := benchService(b)
	ctx := context.Background()
	b.Run("cached", func(b *testing.B) {
		if _, err := s.Authenticate(ctx, "token-0500", pw); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Authenticate(ctx, "token-0500", pw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Authenticate(ctx, "token-0500", pw); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.cache.remove(s.cacheKey("token-0500", pw))
			if _, err := s.Authenticate(ctx, "token-0500", pw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAllowed(b *testing.B) {
	s, _ := benchService(b)
	ctx := context.Background()
	for _, repo := range []string{"team7/app", "team7/sub/deep/repo", "nowhere"} {
		b.Run(repo, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Allowed(ctx, "token:token-0500", repo); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
