// Package sample loads a generated workload (ingest/gen) into shiplens'
// ClickHouse tables the way the processor fills them, so that the
// dashboards' SQL can be run and timed over realistic data: shipment facts
// and daily aggregates with the sink's positions, predictions and outcomes
// from an ETA model that learns every day of event time, alert transitions
// and customer notifications from the default rules, and one
// pipeline_stats row per partition and flush, with dead letters.
//
// It drives the same pieces the processor's partition owners do
// (analytics.Partition, eta.Predictor, alerts.Engine, store's writers) but
// without Kafka: events go to the partition kafka-go's murmur2 balancer
// picks, and "offsets" count each partition's events. It is not the
// processor: one writer, no retries, no restore, and a model shared by all
// partitions that learns when the furthest partition enters a new day. It
// is for tests and tools (dashboards/querytime), not for production data.
package sample

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/store"
)

// Config says what to load.
type Config struct {
	Workload    gen.Config // the generated workload; its defaults apply
	Partitions  int        // Kafka partitions to spread it over; defaults to 4
	FlushEvents int        // events between two writes; defaults to 50,000
	// DeadLetterEvery corrupts one event in this many (cycling through
	// malformed JSON, an unknown status and an unknown field), which is
	// rejected and counted as the processor would; defaults to 1000, and
	// a negative value corrupts none.
	DeadLetterEvery int
	Processor       string // the processor named in pipeline_stats; defaults to the host name and pid
	// Progress, when set, is called after every write with the events
	// read so far and the workload's total.
	Progress func(done, total int64)
}

func (c Config) withDefaults() Config {
	if c.Partitions <= 0 {
		c.Partitions = 4
	}
	if c.FlushEvents <= 0 {
		c.FlushEvents = 50_000
	}
	if c.DeadLetterEvery == 0 {
		c.DeadLetterEvery = 1000
	}
	if c.Processor == "" {
		host, _ := os.Hostname()
		c.Processor = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	return c
}

// Summary counts what Load wrote.
type Summary struct {
	Events, Rejected, Shipments              int64
	Facts, DayRows, Predictions, Outcomes    int64
	Alerts, Notifications, Flushes, StatRows int64
	// First and Last are the event times of the earliest and latest
	// events read.
	First, Last time.Time
}

// lateness is the processor's default --eta-lateness, in seconds.
const lateness = 6 * 3600

const day = 86400

// part is one partition's state, as its owner holds it.
type part struct {
	id       int
	state    *analytics.Partition
	engine   *alerts.Engine
	pred     *eta.Predictor
	offset   int64 // events read
	position int64 // offset the aggregates hold
	total    int64 // events the partition will receive
	// since the last write
	events, applied int
	rejected        map[string]int
	recs            []eta.Record
	outs            []eta.Outcome
	unstored        bool // storage holds none of its shipments' facts yet
}

type loader struct {
	st       *store.Store
	cfg      Config
	parts    []*part
	ids      []int
	balancer kafka.Murmur2Balancer
	key      []byte
	now      time.Time

	model   *eta.Model
	version uint32                     // the model's day
	pending []eta.Delivery             // deliveries since the last version
	visited map[eta.VisitCount]float64 // scans under way since the last version, by group, milestone and day
	visits  map[string][]eta.Visit     // each undelivered shipment's predictions so far

	unflushed int
	sum       Summary
}

// Load generates cfg's workload and writes it to st's database, which
// must be migrated and should be empty (a second load counts the
// aggregates twice).
func Load(ctx context.Context, st *store.Store, cfg Config) (Summary, error) {
	cfg = cfg.withDefaults()
	g, err := gen.New(cfg.Workload)
	if err != nil {
		return Summary{}, err
	}
	rules, err := alerts.ParseRules(alerts.DefaultRules)
	if err != nil {
		return Summary{}, err
	}
	l := &loader{st: st, cfg: cfg, now: time.Now(), model: eta.New(eta.Config{}),
		visited: map[eta.VisitCount]float64{}, visits: map[string][]eta.Visit{}}
	for i := range cfg.Partitions {
		s := analytics.NewPartition()
		p := &part{id: i, state: s, engine: alerts.NewEngine(rules, i, s, alerts.NewRenderer(rules)), pred: l.model.NewPredictor(),
			rejected: map[string]int{}, unstored: true}
		p.engine.UseModel(l.model)
		l.parts = append(l.parts, p)
		l.ids = append(l.ids, i)
	}
	// A first pass counts each partition's events, so that the flushes
	// can say how far behind its end each partition is.
	var total int64
	if err := g.Run(ctx, func(e *schemas.Event) error {
		l.partition(e.TrackingNumber).total++
		total++
		return nil
	}); err != nil {
		return Summary{}, err
	}
	var n int64
	err = g.Run(ctx, func(e *schemas.Event) error {
		n++
		if err := l.apply(e, n); err != nil {
			return err
		}
		if l.unflushed >= cfg.FlushEvents {
			if err := l.flush(ctx); err != nil {
				return err
			}
			if cfg.Progress != nil {
				cfg.Progress(n, total)
			}
		}
		return nil
	})
	if err == nil {
		err = l.flush(ctx)
	}
	if cfg.Progress != nil {
		cfg.Progress(n, total)
	}
	return l.sum, err
}

func (l *loader) partition(tn string) *part {
	l.key = append(l.key[:0], tn...)
	return l.parts[l.balancer.Balance(kafka.Message{Key: l.key}, l.ids...)]
}

// corrupt returns e's JSON spoiled in one of three ways, by n.
func corrupt(e *schemas.Event, n int64) []byte {
	b, err := e.Marshal()
	if err != nil {
		return []byte("{")
	}
	switch n % 3 {
	case 0:
		return b[:len(b)-1] // malformed_json
	case 1:
		return bytes.Replace(b, []byte(`"status":"`+e.Status.String()+`"`), []byte(`"status":"teleported"`), 1) // unknown_status
	default:
		return bytes.Replace(b, []byte(`"event_id":`), []byte(`"event":`), 1) // unknown_field
	}
}

// apply folds the n-th event into its partition, as an owner handles a
// message: state, then prediction or outcome, then the alert rules.
func (l *loader) apply(e *schemas.Event, n int64) error {
	p := l.partition(e.TrackingNumber)
	p.offset++
	p.events++
	l.unflushed++
	l.sum.Events++
	at := e.OccurredAt.UTC()
	if l.sum.First.IsZero() || at.Before(l.sum.First) {
		l.sum.First = at
	}
	if at.After(l.sum.Last) {
		l.sum.Last = at
	}
	if every := int64(l.cfg.DeadLetterEvery); every > 0 && n%every == 0 {
		_, err := schemas.Decode(corrupt(e, n/every), l.now)
		if err == nil {
			return fmt.Errorf("corrupted event %d was accepted", n)
		}
		p.rejected[string(schemas.ReasonOf(err))]++
		l.sum.Rejected++
		return nil
	}
	if err := e.Validate(l.now); err != nil {
		p.rejected[string(schemas.ReasonOf(err))]++
		l.sum.Rejected++
		return nil
	}
	before := p.state.Watermark()
	changed, created := p.state.Apply(e, false)
	if created {
		l.sum.Shipments++
	}
	w := p.state.Watermark()
	l.learn(w)
	p.engine.At(p.offset - 1)
	if changed {
		p.applied++
		pr := l.observe(p, e.TrackingNumber, p.state.Get(e.TrackingNumber), w)
		p.engine.Observe(e.TrackingNumber, e, pr, w)
	}
	if w != before {
		p.engine.Advance(w)
	}
	return nil
}

// learn builds the model's next version once a partition's watermark
// enters a new UTC day: everything delivered and scanned before it.
func (l *loader) learn(w uint32) {
	v := w - w%day
	if v <= l.version {
		return
	}
	if l.version != 0 {
		vs := make([]eta.VisitCount, 0, len(l.visited))
		for k, n := range l.visited {
			k.N = n
			vs = append(vs, k)
		}
		clear(l.visited)
		l.model.Learn(l.pending, vs, v)
		l.pending = l.pending[:0]
		for _, p := range l.parts {
			p.pred.Use(l.model)
			p.engine.UseModel(l.model)
		}
	}
	l.version = v
}

// observe records what the processor's ETA side writes after a change of
// shipment s: its prediction, or its outcome and final record once
// delivered. It returns the prediction, nil for a delivery.
func (l *loader) observe(p *part, tn string, s *analytics.Shipment, w uint32) *eta.Prediction {
	carrier, service, lane := s.Group().Strings()
	var promised uint32
	if s.HasPromise() {
		promised = s.PromisedAt
	}
	if s.Delivered() {
		d := s.DeliveredAt
		p.outs = append(p.outs, eta.Outcome{TrackingNumber: tn, Carrier: carrier, Service: service, Lane: lane, Merchant: s.Merchant(),
			Start: s.Start(), DeliveredAt: d, PromisedAt: promised, Rev: uint64(s.Version), Learn: eta.LearnVersion(d, w, lateness)})
		p.recs = append(p.recs, eta.Record{TrackingNumber: tn, Carrier: carrier, Service: service, Lane: lane, Merchant: s.Merchant(),
			Status: s.LastStatus, PromisedAt: promised, Start: s.Start(), Rev: uint64(s.Version),
			Prediction: eta.Prediction{AsOf: s.LastAt, Milestone: eta.MilestoneOf(s), P10: d, P50: d, P90: d,
				Version: l.model.Version(), Basis: eta.BasisDelivered}})
		if vs, ok := l.visits[tn]; ok {
			l.pending = append(l.pending, eta.Delivery{TrackingNumber: tn, Carrier: carrier, Service: service, Lane: lane,
				Start: s.Start(), DeliveredAt: d, Visits: vs})
			delete(l.visits, tn)
		}
		return nil
	}
	pr := p.pred.Predict(s, s.LastAt)
	p.recs = append(p.recs, eta.Record{TrackingNumber: tn, Carrier: carrier, Service: service, Lane: lane, Merchant: s.Merchant(),
		Status: s.LastStatus, PromisedAt: promised, Start: s.Start(), Rev: uint64(s.Version),
		Learn: eta.LearnVersion(pr.AsOf, w, lateness), Prediction: pr})
	l.visits[tn] = append(l.visits[tn], eta.Visit{At: pr.AsOf, Milestone: pr.Milestone})
	l.visited[eta.VisitCount{Carrier: carrier, Service: service, Lane: lane, Milestone: pr.Milestone, Day: pr.AsOf - pr.AsOf%day}]++
	return &p.recs[len(p.recs)-1].Prediction
}

// flush writes what every partition did since the last write, in the
// processor's order (aggregates with positions, facts, predictions and
// outcomes, alerts and notifications), then one pipeline_stats row per
// partition that read events.
func (l *loader) flush(ctx context.Context) error {
	began := time.Now()
	days := &analytics.Days{}
	var (
		facts    []analytics.Fact
		advances []analytics.Advance
		recs     []eta.Record
		outs     []eta.Outcome
		as       []alerts.Alert
		ns       []alerts.Notification
		pub      = make([]int, len(l.parts))
	)
	for i, p := range l.parts {
		if p.unstored {
			p.state.Resolve(func(string) (analytics.Shipment, bool) { return analytics.Shipment{}, false })
		} else if misses := p.state.Misses(); len(misses) > 0 {
			found := map[string]analytics.Shipment{}
			if err := l.st.Lookup(ctx, i, misses, func(tn string, st analytics.Shipment) { found[tn] = st }); err != nil {
				return err
			}
			p.state.Resolve(func(tn string) (analytics.Shipment, bool) { st, ok := found[tn]; return st, ok })
			for tn, st := range found {
				p.engine.Resolved(tn, &st)
			}
		}
		f, d := p.state.Pending(i)
		facts = append(facts, f...)
		days.Merge(d)
		if p.offset != p.position {
			advances = append(advances, analytics.Advance{Partition: i, From: p.position, To: p.offset})
		}
		out := p.engine.Take()
		as, ns = append(as, out.Alerts...), append(ns, out.Notes...)
		pub[i] = out.Len()
		recs, outs = append(recs, p.recs...), append(outs, p.outs...)
		p.recs, p.outs = nil, nil
	}
	insertBegan := time.Now()
	if err := l.st.WriteDays(ctx, days, advances, false); err != nil {
		return err
	}
	for b := facts; len(b) > 0; {
		n := min(len(b), 200_000)
		if err := l.st.WriteFacts(ctx, b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	for _, w := range []func() error{
		func() error { return l.st.WritePredictions(ctx, recs) },
		func() error { return l.st.WriteOutcomes(ctx, outs) },
		func() error { return l.st.WriteAlerts(ctx, as) },
		func() error { return l.st.WriteNotifications(ctx, ns) },
	} {
		if err := w(); err != nil {
			return err
		}
	}
	insert := time.Since(insertBegan)
	l.sum.Flushes++
	l.sum.Facts += int64(len(facts))
	l.sum.DayRows += int64(days.Len())
	l.sum.Predictions += int64(len(recs))
	l.sum.Outcomes += int64(len(outs))
	l.sum.Alerts += int64(len(as))
	l.sum.Notifications += int64(len(ns))
	// The flush's wall clock is the stream's: the workload's event time,
	// so that its figures fall in the same range as its shipments.
	var w uint32
	for _, p := range l.parts {
		w = max(w, p.state.Watermark())
	}
	flushed := time.Since(began)
	var stats []analytics.FlushStat
	for i, p := range l.parts {
		p.state.Written()
		p.position = p.offset
		if p.state.Sweep(analytics.DefaultRetention) > 0 {
			p.unstored = false
			p.engine.Prune()
		}
		if p.events == 0 {
			continue
		}
		stats = append(stats, analytics.FlushStat{At: time.Unix(int64(w), 0).UTC(), Processor: l.cfg.Processor, Partition: i,
			Events: p.events, Applied: p.applied, Rejected: p.rejected, Lag: p.total - p.offset,
			Flush: flushed, Insert: insert, Published: pub[i]})
		p.events, p.applied, p.rejected = 0, 0, map[string]int{}
	}
	if err := l.st.WriteStats(ctx, stats); err != nil {
		return err
	}
	l.sum.StatRows += int64(len(stats))
	l.unflushed = 0
	if len(l.pending) > 10_000_000 {
		return errors.New("too many deliveries waiting for the next model version: is the workload's event time moving?")
	}
	return nil
}
