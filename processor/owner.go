package processor

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/dlq"
	"github.com/shiplens/shiplens/schemas"
)

// shutdownGrace bounds the final flush after a partition is revoked or the
// processor stops.
const shutdownGrace = 30 * time.Second

// Fetch sizing of the partition readers. kafka-go's Reader puts a read
// deadline of MaxWait on the start of each fetch response (its header and
// first record batch header), and asks the broker to wait up to
// MaxWait - min(MaxWait/4, 1s) for data. A broker that has data answers at
// once, but must build and start sending up to MaxBytes within what is left
// of MaxWait: at worst (data that arrives at the end of the wait) only
// min(MaxWait/4, 1s). When it cannot, the fetch fails with an i/o timeout
// that kafka-go reports only to ReaderConfig.ErrorLogger, and the reader
// retries the same offset with the same MaxBytes forever: FetchMessage
// blocks and nothing advances. 16 MiB with a 100ms MaxWait did exactly that
// on kfake under -race, which builds a whole response before it writes it
// (0.3s to 1.6s for a 7 MB partition; see fetch_test.go). MaxBytes bounds
// the work per fetch; a MaxWait of 500ms leaves the broker 500ms to start a
// response when it has data, and 125ms after an idle long poll, when the
// response is small. A longer MaxWait slowed the demo by half (a reader
// that is closed waits for its fetch in flight). MinBytes 1 still answers a
// fetch as soon as data is there, so MaxWait adds no latency, only up to
// MaxWait to Close while the partition is idle.
const (
	fetchMaxBytes = 1 << 20
	fetchMaxWait  = 500 * time.Millisecond
)

// Owner is the single goroutine that owns one partition for one generation:
// its state, its reader and its commits.
type owner struct {
	p         *Processor
	gen       *kafka.Generation
	partition int
	start     int64 // offset to start reading at, or kafka.FirstOffset

	part      *analytics.Partition
	dead      []dlq.Letter
	next      int64 // offset after the last message handled; -1 when none
	committed int64
	// position is the offset before which the aggregates hold this
	// partition's events; accounted is its value at restore. Events before
	// accounted, replayed after a crash that wrote the aggregates but not
	// the facts, change the facts only (see analytics.Partition.Apply).
	position, accounted int64
	unsure              *writeReq // a write that failed and may have landed
	held                int64     // shipments counted in the in-memory gauge
	lag                 *atomic.Int64
	eta                 *etaOwner   // nil: no predictions
	alerts              *alertOwner // nil: no alerts
	tally               tally       // since the last flush, for pipeline_stats
}

func newOwner(p *Processor, gen *kafka.Generation, partition int, start int64) *owner {
	return &owner{p: p, gen: gen, partition: partition, start: start, part: analytics.NewPartition(), next: -1, committed: -1,
		eta: newETAOwner(p.learner)}
}

func (o *owner) log(msg string, args ...any) {
	o.p.cfg.Log.Info(msg, append([]any{"partition", o.partition}, args...)...)
}

// run restores state, then consumes until gctx (the generation) ends, and
// flushes before it returns so that the partition's next owner starts from
// committed, written state.
func (o *owner) run(ctx, gctx context.Context) {
	m := o.p.metrics
	m.owners.Add(1)
	defer m.owners.Add(-1)
	o.lag = m.partitionLag(o.partition)
	defer m.releasePartition(o.partition, o.lag)
	defer o.hold(0)
	began := time.Now()
	if err := o.p.retry(gctx, "restore state", func(ctx context.Context) error {
		pos, err := o.p.sink.Position(ctx, o.partition)
		if err != nil {
			return err
		}
		part := analytics.NewPartition()
		if err := o.p.sink.Restore(ctx, o.partition, o.p.cfg.Retention, part.Restore); err != nil {
			return err
		}
		o.part, o.position, o.accounted = part, pos, pos
		return nil
	}); err != nil {
		if gctx.Err() == nil {
			o.p.fail(err)
		}
		return
	}
	if o.alerts = newAlertOwner(o); o.alerts != nil {
		defer o.alerts.release(m)
		if err := o.alerts.restore(gctx, o); err != nil {
			if gctx.Err() == nil {
				o.p.fail(err)
			}
			return
		}
	}
	if o.eta != nil {
		// The learner may learn from memory only while every partition's
		// owner has written everything its versions learn (memo.go).
		if pm := o.eta.l.join(o.partition, o.position == 0 && o.part.Len() == 0); pm != nil {
			o.eta.memo, o.part.OnEvict = pm, pm.forget
		}
		defer func() {
			if ctx.Err() == nil {
				o.eta.l.stopMemo(fmt.Sprintf("partition %d was revoked", o.partition))
			}
		}()
	}
	m.restored.Add(int64(o.part.Len()))
	o.hold(o.part.Len())
	o.log("partition state restored", "shipments", o.part.Len(), "took", time.Since(began).Round(time.Millisecond),
		"offset", o.start, "aggregates_at", o.position)

	// kafka-go retries failed fetches by itself and reports them only to
	// ErrorLogger: without it a reader that fails every fetch looks like an
	// idle one.
	var closing atomic.Bool
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        o.p.cfg.Brokers,
		Topic:          o.p.cfg.Topic,
		Partition:      o.partition,
		MinBytes:       1,
		MaxBytes:       fetchMaxBytes,
		MaxWait:        fetchMaxWait,
		QueueCapacity:  4096,
		ReadBackoffMin: 50 * time.Millisecond,
		ReadBackoffMax: time.Second,
		Logger: kafka.LoggerFunc(func(msg string, args ...any) {
			if o.p.cfg.Log.Enabled(context.Background(), slog.LevelDebug) {
				o.p.cfg.Log.Debug("kafka reader: "+strings.TrimSpace(fmt.Sprintf(msg, args...)), "partition", o.partition)
			}
		}),
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			text := strings.TrimSpace(fmt.Sprintf(msg, args...))
			if closing.Load() {
				o.p.cfg.Log.Debug("kafka reader error while closing", "partition", o.partition, "err", text)
				return
			}
			m.fetchErrors.Add(1)
			o.p.cfg.Log.Warn("kafka reader error; it retries the fetch", "partition", o.partition, "err", text)
		}),
	})
	defer func() { closing.Store(true); r.Close() }()
	if err := r.SetOffset(o.start); err != nil {
		o.p.fail(fmt.Errorf("cannot seek partition %d to %d: %w", o.partition, o.start, err))
		return
	}

	msgs := make(chan kafka.Message, 1024)
	fetchCtx, stopFetch := context.WithCancel(gctx)
	fetchDone := make(chan struct{})
	// fetches is bumped on entering and on leaving FetchMessage: odd while a
	// call is pending. Two atomic adds a message, no clock on the hot path.
	var fetches atomic.Int64
	go func() {
		defer close(fetchDone)
		defer close(msgs)
		for {
			fetches.Add(1)
			msg, err := r.FetchMessage(fetchCtx)
			fetches.Add(1)
			if err != nil {
				if fetchCtx.Err() == nil {
					o.p.fail(fmt.Errorf("cannot read partition %d: %w", o.partition, err))
				}
				return
			}
			select {
			case msgs <- msg:
			case <-fetchCtx.Done():
				return
			}
		}
	}()
	if o.p.cfg.StallTimeout > 0 {
		watchDone := make(chan struct{})
		go func() { defer close(watchDone); o.watch(fetchCtx, r, &fetches) }()
		defer func() { <-watchDone }()
	}
	defer func() { stopFetch(); <-fetchDone }()

	tick := time.NewTicker(o.p.cfg.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case msg, ok := <-msgs:
			if !ok {
				o.final(ctx)
				return
			}
			if !o.align(gctx, &msg) {
				o.final(ctx)
				return
			}
			if !o.handle(gctx, &msg) {
				o.final(ctx)
				return
			}
			if o.part.Changed() >= o.p.cfg.FlushSize {
				if !o.flush(gctx) {
					o.final(ctx)
					return
				}
			}
		case <-tick.C:
			if !o.flush(gctx) {
				o.final(ctx)
				return
			}
		case <-gctx.Done():
			o.final(ctx)
			return
		}
	}
}

// watch reports a stalled partition: one whose reader has been waiting in
// FetchMessage for StallTimeout although the partition holds messages it has
// not returned. That is a reader failing every fetch (see fetchMaxBytes) or
// a broker that does not answer; kafka-go keeps retrying either way and
// FetchMessage never fails. fetches is odd while a FetchMessage call is
// pending (see run), so a goroutine held back by a full queue (backpressure)
// is never taken for a stall. It reports each stalled call once, and
// returns when ctx ends.
func (o *owner) watch(ctx context.Context, r *kafka.Reader, fetches *atomic.Int64) {
	m := o.p.metrics
	timeout := o.p.cfg.StallTimeout
	tick := time.NewTicker(max(timeout/4, time.Millisecond))
	defer tick.Stop()
	last, reported := int64(-1), int64(-1)
	var since time.Time // when fetches last changed or left FetchMessage
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		v := fetches.Load()
		if v%2 == 0 || v != last {
			last, since = v, time.Now()
			continue
		}
		if v == reported || time.Since(since) < timeout {
			continue
		}
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		lag, err := r.ReadLag(lctx)
		cancel()
		if err != nil || lag <= 0 || fetches.Load() != v {
			continue
		}
		reported = v
		m.fetchStalls.Add(1)
		o.p.cfg.Log.Warn("partition makes no progress although it has unread messages; see the kafka reader errors",
			"partition", o.partition, "lag", lag, "waiting", time.Since(since).Round(time.Millisecond), "fetch_errors", m.fetchErrors.Load())
	}
}

// align waits, while the partition replays a backlog, until the ETA model
// has caught up to a day behind the partition's watermark (etaOwner.behind).
// It flushes first: the learner builds a version only once every
// partition's progress has reached it, this one's included. It returns
// false when the flush failed because the generation or the processor
// ended.
func (o *owner) align(ctx context.Context, msg *kafka.Message) bool {
	if o.eta == nil {
		return true
	}
	want, wait := o.eta.behind(o.part.Watermark(), msg.HighWaterMark-msg.Offset)
	if !wait {
		return true
	}
	began := time.Now()
	defer func() {
		o.p.metrics.alignWaits.Add(1)
		o.p.metrics.alignNanos.Add(int64(time.Since(began)))
	}()
	if !o.flush(ctx) {
		return false
	}
	got, timedOut := o.eta.l.await(ctx, want, o.p.cfg.ETA.AlignWait)
	if !got {
		// Not buildable yet (another partition is behind) or too slow:
		// neither flush nor wait again before the next day.
		o.eta.stuck = want
	}
	if timedOut && ctx.Err() == nil {
		o.p.metrics.alignTimeouts.Add(1)
		o.p.cfg.Log.Warn("the ETA model did not catch up with this partition; predicting with an older version",
			"partition", o.partition, "want", time.Unix(int64(want), 0).UTC().Format(time.DateOnly),
			"have", time.Unix(int64(o.eta.l.current().Version()), 0).UTC().Format(time.DateOnly))
	}
	return ctx.Err() == nil
}

// hold sets the number of shipments this owner counts in the in-memory
// gauge.
func (o *owner) hold(n int) {
	o.p.metrics.inMemory.Add(int64(n) - o.held)
	o.held = int64(n)
}

// handle folds one message into the state, or queues it for the DLQ. A
// message that makes the code panic is dead-lettered too: a poison message
// must not crash-loop the processor. It returns false, leaving the message
// unhandled, only when the lookup that a replayed event needs fails because
// the generation ended or the processor is stopping.
func (o *owner) handle(ctx context.Context, msg *kafka.Message) bool {
	m := o.p.metrics
	m.consumed.Add(1)
	o.tally.events++
	o.next = msg.Offset + 1
	if msg.HighWaterMark > 0 {
		o.lag.Store(max(msg.HighWaterMark-o.next, 0))
	}
	defer func() {
		if r := recover(); r != nil {
			err := &schemas.InvalidError{Reason: schemas.ReasonInternal, Detail: fmt.Sprintf("processing panicked: %v", r)}
			o.p.cfg.Log.Error("message made the processor panic; sent to the DLQ", "partition", o.partition, "offset", msg.Offset, "panic", r, "stack", string(debug.Stack()))
			m.reject(schemas.ReasonInternal)
			o.tally.reject(schemas.ReasonInternal)
			o.dead = append(o.dead, dlq.FromMessage(msg, o.p.cfg.Topic, "processor", err))
		}
	}()
	ev, err := schemas.Decode(msg.Value, o.p.cfg.Now())
	if err == nil && string(msg.Key) != "" && string(msg.Key) != ev.TrackingNumber {
		err = &schemas.InvalidError{Reason: schemas.ReasonInvalidField, Field: "tracking_number",
			Detail: fmt.Sprintf("%q differs from the Kafka key %q, so the event may be in another shipment's partition", ev.TrackingNumber, msg.Key)}
	}
	if err != nil {
		reason := schemas.ReasonOf(err)
		m.reject(reason)
		o.tally.reject(reason)
		o.dead = append(o.dead, dlq.FromMessage(msg, o.p.cfg.Topic, "processor", err))
		return true
	}
	accounted := msg.Offset < o.accounted
	if accounted && !o.part.Has(ev.TrackingNumber) {
		// The aggregates hold this event already; the shipment's stored
		// state must be in memory before it is applied (see Partition.Apply).
		if err := o.lookup(ctx, []string{ev.TrackingNumber}, o.part.Restore); err != nil {
			o.next = msg.Offset
			return false
		}
	}
	before := o.part.Watermark()
	changed, created := o.part.Apply(&ev, accounted)
	if created {
		m.shipments.Add(1)
	}
	if changed {
		m.applied.Add(1)
		o.tally.applied++
		var pred *eta.Prediction
		if o.eta != nil {
			pred = o.eta.observe(ev.TrackingNumber, o.part.Get(ev.TrackingNumber), before, o.part.Watermark())
		}
		if o.alerts != nil {
			o.alerts.observe(o, msg.Offset, ev.TrackingNumber, &ev, pred, before, o.part.Watermark())
		}
	} else {
		m.unchanged.Add(1)
	}
	return true
}

// lookup reads the stored states of trackingNumbers, retrying.
func (o *owner) lookup(ctx context.Context, trackingNumbers []string, fn func(string, analytics.Shipment)) error {
	m := o.p.metrics
	var found int64
	err := o.p.retry(ctx, "look up shipments", func(ctx context.Context) error {
		found = 0
		return o.p.sink.Lookup(ctx, o.partition, trackingNumbers, func(tn string, st analytics.Shipment) {
			found++
			fn(tn, st)
		})
	})
	if err == nil {
		m.lookedUp.Add(int64(len(trackingNumbers)))
		m.found.Add(found)
		if found > 0 && o.eta != nil && o.eta.memo != nil {
			o.eta.l.stopMemo("a shipment evicted from memory came back")
		}
	}
	return err
}

// flush writes changed shipments and rejected records, then commits. It
// returns false when the generation or the processor ended before the flush
// completed.
func (o *owner) flush(ctx context.Context) bool {
	if o.next < 0 || o.next == o.committed {
		return true
	}
	m := o.p.metrics
	began := time.Now()
	req := o.unsure
	if req == nil {
		// Shipments created from events alone may have been evicted
		// earlier: merge what storage holds before computing the change.
		if misses := o.part.Misses(); len(misses) > 0 {
			found := make(map[string]analytics.Shipment)
			if err := o.lookup(ctx, misses, func(tn string, st analytics.Shipment) { found[tn] = st }); err != nil {
				return false
			}
			o.part.Resolve(func(tn string) (analytics.Shipment, bool) { st, ok := found[tn]; return st, ok })
			if o.alerts != nil {
				for tn, st := range found {
					o.alerts.e.Resolved(tn, &st)
				}
			}
		}
		// Alerts and notifications are published before anything of this
		// write is stored: see publisher.
		if o.alerts != nil && !o.alerts.publish(ctx, o) {
			return false
		}
		facts, days := o.part.Pending(o.partition)
		req = &writeReq{partition: o.partition, facts: facts, days: days,
			advance: analytics.Advance{Partition: o.partition, From: o.position, To: max(o.next, o.position)}}
		if o.eta != nil {
			o.eta.take(req, o.part.Watermark())
		}
		if o.alerts != nil {
			o.alerts.into(req)
		}
	}
	var insert time.Duration
	if len(req.facts) > 0 || req.days.Len() > 0 || req.advance.To != req.advance.From || len(req.preds) > 0 || len(req.outs) > 0 || req.progress > 0 ||
		len(req.alerts) > 0 || len(req.notes) > 0 {
		t0 := time.Now()
		err := o.p.writer.write(ctx, req)
		insert = time.Since(t0)
		if err != nil {
			// It may have landed: the next attempt must check.
			o.unsure, req.retried = req, true
			return false
		}
	}
	o.unsure = nil
	if o.eta != nil {
		o.eta.written(req)
	}
	o.part.Written()
	o.position = req.advance.To
	if len(o.dead) > 0 {
		if err := o.p.retry(ctx, "write dead letters", func(ctx context.Context) error { return o.p.dlq.Write(ctx, o.dead...) }); err != nil {
			return false
		}
		m.deadLettered.Add(int64(len(o.dead)))
		clear(o.dead)
		o.dead = o.dead[:0]
	}
	// Everything derived from events before o.next is durable: commit.
	if err := o.gen.CommitOffsets(map[string]map[int]int64{o.p.cfg.Topic: {o.partition: o.next}}); err != nil {
		// A lost commit only means the next owner reprocesses these events,
		// which the idempotent writes absorb.
		m.commitErrors.Add(1)
		o.p.cfg.Log.Warn("cannot commit offset; the events will be reprocessed", "partition", o.partition, "offset", o.next, "err", err)
	} else {
		o.committed = o.next
		m.commits.Add(1)
		if o.p.cfg.OnCommit != nil {
			o.p.cfg.OnCommit(o.partition, o.next)
		}
	}
	if n := o.part.Sweep(o.p.cfg.Retention); n > 0 {
		m.evicted.Add(int64(n))
		if o.alerts != nil {
			o.alerts.e.Prune()
		}
	}
	o.hold(o.part.Len())
	m.observeFlush(time.Since(began))
	o.stat(began, insert, len(req.alerts)+len(req.notes))
	return true
}

// final flushes once more when the partition is revoked or the processor
// stops, with its own deadline because the generation's context has ended.
func (o *owner) final(ctx context.Context) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if o.flush(fctx) && o.next >= 0 {
		o.log("partition released", "committed", o.committed, "shipments", o.part.Len())
	}
}
