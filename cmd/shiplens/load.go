package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/internal/progress"
	"github.com/shiplens/shiplens/internal/retry"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/store"
)

// `generate --to-clickhouse` loads a workload straight into ClickHouse: the
// events go through the processor's state (analytics.Partition, one per
// Kafka partition) and its sink (store) in this process, without Kafka, so
// that millions of shipments can be loaded to measure queries at scale.

const (
	// defaultFlushEvents is how many events the loader applies between two
	// writes: large writes amortise ClickHouse's fixed cost per insert and
	// per lookup, which reads most granules of a partition.
	defaultFlushEvents = 500_000
	// factsBatch bounds the rows of one facts insert.
	factsBatch = 200_000
)

// loadConfig says where and how generate --to-clickhouse writes.
type loadConfig struct {
	addr        string // --to-clickhouse
	partitions  int    // Kafka partitions to write as
	flushEvents int    // events between two writes
}

// loader holds the state of one load: what a processor's owners would hold
// for the partitions, and counts for the summary.
type loader struct {
	db    *store.Store
	cfg   loadConfig
	parts []*analytics.Partition
	ids   []int // 0..partitions-1, what a Kafka writer hands its balancer
	// unstored[i]: partition i held no facts when the load started and
	// has evicted nothing since, so storage holds none of its misses.
	unstored []bool
	balancer kafka.Murmur2Balancer
	key      []byte
	now      time.Time // bounds occurred_at, as the processor's clock does
	retry    retry.Policy

	unflushed                 int   // events applied since the last write
	events, rejected, created int64 // created: shipments that entered memory
	firstReject               error
	factRows, dayRows         int64
	held, peak                int   // shipments in memory after the last flush, and the most after any
	err                       error // why the last flush failed
}

// errFlush stops the generator when a flush failed; loader.err says why.
var errFlush = errors.New("flush failed")

// load runs g into the ClickHouse at cfg.addr and prints a summary line.
func load(ctx context.Context, g *gen.Generator, cfg loadConfig, stderr io.Writer) error {
	db, scfg, err := openStore(ctx, cfg.addr)
	if err != nil {
		return err
	}
	defer db.Close()
	l, err := newLoader(ctx, db, cfg)
	if err != nil {
		return migrateHint(err, cfg.addr)
	}
	shipments := int64(g.Config().Shipments)
	bar := progress.New(stderr, "loading shipments", shipments, "shipments")
	began := time.Now()
	var shown int64
	err = g.Run(ctx, func(e *schemas.Event) error {
		l.apply(e)
		if l.created >= shown+1024 {
			shown = l.created
			bar.Set(min(shown, shipments), 0)
		}
		if l.unflushed >= cfg.flushEvents {
			return l.flush(ctx)
		}
		return nil
	})
	if err == nil {
		err = l.flush(ctx)
	}
	if err != nil {
		bar.Finish()
		if l.err != nil {
			return l.err
		}
		if ctx.Err() != nil {
			// Between flushes, the facts and aggregates agree: loading
			// the same workload again merges into them without double
			// counting.
			return fmt.Errorf("interrupted after %d events; run the same command again to complete the load", l.events)
		}
		return err
	}
	bar.Set(shipments, 0)
	bar.Finish()
	took := time.Since(began)
	rejected := ""
	if l.rejected > 0 {
		rejected = fmt.Sprintf(" (%d rejected, the first: %v)", l.rejected, l.firstReject)
	}
	fmt.Fprintf(stderr, "loaded %d shipments, %d events%s into %s: %d facts rows and %d aggregate rows written in %.1fs (%.0f events/s); %d shipments in memory at the end (at most %d after a write), as a processor's owners would hold\n",
		shipments, l.events, rejected, scfg, l.factRows, l.dayRows, took.Seconds(), float64(l.events)/max(took.Seconds(), 1e-3), l.held, l.peak)
	return nil
}

// newLoader returns a loader with empty partitions, and fails when the
// tables are missing, before anything is generated.
func newLoader(ctx context.Context, db *store.Store, cfg loadConfig) (*loader, error) {
	l := &loader{
		db: db, cfg: cfg, now: time.Now(), retry: retry.Policy{MaxAttempts: 8},
		parts: make([]*analytics.Partition, cfg.partitions), ids: make([]int, cfg.partitions),
		unstored: make([]bool, cfg.partitions),
	}
	if _, err := db.Positions(ctx); err != nil {
		return nil, err
	}
	for i := range l.parts {
		l.parts[i], l.ids[i] = analytics.NewPartition(), i
		// A retention of one second restores the shipments at the
		// partition's watermark: some exactly when it holds any facts.
		held := false
		if err := db.Restore(ctx, i, analytics.Retention{Closed: time.Second, Lost: time.Second}, func(string, analytics.Shipment) { held = true }); err != nil {
			return nil, err
		}
		l.unstored[i] = !held
	}
	return l, nil
}

// apply validates e as the processor's decoder does and folds it into the
// partition the producer would have sent it to.
func (l *loader) apply(e *schemas.Event) {
	l.events++
	if err := e.Validate(l.now); err != nil {
		// The processor would dead-letter it; the generator's events are
		// valid, so this is a bug or a wrong clock.
		l.rejected++
		if l.firstReject == nil {
			l.firstReject = fmt.Errorf("event %s: %w", e.EventID, err)
		}
		return
	}
	l.key = append(l.key[:0], e.TrackingNumber...)
	p := l.balancer.Balance(kafka.Message{Key: l.key}, l.ids...)
	if _, created := l.parts[p].Apply(e, false); created {
		l.created++
	}
	l.unflushed++
}

// flush writes what every partition changed since the last flush, as a
// processor's owners and its shared writer do: misses looked up (unless
// storage cannot hold them) and merged, then the daily aggregates of all
// partitions in one insert, then the facts.
// The aggregates carry no positions (there is no Kafka offset), so their
// write is not retried: a failure may have landed, and a retry could count
// twice.
func (l *loader) flush(ctx context.Context) error {
	all := &analytics.Days{}
	changed := 0
	for _, part := range l.parts {
		changed += part.Changed()
	}
	facts := make([]analytics.Fact, 0, changed)
	for i, part := range l.parts {
		if l.unstored[i] {
			part.Resolve(func(string) (analytics.Shipment, bool) { return analytics.Shipment{}, false })
		} else if misses := part.Misses(); len(misses) > 0 {
			found := make(map[string]analytics.Shipment)
			err := retry.Do(ctx, l.retry, func(ctx context.Context) error {
				clear(found)
				return l.db.Lookup(ctx, i, misses, func(tn string, st analytics.Shipment) { found[tn] = st })
			})
			if err != nil {
				// Nothing of this flush is written: what is stored is
				// consistent.
				l.err = fmt.Errorf("%w; the load stopped after %d events: run the same command again to complete it", err, l.events)
				return errFlush
			}
			part.Resolve(func(tn string) (analytics.Shipment, bool) { st, ok := found[tn]; return st, ok })
		}
		f, d := part.Pending(i)
		facts = append(facts, f...)
		all.Merge(d)
	}
	var rows int64
	all.Each(func(analytics.DayKey, *analytics.DayCell) { rows++ })
	partial := "; the database may now hold aggregates without their facts, which another load would count twice: load into a fresh database"
	if err := l.db.WriteDays(ctx, all, nil, false); err != nil {
		l.err = fmt.Errorf("%w%s", err, partial)
		return errFlush
	}
	for b := facts; len(b) > 0; {
		n := min(len(b), factsBatch)
		if err := retry.Do(ctx, l.retry, func(ctx context.Context) error { return l.db.WriteFacts(ctx, b[:n]) }); err != nil {
			l.err = fmt.Errorf("%w%s", err, partial)
			return errFlush
		}
		b = b[n:]
	}
	l.factRows += int64(len(facts))
	l.dayRows += rows
	for i, part := range l.parts {
		part.Written()
		if part.Sweep(analytics.DefaultRetention) > 0 {
			l.unstored[i] = false
		}
	}
	l.held = 0
	for _, part := range l.parts {
		l.held += part.Len()
	}
	l.peak = max(l.peak, l.held)
	l.unflushed = 0
	return nil
}
