package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
)

// benchRegistry returns a registry with n tagged images in repository
// "bench", all 40 days old; its clock then says remoteNow.
func benchRegistry(b *testing.B, n int) *registry.Registry {
	b.Helper()
	at := remoteNow.Add(-40 * day)
	reg, err := registry.NewMemory(registry.WithClock(func() time.Time { return at }))
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		pushSeeded(b, reg, "bench", "t"+strconv.Itoa(i), "bench-"+strconv.Itoa(i))
	}
	at = remoteNow // the purge evaluates now
	return reg
}

// BenchmarkPurgeRemote deletes 500 tags and their manifests with
// Registry.Purge (local) and with regadm -registry over HTTP (remote), in
// the same run.
func BenchmarkPurgeRemote(b *testing.B) {
	const n = 500
	p := policy.Purge{Filters: []string{"bench:.*"}, Ago: "30d", Untagged: true}
	b.Run("local", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			reg := benchRegistry(b, n)
			b.StartTimer()
			res, err := reg.Purge(context.Background(), policy.Policy{Purge: &p}, registry.PurgeOptions{})
			if err != nil || len(res.Deleted) != 2*n {
				b.Fatalf("deleted %d: %v", len(res.Deleted), err)
			}
			b.StopTimer()
			_ = reg.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "manifests/s")
	})
	b.Run("remote", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			reg := benchRegistry(b, n)
			srv := httptest.NewServer(httpapi.New(reg))
			b.StartTimer()
			var out, errb bytes.Buffer
			e := &env{stdout: &out, stderr: &errb, now: func() time.Time { return remoteNow }, client: srv.Client(), dockerConfigSet: true}
			if code := runEnv(context.Background(), e, append([]string{"-registry", srv.URL, "purge"}, purgeArgs(p)...)); code != exitOK {
				b.Fatalf("exit %d: %s", code, errb.String())
			}
			b.StopTimer()
			srv.Close()
			_ = reg.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "manifests/s")
	})
}
