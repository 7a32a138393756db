package errdef

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// TestNew: a sentinel from New matches itself and its class, keeps both
// through %w, and has type error, so no package's exported sentinel shows
// this internal package's type.
func TestNew(t *testing.T) {
	if got := reflect.TypeOf(New).Out(0); got != reflect.TypeFor[error]() {
		t.Errorf("New returns %v, want error", got)
	}
	for _, class := range Classes() {
		s := New("specific", class)
		wrapped := fmt.Errorf("pkg: doing x: %w: %w", errors.New("cause"), s)
		if !errors.Is(wrapped, s) || !errors.Is(wrapped, class) || Class(wrapped) != class {
			t.Errorf("%v: wrapped sentinel matches itself %v, its class %v, Class = %v",
				class, errors.Is(wrapped, s), errors.Is(wrapped, class), Class(wrapped))
		}
		if s.Error() != "specific" {
			t.Errorf("message %q", s.Error())
		}
	}
}

// TestClassOfFailure: a backend failure that wraps a cause of another class
// is ErrUnavailable.
func TestClassOfFailure(t *testing.T) {
	for _, class := range Classes() {
		cause := fmt.Errorf("decoding record: %w", class)
		err := fmt.Errorf("store: corrupt record: %w: %w", cause, ErrUnavailable)
		if got := Class(err); got != ErrUnavailable {
			t.Errorf("Class of a failure caused by %v = %v, want ErrUnavailable", class, got)
		}
		if got := Class(cause); got != class {
			t.Errorf("Class(%v) = %v", cause, got)
		}
	}
	if Class(errors.New("plain")) != nil {
		t.Error("Class of a plain error is not nil")
	}
}
