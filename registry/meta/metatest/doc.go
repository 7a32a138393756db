// Package metatest is the conformance suite for [meta.Store]
// implementations. Every backend runs it in one line:
//
//	func TestConformance(t *testing.T) {
//		metatest.Run(t, func(t *testing.T) meta.Store { return memory.New() })
//	}
//
// A durable backend runs [RunPersistent] instead, which adds reopening the
// same storage after Close, also after a Close called twice at once while
// writers commit. [Benchmark] measures the operations the
// registry's performance figures rest on.
//
// The suite pins down what the [meta] documentation leaves to words: bytewise
// key order (0x00 and 0xff bytes included), half-open ranges with empty
// bounds open, read-your-writes inside Update (Scan included), atomic
// rollback, snapshot reads, serializable read-modify-write, the ErrInvalid,
// ErrNotFound and ErrUnavailable classes, context cancellation, and, for a
// store that implements [meta.HealthReporter], Health before and after Close. It uses
// only the interface, so a passing backend is interchangeable with the
// others as far as the registry can tell.
package metatest
