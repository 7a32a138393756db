package registry

import (
	"context"
	"errors"
)

// healthReporter is the optional interface of a store that can fail as a
// whole (meta.HealthReporter; a blob.Storage may implement it too).
type healthReporter interface{ Health() error }

// Health reports whether the registry serves reads and writes. It returns
// nil when it does, and otherwise an error wrapping ErrUnavailable and its
// cause: the registry is closed or closing, or a store went read-only or
// failed (a failed flush to disk, a failed checkpoint). Hosts call it from
// their health checks; registryd's /healthz answers 503 with its message.
func (r *Registry) Health(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case r.closed.Load():
		return errClosed
	case r.gate.closing():
		return errorf(ErrUnavailable, "closing")
	}
	var errs []error
	for _, s := range []any{r.meta, r.blobs} {
		if h, ok := s.(healthReporter); ok {
			if err := h.Health(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	err := errors.Join(errs...)
	if !errors.Is(err, ErrUnavailable) {
		return errorf(err, "store unhealthy: %w", ErrUnavailable)
	}
	return err
}
