package eta

import (
	"math"
	"slices"
	"unique"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/schemas"
)

// Predictor answers predictions from a Model, caching each group's
// distributions until the model changes. A Predictor is not safe for
// concurrent use: each processor owner has its own, reading one shared
// model that nobody changes while it is read.
type Predictor struct {
	m     *Model
	gen   uint64
	dists map[distKey]*dist
	fast  map[fastKey]cached
}

// dist is a normalised distribution over histogram buckets, with the
// weight of the group's own deliveries behind it.
type dist struct {
	lo  int
	p   []float64 // sums to 1 - tail
	own float64   // the group's own weight, as of the model version
	// tail is the mass known only to lie beyond horizon hours: parcels
	// still under way for longer than any delivery seen (see km).
	tail    float64
	horizon float64
}

type distKey struct {
	level int
	key   string
	c     cell
}

// fastKey is a cache key that needs no string building: the interned
// labels of a shipment and where it stands.
type fastKey struct {
	g analytics.Group
	m Milestone
	e uint8
}

// cached is a prediction relative to the checkpoint it was made at.
type cached struct {
	q10, q50, q90 float64 // hours from the checkpoint
	tail, horizon float64 // see dist; a quantile in the tail is NaN
	e             uint8   // the checkpoint they are measured from
	basis         Basis
	ok            bool
}

// NewPredictor returns a predictor reading m.
func (m *Model) NewPredictor() *Predictor {
	return &Predictor{m: m, gen: m.gen}
}

// Use switches p to model m, for example a new version.
func (p *Predictor) Use(m *Model) { p.m = m; p.reset() }

// Model returns the model p reads.
func (p *Predictor) Model() *Model { return p.m }

func (p *Predictor) reset() {
	p.gen = p.m.gen
	p.dists = nil
	p.fast = nil
}

func (p *Predictor) check() {
	if p.gen != p.m.gen || p.dists == nil {
		p.reset()
		p.dists = map[distKey]*dist{}
		p.fast = map[fastKey]cached{}
	}
}

// remaining returns the distribution of remaining time in cell c of group
// level l: the group's own histogram blended with its parent's, which is
// worth Strength deliveries; the parent is the next coarser group.
func (p *Predictor) remaining(keys [numLevels]string, ok [numLevels]bool, l int, c cell) *dist {
	if l >= numLevels {
		return nil
	}
	if !ok[l] {
		return p.remaining(keys, ok, l+1, c)
	}
	k := distKey{l, keys[l], c}
	if d, hit := p.dists[k]; hit {
		return d
	}
	parent := p.remaining(keys, ok, l+1, c)
	var own *Hist
	var d *dist
	if g := p.m.levels[l][keys[l]]; g != nil {
		own = g.Remaining[c]
		if pend := g.Pending[c.M]; c.E == 0 && len(pend) > 0 {
			d = km(own, pend, p.m.scale(), p.m.version, parent, p.m.cfg.Strength)
		}
	}
	if d == nil {
		d = blend(own, p.m.scale(), parent, p.m.cfg.Strength)
	}
	p.dists[k] = d
	return d
}

// km returns the Kaplan-Meier estimate of the distribution of remaining
// time from the delivered scans in own, the parent's distribution counted
// as strength pseudo-deliveries, and the pending scans, each of which is
// known only to take longer than the time from its day to version. Without
// the pending scans the model would, early on, see only the parcels fast
// enough to be delivered already; with them, a group whose parcels are all
// still under way after five days moves its parent's mass past five days.
// The mass beyond the last delivery goes to the longest pending time. nil
// when there is nothing to estimate from.
func km(own *Hist, pending map[uint32]float64, scale float64, version uint32, parent *dist, strength float64) *dist {
	lo, hi := math.MaxInt, math.MinInt
	w := 0.0
	if own != nil && own.N > 0 {
		lo, hi, w = own.Lo, own.Lo+len(own.C), own.N*scale
	}
	if parent != nil {
		lo, hi = min(lo, parent.lo), max(hi, parent.lo+len(parent.p))
	}
	type cens struct {
		b int
		w float64
	}
	// Days in order: sums in map order would differ in the last bits from
	// run to run, and so would the quantiles.
	days := make([]uint32, 0, len(pending))
	for d := range pending {
		if d < version {
			days = append(days, d)
		}
	}
	slices.Sort(days)
	cs := make([]cens, 0, len(days)+1)
	for _, d := range days {
		b := histBucket((float64(version) - float64(d) - day/2) / 3600)
		cs = append(cs, cens{b, pending[d] * scale})
		lo, hi = min(lo, b), max(hi, b+1)
	}
	if parent != nil && parent.tail > 0 {
		b := histBucket(parent.horizon)
		cs = append(cs, cens{b, parent.tail * strength})
		lo, hi = min(lo, b), max(hi, b+1)
	}
	if w == 0 && parent == nil || lo >= hi {
		return nil
	}
	deaths := make([]float64, hi-lo)
	risk := make([]float64, hi-lo+1)
	if w > 0 {
		for i, c := range own.C {
			deaths[own.Lo-lo+i] += c * scale
		}
	}
	if parent != nil {
		for i, c := range parent.p {
			deaths[parent.lo-lo+i] += c * strength
		}
	}
	copy(risk, deaths)
	last := -1
	for _, c := range cs {
		risk[c.b-lo] += c.w
		last = max(last, c.b-lo)
	}
	for i := len(deaths) - 1; i >= 0; i-- {
		risk[i] += risk[i+1]
	}
	out := &dist{lo: lo, p: make([]float64, hi-lo), own: w}
	s := 1.0
	for i, d := range deaths {
		if d <= 0 || risk[i] <= 0 {
			continue
		}
		hz := d / risk[i]
		out.p[i] = s * hz
		s *= 1 - hz
	}
	if last >= 0 && s > 1e-9 {
		out.tail, out.horizon = s, bucketEdge(last+lo)
	} else if s > 1e-9 {
		out.p[len(out.p)-1] += s
	}
	return out
}

// blend returns own·scale + strength·parent, normalised; nil when both are
// empty.
func blend(own *Hist, scale float64, parent *dist, strength float64) *dist {
	var w float64
	if own != nil {
		w = own.N * scale
	}
	if !(w > 0) && parent == nil {
		return nil
	}
	lo, hi := math.MaxInt, math.MinInt
	if w > 0 {
		lo, hi = own.Lo, own.Lo+len(own.C)
	}
	pw := 0.0
	if parent != nil {
		pw = strength
		lo, hi = min(lo, parent.lo), max(hi, parent.lo+len(parent.p))
	}
	d := &dist{lo: lo, p: make([]float64, hi-lo), own: w}
	total := w + pw
	if w > 0 {
		for i, c := range own.C {
			d.p[own.Lo-lo+i] += c * scale / total
		}
	}
	if parent != nil {
		for i, c := range parent.p {
			d.p[parent.lo-lo+i] += c * pw / total
		}
		d.tail, d.horizon = parent.tail*pw/total, parent.horizon
	}
	return d
}

// quantile returns the q-quantile of d in hours, interpolating inside the
// bucket on the log1p scale.
func (d *dist) quantile(q float64) float64 {
	if q > 1-d.tail {
		return math.NaN()
	}
	acc := 0.0
	for i, c := range d.p {
		if c <= 0 {
			continue
		}
		if acc+c >= q {
			f := (q - acc) / c
			return math.Expm1((float64(d.lo+i) + f) * logHistGamma)
		}
		acc += c
	}
	if d.tail > 0 {
		return d.horizon
	}
	return bucketEdge(d.lo + len(d.p) - 1)
}

// cdf returns P(X ≤ hours).
func (d *dist) cdf(hours float64) float64 {
	if hours < 0 {
		return 0
	}
	x := math.Log1p(min(hours, maxHours)) / logHistGamma
	acc := 0.0
	for i, c := range d.p {
		b := float64(d.lo + i)
		switch {
		case x >= b+1:
			acc += c
		case x > b:
			acc += c * (x - b)
		}
	}
	return min(acc, 1)
}

// elapsedIndex returns the last checkpoint at or before h hours at a
// milestone.
func elapsedIndex(h float64) uint8 {
	i := 0
	for i+1 < numElapsed && elapsedEdges[i+1] <= h {
		i++
	}
	return uint8(i)
}

// predictCell finds the distribution for a shipment standing at m for
// elapsed hours, falling back to earlier checkpoints when nothing was
// learned that late, and returns its quantiles from that checkpoint.
func (p *Predictor) predictCell(keys [numLevels]string, ok [numLevels]bool, m Milestone, e uint8) cached {
	for ; ; e-- {
		if d := p.remaining(keys, ok, 0, cell{m, e}); d != nil {
			return cached{q10: d.quantile(0.1), q50: d.quantile(0.5), q90: d.quantile(0.9), tail: d.tail, horizon: d.horizon,
				e: e, basis: p.basis(keys, ok, cell{m, e}), ok: true}
		}
		if e == 0 {
			return cached{}
		}
	}
}

// basis returns the finest group whose own deliveries at c weigh at least
// Strength, else the finest with any.
func (p *Predictor) basis(keys [numLevels]string, ok [numLevels]bool, c cell) Basis {
	any := Basis(numLevels)
	for l := range numLevels {
		if !ok[l] {
			continue
		}
		d := p.remaining(keys, ok, l, c)
		if d == nil || d.own <= 0 {
			continue
		}
		if d.own >= p.m.cfg.Strength {
			return Basis(l)
		}
		if any == Basis(numLevels) {
			any = Basis(l)
		}
	}
	if any == Basis(numLevels) {
		return BasisGlobal
	}
	return any
}

// Predict returns the predicted delivery of an undelivered shipment as of
// now (Unix seconds, at or after its latest scan; the latest scan's time
// when now is earlier). The time already spent at the milestone is now
// minus the latest scan.
func (p *Predictor) Predict(s *analytics.Shipment, now uint32) Prediction {
	var promise uint32
	if s.HasPromise() {
		promise = s.PromisedAt
	}
	return p.predict(s.Group(), MilestoneOf(s), s.LastAt, s.Start(), promise, now)
}

// Repredict predicts again, as of now, a shipment from its stored
// prediction r: later than r.AsOf, the time already spent at the milestone
// counts.
func (p *Predictor) Repredict(r *Record, now uint32) Prediction {
	g := analytics.Group{Carrier: unique.Make(r.Carrier), Service: unique.Make(r.Service), Lane: unique.Make(r.Lane)}
	return p.predict(g, r.Milestone, r.AsOf, r.Start, r.PromisedAt, now)
}

func (p *Predictor) predict(g analytics.Group, m Milestone, at, start, promise, now uint32) Prediction {
	p.check()
	now = max(now, at)
	elapsed := float64(now-at) / 3600
	e := elapsedIndex(elapsed)
	fk := fastKey{g, m, e}
	c, hit := p.fast[fk]
	if !hit {
		carrier, service, lane := g.Strings()
		keys, ok := levelKeys(carrier, service, lane)
		c = p.predictCell(keys, ok, m, e)
		p.fast[fk] = c
	}
	pr := Prediction{AsOf: at, Milestone: m, Version: p.m.version}
	if !c.ok {
		return coldStart(pr, promise, now)
	}
	// The cell's distribution is measured from its checkpoint; a cell of an
	// earlier checkpoint than the elapsed time may put quantiles in the
	// past, which are moved to now.
	base := float64(at) + elapsedEdges[c.e]*3600
	q10, q50, q90 := c.q10, c.q50, c.q90
	if c.tail > 0 {
		q10, q50, q90 = c.inTail(0.1, q10, promise, base), c.inTail(0.5, q50, promise, base), c.inTail(0.9, q90, promise, base)
	}
	pr.P10 = clampTime(base+q10*3600, now)
	pr.P50 = clampTime(base+q50*3600, pr.P10)
	pr.P90 = clampTime(base+q90*3600, pr.P50)
	pr.Basis = c.basis
	return pr
}

// inTail returns v, the q-quantile in hours from base, unless it lies in
// the tail: parcels under way for longer than every delivery of the group
// seen so far, as happens while a slow service's first parcels are still
// travelling. There the data says only "longer than the horizon", and the
// shipment's promise, else the prior, fills in: the tail is spread evenly
// from the horizon to twice its middle, the middle being the promised time
// when that lies beyond the horizon, else 1.5 times the horizon.
func (c cached) inTail(q, v float64, promise uint32, base float64) float64 {
	if !math.IsNaN(v) {
		return v
	}
	mid := 1.5 * c.horizon
	if promise != 0 {
		if r := (float64(promise) - base) / 3600; r > c.horizon {
			mid = r
		}
	}
	f := (q - (1 - c.tail)) / c.tail
	return c.horizon + 2*(mid-c.horizon)*f
}

func clampTime(t float64, lo uint32) uint32 {
	if math.IsNaN(t) || t < float64(lo) {
		return lo
	}
	if t > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(t)
}

// The cold start, with nothing learned for a shipment's milestone in any
// group. With a promise still ahead, the promised date is the p50 and the
// range spans half the time to it on either side. Without one, the prior:
// 10 days (5 to 20) before the parcel reaches its destination country, 3
// days (1 to 7) after, from the latest scan; these are the usual ranges of
// cross-border postal and line services, chosen wide on purpose.
const (
	priorOrigin50, priorOrigin10, priorOrigin90 = 10 * 24, 5 * 24, 20 * 24
	priorDest50, priorDest10, priorDest90       = 3 * 24, 1 * 24, 7 * 24
)

func coldStart(pr Prediction, promise, now uint32) Prediction {
	if promise > now {
		half := float64(promise-now) / 2
		pr.P10 = clampTime(float64(now)+half, now)
		pr.P50 = promise
		pr.P90 = clampTime(float64(promise)+half, promise)
		pr.Basis = BasisPromised
		return pr
	}
	q10, q50, q90 := priorOrigin10, priorOrigin50, priorOrigin90
	if pr.Milestone.InDestination() {
		q10, q50, q90 = priorDest10, priorDest50, priorDest90
	}
	pr.P10 = now + uint32(q10*3600)
	pr.P50 = now + uint32(q50*3600)
	pr.P90 = now + uint32(q90*3600)
	pr.Basis = BasisPrior
	return pr
}

// Quote is a what-if prediction for a parcel not shipped yet.
type Quote struct {
	Carrier, Service string
	P10, P50, P90    uint32  // Unix seconds
	OnTime           float64 // P(delivered by the deadline); -1 without a deadline
	Basis            Basis
	Deliveries       float64 // weight of the deliveries behind it, as of the model version
}

// Quote predicts the delivery of a parcel handed to carrier and service on
// lane at shippedAt, as if just picked up, and the probability that it
// arrives by deadline (0: none).
func (p *Predictor) Quote(carrier, service, lane string, shippedAt, deadline uint32) Quote {
	p.check()
	keys, ok := levelKeys(carrier, service, lane)
	q := Quote{Carrier: carrier, Service: service, OnTime: -1}
	var d *dist
	var c cell
	for _, m := range []Milestone{NewMilestone(schemas.PickedUp, false), NewMilestone(schemas.InfoReceived, false)} {
		c = cell{m, 0}
		if d = p.remaining(keys, ok, 0, c); d != nil {
			break
		}
	}
	if d == nil {
		q.P10 = shippedAt + uint32(priorOrigin10*3600)
		q.P50 = shippedAt + uint32(priorOrigin50*3600)
		q.P90 = shippedAt + uint32(priorOrigin90*3600)
		q.Basis = BasisPrior
		return q
	}
	t := float64(shippedAt)
	// Beyond every delivery seen, the tail: as for a shipment without a
	// promise (cached.inTail).
	tl := cached{tail: d.tail, horizon: d.horizon}
	q.P10 = clampTime(t+tl.inTail(0.1, d.quantile(0.1), 0, t)*3600, shippedAt)
	q.P50 = clampTime(t+tl.inTail(0.5, d.quantile(0.5), 0, t)*3600, q.P10)
	q.P90 = clampTime(t+tl.inTail(0.9, d.quantile(0.9), 0, t)*3600, q.P50)
	q.Basis = p.basis(keys, ok, c)
	if fd := p.remaining(keys, ok, int(q.Basis), c); fd != nil {
		q.Deliveries = fd.own
	}
	if deadline != 0 {
		q.OnTime = d.cdf((float64(deadline) - t) / 3600)
	}
	return q
}
