package processor

import (
	"context"
	"fmt"
	"time"

	"github.com/shiplens/shiplens/internal/retry"
)

// writeReq is one owner's share of a write: its changed shipments, and where
// to report the outcome.
type writeReq struct {
	partition int
	facts     []Fact
	done      chan error
}

// writer merges the facts of all owners into few large inserts: ClickHouse
// pays a fixed cost per insert (a new part), so one insert of 8 owners' facts
// is far cheaper than 8 inserts. Each owner still commits its own offsets,
// after its request is acknowledged.
type writer struct {
	p    *Processor
	reqs chan writeReq
}

// write hands facts to the writer and waits until they are stored, ctx ends
// or the write fails permanently.
func (w *writer) write(ctx context.Context, partition int, facts []Fact) error {
	r := writeReq{partition: partition, facts: facts, done: make(chan error, 1)}
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		// The write may still land; that is harmless, as writes are
		// idempotent and the offsets stay uncommitted.
		return ctx.Err()
	}
}

// run collects requests for up to WriteDelay after the first one (or until
// FlushSize facts are waiting) and writes them in one batch, retrying with
// backoff while the sink fails. It returns when ctx ends.
func (w *writer) run(ctx context.Context) {
	var (
		pending []writeReq
		rows    int
		timer   *time.Timer
		fire    <-chan time.Time
	)
	flush := func() {
		facts := make([]Fact, 0, rows)
		for _, r := range pending {
			facts = append(facts, r.facts...)
		}
		t0 := time.Now()
		err := w.p.retry(ctx, "write facts", func(ctx context.Context) error { return w.p.sink.WriteFacts(ctx, facts) })
		w.p.cfg.Log.Debug("inserted facts", "rows", len(facts), "partitions", len(pending), "took", time.Since(t0), "err", err)
		if err == nil {
			w.p.metrics.written.Add(int64(len(facts)))
			w.p.metrics.inserts.Add(1)
			w.p.metrics.observeInsert(time.Since(t0))
		}
		for _, r := range pending {
			r.done <- err
		}
		pending, rows, fire = pending[:0], 0, nil
	}
	for {
		select {
		case r := <-w.reqs:
			pending = append(pending, r)
			rows += len(r.facts)
			if fire == nil {
				timer = time.NewTimer(w.p.cfg.WriteDelay)
				fire = timer.C
			}
			if rows >= w.p.cfg.FlushSize {
				timer.Stop()
				flush()
			}
		case <-fire:
			flush()
		case <-ctx.Done():
			for _, r := range pending {
				r.done <- ctx.Err()
			}
			return
		}
	}
}

// retry calls fn until it succeeds, ctx ends or fn fails permanently, backing
// off exponentially with jitter. While it waits the owners wait too and fetch
// nothing, which is the processor's backpressure on a slow or absent sink. A
// permanent failure stops the processor.
func (p *Processor) retry(ctx context.Context, what string, fn func(context.Context) error) error {
	err := retry.Do(ctx, retry.Policy{
		Initial: 100 * time.Millisecond,
		Max:     p.cfg.MaxBackoff,
		OnRetry: func(attempt int, wait time.Duration, err error) {
			p.metrics.retries.Add(1)
			p.cfg.Log.Warn("retrying after failure", "what", what, "attempt", attempt, "backoff", wait, "err", err)
			if p.cfg.OnRetry != nil {
				p.cfg.OnRetry(what, attempt, err)
			}
		},
	}, fn)
	if retry.IsPermanent(err) {
		err = fmt.Errorf("cannot %s: %w", what, err)
		p.fail(err)
	}
	return err
}
