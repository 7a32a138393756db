package policy

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/regkit/regkit/tag"
)

// benchSnapshots builds repository number r with tags tags, two tags per
// manifest, with times spread over 100 days.
func benchSnapshots(r, tags int) *Snapshot {
	{
		s := Snapshot{Repository: fmt.Sprintf("team%d/app%d", r%10, r), Attributes: tag.DefaultAttributes()}
		for m := range tags / 2 {
			s.Manifests = append(s.Manifests, Manifest{Digest: dg(fmt.Sprintf("%d/%d", r, m)), CreatedAt: daysAgo(float64(m % 100)), Attributes: tag.DefaultAttributes()})
		}
		for i := range tags {
			m := &s.Manifests[i/2]
			s.Tags = append(s.Tags, Tag{Name: fmt.Sprintf("v1.%d.%d", i, r), Digest: m.Digest, CreatedAt: daysAgo(float64(i % 100)), Attributes: tag.DefaultAttributes()})
		}
		return &s
	}
}

// BenchmarkEvaluate1M evaluates acr purge's common rule (every tag but
// latest, older than 30 days, keep 5, untagged too) over one million tags
// in 1000 repositories, the figure of docs/PERFORMANCE.md. As in
// Registry.Purge, one repository's snapshot is held at a time; building it
// (the registry's read) is not counted in s-evaluating/op.
func BenchmarkEvaluate1M(b *testing.B) {
	e := mustCompile(b, Policy{Purge: &Purge{Filters: []string{"team.*:^(?!latest$).*"}, Ago: "30d", Keep: 5, Untagged: true}})
	deleted := 0
	var spent time.Duration
	for range b.N {
		deleted = 0
		for r := range 1000 {
			snap := benchSnapshots(r, 1000)
			// Timed by hand: b.StopTimer reads MemStats, stopping the
			// world 2000 times per run.
			start := time.Now()
			p := e.Evaluate(snap, t0)
			spent += time.Since(start)
			t, m := p.Counts()
			deleted += t + m
		}
	}
	b.StopTimer()
	b.ReportMetric(spent.Seconds()/float64(b.N), "s-evaluating/op")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(deleted), "deletions")
	// The heap the process holds from the OS at the end: the high-water
	// mark of one repository's snapshot, its plan and the garbage between
	// collections.
	b.ReportMetric(float64(ms.HeapSys-ms.HeapReleased)/(1<<20), "MiB-heap-held")
}
