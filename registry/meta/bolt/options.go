package bolt

import (
	"log/slog"
	"math"
	"os"
	"runtime"
	"time"
)

// Option configures [Open].
type Option func(*config)

type config struct {
	timeout         time.Duration
	mode            os.FileMode
	noSync          bool
	log             bool
	checkpointBytes int64
	maxPending      int64
	mmapSize        int
	logger          *slog.Logger

	// Seams for the tests of this package; see faultfs_test.go.
	fs    fileSystem
	hooks hooks
}

// hooks are called at points tests need to reach; all may be nil.
type hooks struct {
	// checkpoint runs inside each checkpoint's bbolt transaction, before the
	// applied mark is written; an error fails the checkpoint.
	checkpoint func() error
	// blocked runs when an Update starts to wait for a checkpoint because
	// the in-memory layer is over WithMaxPendingBytes.
	blocked func()
}

// defaultConfig returns the options Open starts from.
func defaultConfig() config {
	return config{
		timeout:  time.Second,
		mode:     0o600,
		mmapSize: defaultMmapSize(),
		fs:       osFS{},
	}
}

// defaultMmapSize is the default of [WithInitialMmapSize]: 1 GiB of address
// space where that is cheap (64-bit, and a map larger than the file costs
// nothing), and bbolt's default elsewhere. On Windows bbolt grows the file
// to the map's size, so a large map would be a large file.
func defaultMmapSize() int {
	if runtime.GOOS == "windows" || math.MaxInt == math.MaxInt32 {
		return 0
	}
	return 1 << 30
}

// WithTimeout sets how long Open waits for the file lock that another open
// Store (in this process or another) holds. The default is one second; zero
// waits forever.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithFileMode sets the permissions of a file Open creates. The default is
// 0o600.
func WithFileMode(mode os.FileMode) Option {
	return func(c *config) { c.mode = mode }
}

// WithNoSync skips fsync on commit. Commits become much cheaper, but a crash
// of the machine (not only of the process) may lose or corrupt recent
// transactions. Use it for tests and benchmarks, never for data you keep.
func WithNoSync() Option {
	return func(c *config) { c.noSync = true }
}

// WithLog puts a write-ahead log in front of the file: an Update appends its
// changes to a log segment next to the file ("<path>.wal.<n>") with one
// write and one fdatasync, and keeps them in memory, where reads find them;
// a background checkpoint applies them to the file in one bbolt transaction
// once the segment reaches [WithCheckpointBytes], and Close applies the
// rest. A commit then costs one small append and one flush instead of
// bbolt's page writes and two flushes; durability is unchanged (see the
// package documentation). Without WithLog, Open still replays the segments
// a store with the log left behind, then removes them.
func WithLog() Option {
	return func(c *config) { c.log = true }
}

// WithCheckpointBytes sets the segment size at which [WithLog] starts a
// checkpoint (default 4 MiB). The changes not yet checkpointed stay in
// memory, about this size plus [WithMaxPendingBytes] at most, and are
// replayed from the log by the next Open after a crash.
func WithCheckpointBytes(n int64) Option {
	return func(c *config) { c.checkpointBytes = n }
}

// WithMaxPendingBytes bounds the in-memory layer of [WithLog] while a
// checkpoint runs: once the changes committed since the checkpoint started
// reach n bytes of log records, Updates wait for the checkpoint to end, so
// memory does not grow with write rate times checkpoint time. The default,
// and the value for n <= 0, is four times [WithCheckpointBytes]. An Update
// waiting here notices its context only when it runs.
func WithMaxPendingBytes(n int64) Option {
	return func(c *config) { c.maxPending = n }
}

// WithInitialMmapSize sets the size, in bytes, of bbolt's first memory map
// of the file. bbolt remaps when the file outgrows its map, and a remap
// waits for every open read transaction while blocking new ones; a map
// larger than the file from the start avoids that until the file reaches
// it. The map is address space, not memory. The default is 1 GiB on 64-bit
// systems other than Windows, where bbolt would grow the file to the map's
// size, and bbolt's own (no initial map) there and on 32-bit systems;
// n <= 0 also selects bbolt's own.
func WithInitialMmapSize(n int) Option {
	return func(c *config) { c.mmapSize = max(n, 0) }
}

// WithLogger sets where the store reports what no caller sees the error of:
// a failed background checkpoint, the store becoming read-only, a spare log
// segment that could not be prepared. The default is [slog.Default]; pass
// slog.New(slog.DiscardHandler) to silence it. [Store.Health] reports the
// same state.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// withFS makes the log write through fsys (fault injection in tests).
func withFS(fsys fileSystem) Option {
	return func(c *config) { c.fs = fsys }
}

// withHooks sets the test hooks.
func withHooks(h hooks) Option {
	return func(c *config) { c.hooks = h }
}
