package policy

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/regkit/regkit/tag"
)

// benchSnapshots builds repos repositories of tags tags each, two tags per
// manifest, with times spread over 100 days.
func benchSnapshots(repos, tags int) []Snapshot {
	out := make([]Snapshot, repos)
	for r := range out {
		s := Snapshot{Repository: fmt.Sprintf("team%d/app%d", r%10, r), Attributes: tag.DefaultAttributes()}
		for m := range tags / 2 {
			s.Manifests = append(s.Manifests, Manifest{Digest: dg(fmt.Sprintf("%d/%d", r, m)), CreatedAt: daysAgo(float64(m % 100)), Attributes: tag.DefaultAttributes()})
		}
		for i := range tags {
			m := &s.Manifests[i/2]
			s.Tags = append(s.Tags, Tag{Name: fmt.Sprintf("v1.%d.%d", i, r), Digest: m.Digest, CreatedAt: daysAgo(float64(i % 100)), Attributes: tag.DefaultAttributes()})
		}
		out[r] = s
	}
	return out
}

// BenchmarkEvaluate1M evaluates acr purge's common rule (every tag but
// latest, older than 30 days, keep 5, untagged too) over one million tags
// in 1000 repositories, the figure of docs/PERFORMANCE.md.
func BenchmarkEvaluate1M(b *testing.B) {
	snaps := benchSnapshots(1000, 1000)
	e := mustCompile(b, Policy{Purge: &Purge{Filters: []string{"team.*:^(?!latest$).*"}, Ago: "30d", Keep: 5, Untagged: true}})
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	deleted, peak := 0, uint64(0)
	for b.Loop() {
		deleted = 0
		for i := range snaps {
			p := e.Evaluate(&snaps[i], t0)
			t, m := p.Counts()
			deleted += t + m
		}
	}
	b.StopTimer()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(deleted), "deletions")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "MiB-alloc/op")
	// The heap's high-water mark: the snapshots of every repository (held
	// at once here, where the registry holds one at a time) and the
	// garbage of the evaluations between collections.
	peak = after.HeapSys - after.HeapReleased
	b.ReportMetric(float64(peak)/(1<<20), "MiB-heap-peak")
	runtime.KeepAlive(snaps)
}
