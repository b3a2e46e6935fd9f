package processor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
)

// ETASink stores predictions and outcomes and gives back what the ETA model
// learns from. A Sink that implements it turns predictions on (unless
// Config.ETA.Disabled); *store.Store does.
type ETASink interface {
	WritePredictions(ctx context.Context, recs []eta.Record) error
	WriteOutcomes(ctx context.Context, outs []eta.Outcome) error
	// WriteProgress records, per partition, the latest model version whose
	// content the partition has written in full (eta.Complete).
	WriteProgress(ctx context.Context, progress map[int]uint32) error
	// Progress returns the model version every one of partitions has
	// completed: the least of their progress, 0 while one has none.
	Progress(ctx context.Context, partitions []int) (uint32, error)
	// Learned calls fn with the deliveries whose first outcome's Learn is
	// in (from, to], each with its scans, in (DeliveredAt, TrackingNumber)
	// order.
	Learned(ctx context.Context, from, to uint32, fn func(eta.Delivery) error) error
	// VisitCounts counts the predictions whose Learn is in (from, to], by
	// carrier, service, lane, milestone and day of as_of.
	VisitCounts(ctx context.Context, from, to uint32) ([]eta.VisitCount, error)
	// FirstLearn returns the least Learn of any stored prediction, 0 for
	// none: where the first version starts.
	FirstLearn(ctx context.Context) (uint32, error)
	SaveModel(ctx context.Context, version uint32, blob []byte) error
	LatestModel(ctx context.Context) (version uint32, blob []byte, ok bool, err error)
}

// ETAConfig configures predictions.
type ETAConfig struct {
	Disabled bool       // no predictions even when the sink can store them
	Model    eta.Config // how the model learns
	// Lateness is how far behind its partition's watermark an event may
	// occur and still count in the model version of its own day; a model
	// version is built once every partition's watermark is this far past
	// its end. Defaults to 6h.
	Lateness time.Duration
	// Poll is how often the learner checks other processors' progress, on
	// top of being woken by this processor's own owners; defaults to 10s.
	Poll time.Duration
	// While a partition replays a backlog (more than AlignLag messages
	// behind its end), its owner predicts with a model at most a day
	// behind its watermark, waiting up to AlignWait for the learner when
	// it is not (see owner.align): without it, a replay runs far ahead of
	// the model and predicts with what it knew days of event time ago.
	// Defaults: 1000 messages, 30s.
	AlignLag  int64
	AlignWait time.Duration
	// FromStorage builds every version from what storage holds, never
	// from memory (see memo.go): a check, and the tests' reference.
	FromStorage bool
}

func (c ETAConfig) withDefaults() ETAConfig {
	if c.Lateness <= 0 {
		c.Lateness = 6 * time.Hour
	}
	if c.Poll <= 0 {
		c.Poll = 10 * time.Second
	}
	if c.AlignLag <= 0 {
		c.AlignLag = 1000
	}
	if c.AlignWait <= 0 {
		c.AlignWait = 30 * time.Second
	}
	return c
}

// learner keeps the processor's shared ETA model: every owner predicts
// with the current version, and the learner builds the next one from what
// every partition (of every processor) has written.
//
// A version v is the model that learned every outcome and scan whose Learn
// is at most v (eta.LearnVersion). The learner builds v once every
// partition that ever wrote has reported progress v (eta.Complete): from
// then on nothing can be added to v's content, so v is the same model
// whichever processor builds it and whenever. Versions are saved, and a
// processor that finds v saved loads it instead of building it again.
type learner struct {
	p       *Processor
	sink    ETASink
	cfg     ETAConfig
	mu      sync.RWMutex
	model   *eta.Model
	recent  []*eta.Model  // the last keepVersions versions, oldest first, model last
	target  uint32        // the progress last read: the version that can be built now
	steps   int64         // progress reads so far
	changed chan struct{} // closed and replaced when model or target changes
	wake    chan struct{}

	versions, learned, failures int64 // guarded by mu
	fromMemory, fromStorage     int64 // builds, guarded by mu

	memo memoSet
}

func newLearner(p *Processor, sink ETASink, cfg ETAConfig) *learner {
	return &learner{p: p, sink: sink, cfg: cfg, model: eta.New(cfg.Model), changed: make(chan struct{}), wake: make(chan struct{}, 1)}
}

// current returns the model to predict with. Nobody changes it: a new
// version is a new model.
func (l *learner) current() *eta.Model {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.model
}

// keepVersions is how many versions the learner keeps for owners that
// predict with a day-old one (pick).
const keepVersions = 8

// set makes m the current model and wakes the owners waiting for one.
func (l *learner) set(m *eta.Model, built bool) {
	l.mu.Lock()
	l.model = m
	l.recent = append(l.recent, m)
	if len(l.recent) > keepVersions {
		l.recent = l.recent[len(l.recent)-keepVersions:]
	}
	if built {
		l.versions++
	}
	l.broadcast()
	l.mu.Unlock()
}

// broadcast wakes every waiter; l.mu must be held.
func (l *learner) broadcast() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// setTarget records the version that can be built now, and wakes the
// waiters to look at it.
func (l *learner) setTarget(v uint32) {
	l.mu.Lock()
	l.target = v
	l.steps++
	l.broadcast()
	l.mu.Unlock()
}

// pick returns the model an owner predicts with at watermark w: version
// want(w) when the learner has it, else the latest one before it, else the
// oldest it has. Predicting with a version fixed by the watermark, not by
// when the learner got there, makes predictions a function of the events.
func (l *learner) pick(want uint32) *eta.Model {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.recent) == 0 {
		return l.model
	}
	best := l.recent[0]
	for _, m := range l.recent {
		if m.Version() <= want {
			best = m
		}
	}
	return best
}

// await waits until the current model's version is at least v, ctx ends
// or wait passes, and reports whether it got there and whether it gave up
// on wait.
func (l *learner) await(ctx context.Context, v uint32, wait time.Duration) (got, timedOut bool) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	l.mu.RLock()
	asked := l.steps
	l.mu.RUnlock()
	l.poke()
	for {
		l.mu.RLock()
		have, target, steps, changed := l.model.Version(), l.target, l.steps, l.changed
		l.mu.RUnlock()
		if have >= v {
			return true, false
		}
		if steps > asked && target < v {
			// Another partition has not reached v yet: waiting would
			// tie this one to the slowest.
			return false, false
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false, false
		case <-timer.C:
			return false, true
		}
	}
}

// poke wakes the learner without blocking.
func (l *learner) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// load reads the latest saved version, so that a restarted processor
// predicts with the model it stopped with.
func (l *learner) load(ctx context.Context) error {
	return l.p.retry(ctx, "load the ETA model", func(ctx context.Context) error {
		v, blob, ok, err := l.sink.LatestModel(ctx)
		if err != nil {
			return err
		}
		if !ok {
			first, err := l.sink.FirstLearn(ctx)
			if err != nil {
				return err
			}
			if first != 0 {
				l.stopMemo("the store holds predictions")
			}
			return nil
		}
		l.stopMemo("the store holds a model")
		m, err := eta.Unmarshal(blob)
		if err != nil {
			l.p.cfg.Log.Warn("saved ETA model cannot be read; starting a new one", "version", v, "err", err)
			return nil
		}
		l.set(m, false)
		l.p.cfg.Log.Info("ETA model loaded", "version", time.Unix(int64(v), 0).UTC().Format(time.DateOnly), "deliveries", m.Deliveries())
		return nil
	})
}

// run builds versions until ctx ends.
func (l *learner) run(ctx context.Context) {
	tick := time.NewTicker(l.cfg.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		case <-tick.C:
		}
		if err := l.step(ctx); err != nil && ctx.Err() == nil {
			l.mu.Lock()
			l.failures++
			l.mu.Unlock()
			l.p.cfg.Log.Warn("cannot build the next ETA model version; predictions keep the current one", "err", err)
		}
	}
}

// step builds the versions every partition has completed, one day after
// the other: the same sequence of Learn calls in every run, so that a
// version is the same model, bit for bit, however far apart its builds.
func (l *learner) step(ctx context.Context) error {
	parts, err := l.partitions(ctx)
	if err != nil {
		return err
	}
	if memos, ok := l.memories(parts); ok {
		return l.stepMemory(ctx, memos)
	}
	target, err := l.sink.Progress(ctx, parts)
	if err != nil {
		return err
	}
	l.setTarget(target)
	cur := l.current()
	if target <= cur.Version() {
		return nil
	}
	began := time.Now()
	if v, blob, ok, err := l.sink.LatestModel(ctx); err != nil {
		return err
	} else if ok && v > cur.Version() && v <= target {
		// Another processor built it: take its copy.
		if m, err := eta.Unmarshal(blob); err == nil {
			l.set(m, true)
			cur = m
		}
	}
	from := cur.Version()
	if from == 0 {
		first, err := l.sink.FirstLearn(ctx)
		if err != nil {
			return err
		}
		var ok bool
		if from, ok = l.firstFrom(cur, first, target); !ok {
			return nil
		}
	}
	// Two queries for the whole range, then one Learn per day.
	var ds []eta.Delivery
	if err := l.sink.Learned(ctx, from, target, func(d eta.Delivery) error {
		ds = append(ds, d)
		return nil
	}); err != nil {
		return err
	}
	vs, err := l.sink.VisitCounts(ctx, from, target)
	if err != nil {
		return err
	}
	for v := from - from%day + day; v <= target; v += day {
		next := cur.Clone()
		next.Learn(learnedOn(ds, v, func(d *eta.Delivery) uint32 { return d.Learn }), learnedOn(vs, v, func(c *eta.VisitCount) uint32 { return c.Learn }), v)
		// Owners waiting for this day get it now; the copy they read is
		// not learned on again.
		l.set(next, true)
		cur = next
	}
	return l.save(ctx, cur, target, began, "storage")
}

// firstFrom returns where the first build begins, given the least learn
// day of any prediction (0: none). With nothing to learn up to target it
// sets the empty model of that version, which owners waiting for it may
// take, and returns false.
func (l *learner) firstFrom(cur *eta.Model, first, target uint32) (uint32, bool) {
	if first == 0 || first > target {
		next := cur.Clone()
		next.Learn(nil, nil, target)
		l.set(next, true)
		return 0, false
	}
	return first - first%day - day, true
}

// stepMemory is step with what memos hold instead of storage's queries:
// the same versions, learned from the same rows (see memo.go).
func (l *learner) stepMemory(ctx context.Context, memos []*partMemo) error {
	target, first := uint32(0), uint32(0)
	for i, pm := range memos {
		p, f := pm.state()
		if i == 0 || p < target {
			target = p
		}
		if f != 0 && (first == 0 || f < first) {
			first = f
		}
	}
	l.setTarget(target)
	cur := l.current()
	if target <= cur.Version() {
		return nil
	}
	began := time.Now()
	from := cur.Version()
	if from == 0 {
		var ok bool
		if from, ok = l.firstFrom(cur, first, target); !ok {
			return nil
		}
	}
	for v := from - from%day + day; v <= target; v += day {
		counts := map[visitKey]float64{}
		var ds []eta.Delivery
		for _, pm := range memos {
			ds = append(ds, pm.collect(from, target, v, counts)...)
		}
		vs := make([]eta.VisitCount, 0, len(counts))
		for k, n := range counts {
			vs = append(vs, eta.VisitCount{Carrier: k.carrier, Service: k.service, Lane: k.lane, Milestone: k.milestone, Day: k.day, N: n, Learn: v})
		}
		next := cur.Clone()
		next.Learn(ds, vs, v)
		l.set(next, true)
		cur = next
	}
	for _, pm := range memos {
		pm.prune(target)
	}
	return l.save(ctx, cur, target, began, "memory")
}

// save stores the version built last, so that a restarted processor or
// another one starts from it.
func (l *learner) save(ctx context.Context, cur *eta.Model, target uint32, began time.Time, from string) error {
	blob, err := cur.MarshalBinary()
	if err != nil {
		return err
	}
	if err := l.sink.SaveModel(ctx, cur.Version(), blob); err != nil {
		return err
	}
	l.mu.Lock()
	l.learned = cur.Deliveries()
	if from == "memory" {
		l.fromMemory++
	} else {
		l.fromStorage++
	}
	l.mu.Unlock()
	l.p.cfg.Log.Info("ETA model version built", "version", time.Unix(int64(target), 0).UTC().Format(time.DateOnly),
		"deliveries", cur.Deliveries(), "from", from, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

const day = 24 * 60 * 60

// partitions returns the partitions of the topic that hold messages: each
// must have reported progress v before v is built, whichever processor
// owns it. A partition that has never had a message cannot hold anything
// back.
func (l *learner) partitions(ctx context.Context) ([]int, error) {
	ends, err := kafkaadmin.EndOffsets(ctx, l.p.cfg.Brokers, l.p.cfg.Topic)
	if err != nil {
		return nil, err
	}
	var out []int
	for p, end := range ends {
		if end > 0 {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}

// learnedOn returns the items of xs whose learn day is v.
func learnedOn[T any](xs []T, v uint32, learn func(*T) uint32) []T {
	var out []T
	for i := range xs {
		if learn(&xs[i]) == v {
			out = append(out, xs[i])
		}
	}
	return out
}

// etaOwner is an owner's side of predictions: its predictor and what its
// next write carries.
type etaOwner struct {
	l        *learner
	pred     *eta.Predictor
	lateness uint32
	recs     []eta.Record
	outs     []eta.Outcome
	progress uint32    // last progress written
	stuck    uint32    // a Complete the model did not reach in AlignWait; not waited for again
	wanted   uint32    // the model version last picked for
	memo     *partMemo // what versions learn from, while the learner learns from memory
}

func newETAOwner(l *learner) *etaOwner {
	if l == nil {
		return nil
	}
	return &etaOwner{l: l, pred: l.current().NewPredictor(), lateness: uint32(l.cfg.Lateness / time.Second)}
}

// want returns the model version an owner at watermark w predicts with:
// the day before the last its partition has completed.
func (e *etaOwner) want(w uint32) uint32 {
	c := eta.Complete(w, e.lateness)
	if c <= day {
		return 0
	}
	return c - day
}

// behind reports whether an owner whose partition is at watermark w and
// lag messages behind its end should wait for the model before going on:
// it replays a backlog and the learner does not have its version yet.
func (e *etaOwner) behind(w uint32, lag int64) (want uint32, ok bool) {
	want = e.want(w)
	if lag <= e.l.cfg.AlignLag || want == 0 || e.stuck >= want {
		return 0, false
	}
	return want, e.l.current().Version() < want
}

// observe predicts after a change of shipment s, or records its outcome
// when it is delivered. before is the partition's watermark before the
// event, w after it. It returns the prediction, nil for a delivery; the
// pointer is valid until the next call.
func (e *etaOwner) observe(tn string, s *analytics.Shipment, before, w uint32) *eta.Prediction {
	// The learner is asked again only when the version wanted changes, or
	// while it has not had that version yet: not under a lock every event.
	if w := e.want(before); w != e.wanted || e.pred.Model().Version() < w {
		e.wanted = w
		if m := e.l.pick(w); m != e.pred.Model() {
			e.pred.Use(m)
		}
	}
	carrier, service, lane := s.Group().Strings()
	var promised uint32
	if s.HasPromise() {
		promised = s.PromisedAt
	}
	if s.Delivered() {
		d := s.DeliveredAt
		e.outs = append(e.outs, eta.Outcome{TrackingNumber: tn, Carrier: carrier, Service: service, Lane: lane, Merchant: s.Merchant(),
			Start: s.Start(), DeliveredAt: d, PromisedAt: promised, Rev: uint64(s.Version), Learn: eta.LearnVersion(d, w, e.lateness)})
		e.recs = append(e.recs, eta.Record{TrackingNumber: tn, Carrier: carrier, Service: service, Lane: lane, Merchant: s.Merchant(),
			Status: s.LastStatus, PromisedAt: promised, Start: s.Start(), Rev: uint64(s.Version),
			Prediction: eta.Prediction{AsOf: s.LastAt, Milestone: eta.MilestoneOf(s), P10: d, P50: d, P90: d,
				Version: e.pred.Model().Version(), Basis: eta.BasisDelivered}})
		return nil
	}
	pr := e.pred.Predict(s, s.LastAt)
	e.recs = append(e.recs, eta.Record{TrackingNumber: tn, Carrier: carrier, Service: service, Lane: lane, Merchant: s.Merchant(),
		Status: s.LastStatus, PromisedAt: promised, Start: s.Start(), Rev: uint64(s.Version),
		Learn: eta.LearnVersion(pr.AsOf, w, e.lateness), Prediction: pr})
	return &e.recs[len(e.recs)-1].Prediction
}

// take moves what the next write carries into r, with the partition's
// progress when it moved.
func (e *etaOwner) take(r *writeReq, w uint32) {
	r.preds, r.outs = e.recs, e.outs
	e.recs, e.outs = nil, nil
	if c := eta.Complete(w, e.lateness); c > e.progress {
		r.progress = c
	}
}

// written records that r's progress is stored.
func (e *etaOwner) written(r *writeReq) {
	if r.progress > e.progress {
		e.progress = r.progress
		defer e.l.poke()
	}
	if e.memo != nil {
		if e.l.memoOff() {
			e.memo = nil
			return
		}
		e.memo.add(r.preds, r.outs, e.progress)
	}
}

// storeETA adds to g the writes of the predictions and outcomes of merged
// requests, which go after the aggregates.
func (w *writer) storeETA(ctx context.Context, g *pool.ErrorPool, reqs []*writeReq) {
	sink := w.p.etaSink
	if sink == nil {
		return
	}
	var (
		recs []eta.Record
		outs []eta.Outcome
	)
	for _, r := range reqs {
		recs = append(recs, r.preds...)
		outs = append(outs, r.outs...)
	}
	if len(recs) > 0 {
		g.Go(func() error {
			if err := w.p.retry(ctx, "write predictions", func(ctx context.Context) error { return sink.WritePredictions(ctx, recs) }); err != nil {
				return err
			}
			w.p.metrics.predictions.Add(int64(len(recs)))
			return nil
		})
	}
	if len(outs) > 0 {
		g.Go(func() error {
			if err := w.p.retry(ctx, "write outcomes", func(ctx context.Context) error { return sink.WriteOutcomes(ctx, outs) }); err != nil {
				return err
			}
			w.p.metrics.outcomes.Add(int64(len(outs)))
			return nil
		})
	}
}

// storeProgress writes the model progress of merged requests once
// everything else of theirs is stored: progress claims that everything
// before it is.
func (w *writer) storeProgress(ctx context.Context, reqs []*writeReq) error {
	sink := w.p.etaSink
	if sink == nil {
		return nil
	}
	progress := map[int]uint32{}
	for _, r := range reqs {
		if r.progress > 0 {
			progress[r.partition] = r.progress
		}
	}
	if len(progress) == 0 {
		return nil
	}
	return w.p.retry(ctx, "write model progress", func(ctx context.Context) error { return sink.WriteProgress(ctx, progress) })
}

// ModelBuilds returns how many model step builds the processor made from
// memory and how many from storage (see memo.go).
func (p *Processor) ModelBuilds() (fromMemory, fromStorage int64) {
	if p.learner == nil {
		return 0, 0
	}
	l := p.learner
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.fromMemory, l.fromStorage
}

// ModelVersion returns the version of the ETA model the processor predicts
// with (Unix seconds of a UTC day start; 0 before the first), and how many
// versions it built or loaded since it started.
func (p *Processor) ModelVersion() (version uint32, built int64) {
	if p.learner == nil {
		return 0, 0
	}
	l := p.learner
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.model.Version(), l.versions
}

var errNoETA = errors.New("predictions are off")

// Model returns the ETA model the processor predicts with.
func (p *Processor) Model() (*eta.Model, error) {
	if p.learner == nil {
		return nil, fmt.Errorf("cannot read the ETA model: %w", errNoETA)
	}
	return p.learner.current(), nil
}
