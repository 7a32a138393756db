package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// sizeFlag is a byte count given as a flag with a unit suffix (KiB, MiB, GiB, KB, MB, GB, B).
type sizeFlag int64

// String prints the size in the largest binary unit that divides it.
func (s *sizeFlag) String() string { return formatSize(int64(*s)) }

// Set parses a size such as 512MiB, 16MiB, 1KiB, 100MB or 4096.
func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30},
	{"B", 1},
}

func parseSize(v string) (int64, error) {
	v = strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(v, u.suffix) {
			v, mult = strings.TrimSpace(strings.TrimSuffix(v, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", v)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q too large", v)
	}
	return n * mult, nil
}

func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// stream is an endless, deterministic pseudo-random byte stream: the same seed gives
// the same bytes however they are read. It runs a splitmix64 generator, which fills
// memory at several GB/s on one core, far above what a registry ingests, so it never
// limits a measurement. It is not for anything secret.
type stream struct {
	state uint64
	buf   [64 << 10]byte
	off   int // next unread byte in buf; len(buf) means empty
}

// newStream returns the stream for seed.
func newStream(seed uint64) *stream {
	s := &stream{state: seed ^ 0x9e3779b97f4a7c15}
	s.off = len(s.buf)
	return s
}

func (s *stream) refill() {
	x := s.state
	for i := 0; i < len(s.buf); i += 8 {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		binary.LittleEndian.PutUint64(s.buf[i:], z^(z>>31))
	}
	s.state = x
	s.off = 0
}

// Read fills p with the next bytes of the stream; it never fails.
func (s *stream) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if s.off == len(s.buf) {
			s.refill()
		}
		c := copy(p[n:], s.buf[s.off:])
		s.off += c
		n += c
	}
	return n, nil
}

// payload returns a reader of the first size bytes of the stream for seed.
func payload(seed uint64, size int64) io.Reader {
	return io.LimitReader(newStream(seed), size)
}

// maxInMemory is the largest payload pushblob generates ahead into memory.
const maxInMemory = 4 << 30

// payloadBytes returns the first size bytes of the stream for seed in memory, or nil
// when size is above maxInMemory. Generating ahead keeps the generator's CPU out of
// the timed push.
func payloadBytes(seed uint64, size int64) []byte {
	if size > maxInMemory {
		return nil
	}
	b := make([]byte, size)
	newStream(seed).Read(b)
	return b
}

// hashResult is the sha256 digest of a payload and how long hashing alone took.
type hashResult struct {
	digest   string        // "sha256:<hex>"
	hashTime time.Duration // time spent in sha256 only, on one goroutine
	genTime  time.Duration // time spent producing the bytes
}

// hashPayload digests the payload for seed and size on the calling goroutine, timing
// the hashing apart from the generation: the hashing time is the single-core sha256
// cost of exactly the bytes that are pushed.
func hashPayload(seed uint64, size int64) hashResult {
	h := sha256.New()
	src := newStream(seed)
	buf := make([]byte, 1<<20)
	var res hashResult
	for left := size; left > 0; {
		n := int64(len(buf))
		if left < n {
			n = left
		}
		t0 := time.Now()
		src.Read(buf[:n])
		t1 := time.Now()
		h.Write(buf[:n])
		res.hashTime += time.Since(t1)
		res.genTime += t1.Sub(t0)
		left -= n
	}
	res.digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return res
}

// digestOf returns the sha256 digest string of b.
func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
