package processor

import (
	"context"
	"fmt"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/internal/retry"
)

// writeReq is one owner's share of a write: its changed shipments, the
// change of the aggregates and the partition's new position, and where to
// report the outcome.
type writeReq struct {
	partition int
	facts     []Fact
	days      *analytics.Days
	advance   analytics.Advance
	// preds, outs and progress are the partition's predictions, outcomes
	// and model progress (see etaOwner), written after the facts.
	preds    []eta.Record
	outs     []eta.Outcome
	progress uint32
	// alerts and notes are the partition's alert transitions and
	// notifications, published already (see publisher), stored last.
	alerts []alerts.Alert
	notes  []alerts.Notification
	// retried marks a request whose earlier write failed and may have
	// landed. It is written alone, so that the sink can tell from its
	// positions whether it did: an insert's positions move together.
	retried bool
	done    chan error
}

// writer merges the writes of all owners into few large inserts: ClickHouse
// pays a fixed cost per insert (a new part), so one insert of 8 owners'
// changes is far cheaper than 8 inserts. Each owner still commits its own
// offsets, after its request is acknowledged.
//
// A merged write first adds the aggregates' changes with every partition's
// new position, in one insert, then the shipment facts. That order is what
// a restart relies on: the facts never run ahead of the aggregates, and a
// crash between the two leaves aggregates ahead of the facts, which the
// next owner detects from the position and replays as facts only.
type writer struct {
	p    *Processor
	reqs chan *writeReq
}

// write hands a copy of r to the writer and waits until it is stored, ctx
// ends or the write fails permanently. A copy, because a request that ctx
// gave up on may still be pending in the writer when the owner sends it
// again, marked retried: both may then be written, which the positions make
// harmless (the second finds the first landed).
func (w *writer) write(ctx context.Context, r *writeReq) error {
	c := *r
	c.done = make(chan error, 1)
	select {
	case w.reqs <- &c:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		// The write may still land: the owner marks it unsure, and its
		// offsets stay uncommitted.
		return ctx.Err()
	}
}

// store writes the merged requests: the aggregates first; then, at once,
// the facts, predictions, outcomes, alerts and notifications; the ETA
// model progress last.
func (w *writer) store(ctx context.Context, reqs []*writeReq) error {
	var (
		facts    []Fact
		days     = &analytics.Days{}
		advances = make([]analytics.Advance, 0, len(reqs))
		retried  bool
	)
	for _, r := range reqs {
		facts = append(facts, r.facts...)
		if len(reqs) == 1 {
			days = r.days
		} else {
			days.Merge(r.days)
		}
		advances = append(advances, r.advance)
		retried = retried || r.retried
	}
	m := w.p.metrics
	t0 := time.Now()
	attempt := 0
	err := w.p.retry(ctx, "write aggregates", func(ctx context.Context) error {
		attempt++
		return w.p.sink.WriteDays(ctx, days, advances, retried || attempt > 1)
	})
	if err != nil {
		return err
	}
	m.dayRows.Add(int64(days.Len() + len(advances)))
	// The facts, predictions, outcomes, alerts and notifications depend on
	// one another in no way (each is idempotent, and a failure retries the
	// whole request), so they are written at once: each insert costs a
	// round trip and a part, and written one after the other they made
	// most of a flush's time.
	g := pool.New().WithErrors()
	if len(facts) > 0 {
		g.Go(func() error {
			return w.p.retry(ctx, "write facts", func(ctx context.Context) error { return w.p.sink.WriteFacts(ctx, facts) })
		})
	}
	w.storeETA(ctx, g, reqs)
	w.storeAlerts(ctx, g, reqs)
	if err := g.Wait(); err != nil {
		return err
	}
	// Progress last: it claims that everything before it is stored.
	if err := w.storeProgress(ctx, reqs); err != nil {
		return err
	}
	w.p.cfg.Log.Debug("inserted", "facts", len(facts), "day_cells", days.Len(), "partitions", len(reqs), "took", time.Since(t0))
	m.written.Add(int64(len(facts)))
	m.inserts.Add(1)
	m.observeInsert(time.Since(t0))
	return nil
}

// run collects requests for up to WriteDelay after the first one (or until
// FlushSize facts are waiting, or every owner of this process has sent
// one) and writes them in one batch, retrying with
// backoff while the sink fails. A retried request is written alone. It
// returns when ctx ends.
func (w *writer) run(ctx context.Context) {
	var (
		pending []*writeReq
		rows    int
		timer   *time.Timer
		fire    <-chan time.Time
	)
	flush := func() {
		if len(pending) == 0 {
			return
		}
		err := w.store(ctx, pending)
		for _, r := range pending {
			r.done <- err
		}
		pending, rows, fire = pending[:0], 0, nil
		if timer != nil {
			timer.Stop()
		}
	}
	for {
		select {
		case r := <-w.reqs:
			if r.retried {
				flush()
				pending = append(pending, r)
				flush()
				continue
			}
			pending = append(pending, r)
			rows += len(r.facts)
			if fire == nil {
				timer = time.NewTimer(w.p.cfg.WriteDelay)
				fire = timer.C
			}
			// Every owner waiting on this write means nothing more will
			// come to merge: waiting longer only delays them all.
			if rows >= w.p.cfg.FlushSize || int64(len(pending)) >= w.p.metrics.owners.Load() {
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
