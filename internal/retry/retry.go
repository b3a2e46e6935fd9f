// Package retry is shiplens' one retry loop: exponential backoff with full
// jitter, a cap, an optional attempt limit, and errors that say "retrying
// cannot help" (Permanent) or "retry after this long" (After). Every
// component that retries (the processor's writes, the poller's requests,
// waiting for ClickHouse to answer) goes through Do, so retryable versus fatal
// is decided in one place: the callee marks its error, Do obeys.
//
// It must not log or count by itself: callers see each retry through
// Policy.OnRetry.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Policy says how to retry.
type Policy struct {
	Initial     time.Duration // first backoff; defaults to 100ms
	Max         time.Duration // longest backoff; defaults to 10s
	MaxAttempts int           // calls in all, the first included; 0 retries until ctx ends
	// Jitter is the share of each backoff that is random, 0..1; defaults to
	// 0.5, so a fleet of clients that failed together does not retry together.
	// Use a negative value for none.
	Jitter float64
	// OnRetry, if set, is called before each wait with the failed attempt's
	// number (1-based), the wait and the error.
	OnRetry func(attempt int, wait time.Duration, err error)
}

func (p Policy) withDefaults() Policy {
	if p.Initial <= 0 {
		p.Initial = 100 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 10 * time.Second
	}
	if p.Max < p.Initial {
		p.Max = p.Initial
	}
	switch {
	case p.Jitter == 0:
		p.Jitter = 0.5
	case p.Jitter < 0:
		p.Jitter = 0
	case p.Jitter > 1:
		p.Jitter = 1
	}
	return p
}

// permanent marks an error that retrying cannot fix.
type permanent struct{ err error }

func (e *permanent) Error() string { return e.err.Error() }
func (e *permanent) Unwrap() error { return e.err }

// Permanent marks err as one that retrying cannot fix (bad SQL, a schema
// mismatch, a 401): Do returns it at once. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanent{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanent
	return errors.As(err, &p)
}

// afterError carries the wait a server asked for (HTTP Retry-After).
type afterError struct {
	err  error
	wait time.Duration
}

func (e *afterError) Error() string { return e.err.Error() }
func (e *afterError) Unwrap() error { return e.err }

// After marks err as retryable after wait, which replaces the computed backoff
// (still capped at Policy.Max).
func After(err error, wait time.Duration) error {
	if err == nil {
		return nil
	}
	return &afterError{err: err, wait: wait}
}

// ErrExhausted wraps the last error when MaxAttempts calls all failed.
var ErrExhausted = errors.New("gave up")

// Do calls fn until it returns nil, returns a Permanent error, ctx ends or
// MaxAttempts calls have failed. It returns nil, the permanent error, ctx's
// error, or the last error wrapped in ErrExhausted.
func Do(ctx context.Context, p Policy, fn func(ctx context.Context) error) error {
	p = p.withDefaults()
	backoff := p.Initial
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if IsPermanent(err) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if p.MaxAttempts > 0 && attempt >= p.MaxAttempts {
			return fmt.Errorf("%w after %d attempts: %w", ErrExhausted, attempt, err)
		}
		wait := p.jittered(backoff)
		var ae *afterError
		if errors.As(err, &ae) && ae.wait > 0 {
			wait = min(ae.wait, p.Max)
		}
		if p.OnRetry != nil {
			p.OnRetry(attempt, wait, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(backoff*2, p.Max)
	}
}

// jittered returns d with its Jitter share drawn uniformly from [0, share).
func (p Policy) jittered(d time.Duration) time.Duration {
	if p.Jitter == 0 {
		return d
	}
	fixed := time.Duration(float64(d) * (1 - p.Jitter))
	return fixed + rand.N(d-fixed+1)
}
