// Package settle helps tests check that code under test leaves no goroutine
// behind: the count falls back only once the goroutines have run to their end,
// which may be shortly after the call that started them returned.
package settle
