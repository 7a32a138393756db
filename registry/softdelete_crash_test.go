package registry

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// The soft-delete crash test: as the crash test (crash_test.go), a child
// process pushes, soft-deletes, untags, restores and expires against the
// embedded default with soft delete on, reporting each operation before
// ("try") and after ("ack") it commits, and the parent SIGKILLs it at random
// moments. After each kill the registry must pass Check (which finds a
// manifest both live and deleted, the bytes of one neither, and any
// reference count off by a half-done move) and hold exactly the
// acknowledged live and deleted manifests and tags, give or take the
// operation in flight; an expiry in flight may have purged any part of
// what was due, each item wholly.

const softCrashEnv = "REGKIT_REGISTRY_SOFT_CRASH_DIR"

// softCrashClock is the child's clock: the wall clock plus an offset kept
// in a file of dir, which an expiry raises by two days (beyond the one-day
// window) before it runs, so that everything deleted before is due.
type softCrashClock struct {
	path   string
	offset time.Duration
}

func (c *softCrashClock) now() time.Time { return time.Now().Add(c.offset) }

func (c *softCrashClock) advance() error {
	c.offset += 2 * day
	return os.WriteFile(c.path, []byte(strconv.FormatInt(int64(c.offset), 10)), 0o600)
}

func TestSoftDeleteCrashChild(t *testing.T) {
	dir := os.Getenv(softCrashEnv)
	if dir == "" {
		t.Skip("runs only as the soft-delete crash test's child process")
	}
	ctx := context.Background()
	clk := &softCrashClock{path: filepath.Join(dir, "clock-offset")}
	if b, err := os.ReadFile(clk.path); err == nil {
		n, _ := strconv.ParseInt(string(b), 10, 64)
		clk.offset = time.Duration(n)
	}
	r, err := Open(filepath.Join(dir, "reg"), WithClock(clk.now), WithSoftDeleteSweepInterval(0), WithSweepInterval(0))
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(3)
	}
	if _, err := r.SetSoftDelete(ctx, true, 1); err != nil {
		fmt.Println("set soft delete failed:", err)
		os.Exit(3)
	}
	out := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	fail := func(err error) {
		say("err %v", err)
		os.Exit(4)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	for {
		repo := repoOf(t, r, fmt.Sprintf("crash/r%d", rng.IntN(2)))
		tg := fmt.Sprintf("t%d", rng.IntN(5))
		switch op := rng.IntN(12); {
		case op < 4:
			img := buildImage(t, repo, 1+rng.IntN(2), nil)
			say("try put %s %s %s", repo.Name(), tg, img.desc.Digest)
			if _, err := repo.Manifests().Put(ctx, img.bytes, PutOptions{MediaType: img.desc.MediaType, Tag: tg}); err != nil {
				fail(err)
			}
		case op < 7:
			ms, _ := repo.Manifests().List(ctx, ListOptions{})
			if len(ms) == 0 {
				continue
			}
			d := ms[rng.IntN(len(ms))].Digest
			say("try del %s - %s", repo.Name(), d)
			if err := repo.Manifests().Delete(ctx, d); err != nil {
				fail(err)
			}
		case op < 8:
			p, err := repo.Tags().Properties(ctx, tg)
			if err != nil {
				continue
			}
			say("try untag %s %s %s", repo.Name(), tg, p.Digest)
			if err := repo.Tags().Untag(ctx, tg); err != nil {
				fail(err)
			}
		case op < 11:
			dms, _, _ := repo.DeletedManifests(ctx, DeletedListOptions{N: 1000})
			if len(dms) == 0 {
				continue
			}
			d := dms[rng.IntN(len(dms))].Digest
			// A tag of its own, so the restore never meets a taken one.
			rt := fmt.Sprintf("r%d", rng.Uint32())
			say("try restore %s %s %s", repo.Name(), rt, d)
			if _, err := repo.Restore(ctx, RestoreOptions{Digest: d, Tag: rt}); err != nil {
				fail(err)
			}
		default:
			if err := clk.advance(); err != nil {
				fail(err)
			}
			say("try expire - - -")
			if _, err := r.ExpireDeleted(ctx); err != nil {
				fail(err)
			}
		}
		say("ack")
	}
}

// softModel is the state the acknowledged operations produce.
type softModel struct {
	tags    map[string]digest.Digest // "repo:tag" -> digest
	live    map[string]bool          // "repo@digest"
	deleted map[string]bool          // "repo@digest", soft-deleted
}

func (m softModel) clone() softModel {
	return softModel{tags: maps.Clone(m.tags), live: maps.Clone(m.live), deleted: maps.Clone(m.deleted)}
}

func (m softModel) apply(op, repo, tg string, d digest.Digest) {
	key := repo + "@" + d.String()
	switch op {
	case "put":
		m.live[key] = true
		m.tags[repo+":"+tg] = d
	case "del":
		delete(m.live, key)
		m.deleted[key] = true
		for k, v := range m.tags {
			if v == d && strings.HasPrefix(k, repo+":") {
				delete(m.tags, k)
			}
		}
	case "untag":
		delete(m.tags, repo+":"+tg)
	case "restore":
		delete(m.deleted, key)
		m.live[key] = true
		m.tags[repo+":"+tg] = d
	case "expire":
		clear(m.deleted)
	}
}

func TestSoftDeleteCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns and kills child processes")
	}
	dir := t.TempDir()
	model := softModel{tags: map[string]digest.Digest{}, live: map[string]bool{}, deleted: map[string]bool{}}
	ops := map[string]int{}
	for round := 0; round < 8; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSoftDeleteCrashChild$")
		cmd.Env = append(os.Environ(), softCrashEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(time.Duration(400+rand.IntN(800))*time.Millisecond, func() {
			cmd.Process.Signal(syscall.SIGKILL)
		})
		sc := bufio.NewScanner(stdout)
		var inflight []string
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 5 && f[0] == "try":
				inflight = f[1:]
			case len(f) == 1 && f[0] == "ack" && inflight != nil:
				model.apply(inflight[0], inflight[1], inflight[2], digest.Digest(inflight[3]))
				ops[inflight[0]]++
				inflight = nil
			case len(f) > 0 && f[0] != "try" && f[0] != "ack":
				t.Fatalf("child failed: %s", sc.Text())
			}
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("child ended without the kill: %v", err)
		}
		got := softState(t, filepath.Join(dir, "reg"))
		alt := model.clone()
		if inflight != nil {
			alt.apply(inflight[0], inflight[1], inflight[2], digest.Digest(inflight[3]))
		}
		ok := sameSoft(got, model) || sameSoft(got, alt)
		if !ok && inflight != nil && inflight[0] == "expire" {
			// Part of what was due may be gone: each item wholly.
			ok = maps.Equal(got.tags, model.tags) && maps.Equal(got.live, model.live)
			for k := range got.deleted {
				ok = ok && model.deleted[k]
			}
		}
		if !ok {
			t.Fatalf("round %d: state matches neither the acknowledged changes nor them plus the in-flight %v\ngot  %v\nwant %v", round, inflight, got, model)
		}
		model = got
	}
	t.Logf("acknowledged operations: %v", ops)
	if ops["del"] == 0 || ops["restore"] == 0 {
		t.Fatal("the child deleted or restored nothing; the test proved nothing")
	}
}

// softState opens the registry in dir, checks it and reads its live and
// deleted state; every manifest, live or deleted, reads back whole.
func softState(t *testing.T, dir string) softModel {
	t.Helper()
	ctx := context.Background()
	r, err := Open(dir, WithSoftDeleteSweepInterval(0), WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rep, err := r.Check(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("registry inconsistent after crash: %v %v", err, rep.Problems)
	}
	m := softModel{tags: map[string]digest.Digest{}, live: map[string]bool{}, deleted: map[string]bool{}}
	for _, name := range []string{"crash/r0", "crash/r1"} {
		repo := repoOf(t, r, name)
		tags, err := repo.Tags().ListProperties(ctx, ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tp := range tags {
			m.tags[name+":"+tp.Name] = tp.Digest
		}
		ms, err := repo.Manifests().List(ctx, ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, mp := range ms {
			m.live[name+"@"+mp.Digest.String()] = true
			got, err := repo.Manifests().Get(ctx, mp.Digest.String(), GetOptions{})
			if err != nil || digest.FromBytes(got.Bytes) != mp.Digest {
				t.Fatalf("manifest %s unreadable after crash: %v", mp.Digest, err)
			}
		}
		dms, _, err := repo.DeletedManifests(ctx, DeletedListOptions{N: 100000})
		if err != nil {
			t.Fatal(err)
		}
		for _, dm := range dms {
			m.deleted[name+"@"+dm.Digest.String()] = true
		}
	}
	return m
}

func sameSoft(a, b softModel) bool {
	return maps.Equal(a.tags, b.tags) && maps.Equal(a.live, b.live) && maps.Equal(a.deleted, b.deleted)
}
