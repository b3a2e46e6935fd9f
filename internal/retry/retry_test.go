package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDo(t *testing.T) {
	fast := Policy{Initial: time.Microsecond, Max: time.Microsecond}
	boom := errors.New("boom")

	f := func(name string, p Policy, results []error, wantCalls int, want func(error) bool) {
		t.Helper()
		calls := 0
		err := Do(context.Background(), p, func(context.Context) error {
			calls++
			if calls > len(results) {
				return nil
			}
			return results[calls-1]
		})
		if calls != wantCalls || !want(err) {
			t.Errorf("%s: %d calls, err %v; want %d calls", name, calls, err, wantCalls)
		}
	}
	isNil := func(err error) bool { return err == nil }
	f("succeeds at once", fast, nil, 1, isNil)
	f("succeeds on the third call", fast, []error{boom, boom}, 3, isNil)
	f("permanent stops at once", fast, []error{boom, Permanent(boom), boom}, 2,
		func(err error) bool { return IsPermanent(err) && errors.Is(err, boom) })
	limited := fast
	limited.MaxAttempts = 3
	f("gives up after MaxAttempts", limited, []error{boom, boom, boom, boom}, 3,
		func(err error) bool { return errors.Is(err, ErrExhausted) && errors.Is(err, boom) })
}

func TestDoStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Do(ctx, Policy{Initial: time.Hour, Max: time.Hour}, func(context.Context) error {
		calls++
		cancel() // the wait that follows must end with ctx, not after an hour
		return errors.New("down")
	})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("got %v after %d calls, want context.Canceled after 1", err, calls)
	}
}

func TestBackoffGrowsAndHonoursAfter(t *testing.T) {
	var waits []time.Duration
	p := Policy{Initial: time.Microsecond, Max: 4 * time.Microsecond, Jitter: -1,
		OnRetry: func(_ int, w time.Duration, _ error) { waits = append(waits, w) }}
	n := 0
	Do(context.Background(), p, func(context.Context) error {
		n++
		switch n {
		case 5:
			return After(errors.New("429"), 3*time.Microsecond)
		case 6:
			return After(errors.New("429"), time.Hour) // capped at Max
		case 7:
			return nil
		}
		return errors.New("503")
	})
	want := []time.Duration{1000, 2000, 4000, 4000, 3000, 4000}
	if len(waits) != len(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", waits, want)
		}
	}
}

func TestJitterStaysInRange(t *testing.T) {
	p := Policy{Initial: time.Second, Jitter: 0.5}.withDefaults()
	for range 1000 {
		if w := p.jittered(time.Second); w < 500*time.Millisecond || w > time.Second {
			t.Fatalf("jittered wait %v outside [0.5s, 1s]", w)
		}
	}
}

func TestPermanentNil(t *testing.T) {
	if Permanent(nil) != nil || After(nil, time.Second) != nil {
		t.Fatal("wrapping nil must give nil")
	}
}
