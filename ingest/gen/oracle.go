package gen

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
)

// DefaultOracleDraws is the number of continuations an Oracle draws per
// prediction when NewOracle is given n <= 0. With n draws the sampled p50
// strays from the true median by about 1.25/sqrt(n) standard deviations
// (for a bell-shaped distribution), which adds about 0.8/n, 1.2% for 64, to
// a mean absolute error; and 64 draws cost about 30 µs, so that the oracle
// of a backtest of the default workload, 240,000 predictions, takes under 4
// s on two cores.
const DefaultOracleDraws = 64

// Oracle predicts delivery times from the generator's own process: after a
// scan, it rebuilds the shipment exactly as the generator did, up to and
// including the draws that produced that scan, and then lets the journey
// run on many times, each time from a fresh random stream. The quantiles of
// the delivery times of those continuations are the true conditional
// quantiles (up to sampling error), which no model that sees only the
// events can beat; see "The oracle" in the package documentation. An
// Oracle from NewLuckFreeOracle forgets one thing before it lets the
// journey run on, the parcel's luck, and draws that afresh too.
//
// An Oracle is safe for concurrent use: each Predict borrows scratch state
// from a pool.
type Oracle struct {
	g    *Generator
	n    int
	pool sync.Pool // of *oracleRun
}

// NewOracle returns an oracle for the workload of g that draws n
// continuations per prediction; n <= 0 means DefaultOracleDraws.
func (g *Generator) NewOracle(n int) *Oracle { return g.newOracle(n, false) }

// NewLuckFreeOracle is NewOracle, except that each continuation draws the
// parcel's luck factor afresh from its prior (the distribution the
// generator draws the parcel's own from, see drawLuck) and applies it,
// instead of the parcel's own, to every transport leg whose duration the
// continuation draws after scan nn: pickup, to and through the sorting
// centre, export, departure, linehaul, to the delivery facility (also
// before a delay), hand-over and last mile. The durations that luck does
// not scale (customs, holds, the delivery rounds, collection at a pickup
// point, returns) are drawn as in NewOracle.
//
// Everything up to scan nn is as generated: the durations drawn before
// the switch keep the parcel's own factor, so that scans 0 to nn are
// reproduced exactly. A duration drawn before scan nn and spent after it,
// the rest of a linehaul after a transit hub scan, keeps it too (it is
// about 3/2 of the part seen, so no secret). Only the luck is unknown: this
// oracle knows all else NewOracle knows, the lane, carrier, product and
// recipient, and the fate, all decided before the journey (a parcel the
// generator will lose still gets no prediction), and it keeps only the
// continuations that fit MaxJourney as the journey did.
//
// So it predicts as an oracle would that knew the generator's process but
// made nothing of what the legs seen so far tell of the parcel's luck. That
// makes it a reference, not a bound: its excess error over NewOracle's is
// what ignoring the luck altogether costs, and a model, which may infer
// the luck from the legs it has seen (how long the parcel has taken so far
// says much of it), can win part of that back. Its intervals are wider
// than NewOracle's, the more so the more transport legs lie ahead; once
// none does (after out_for_delivery) the two predict alike. They still
// hold the delivery about 80% of the time, for the parcel's own luck is a
// draw from the same prior, though not exactly, for the legs seen make
// some lucks likelier than others.
//
// Continuation j of a prediction draws the journey from the same stream as
// NewOracle's continuation j, and its luck from a stream of its own, so
// that the two oracles' predictions differ little more than their
// knowledge does; predictions after out_for_delivery are identical.
func (g *Generator) NewLuckFreeOracle(n int) *Oracle { return g.newOracle(n, true) }

func (g *Generator) newOracle(n int, luckFree bool) *Oracle {
	if n <= 0 {
		n = DefaultOracleDraws
	}
	o := &Oracle{g: g, n: n}
	o.pool.New = func() any {
		r := newOracleRun(g, n)
		r.stream.luckFree = luckFree
		return r
	}
	return o
}

// Predict returns the true p10, p50 and p90 (Unix seconds) of the delivery
// time of the shipment whose event has id eventID (the
// "<carrier>:<tracking>:<nn>" ids the generator emits), as seen right after
// that scan: the quantiles of the delivery times of the continuations that
// end in delivery, interpolated between order statistics so that a
// further continuation falls inside [p10, p90] 80% of the time. The
// delivery time is the delivered scan's occurred_at, reporting quirks
// included, so p10 is never before the scan's own occurred_at.
//
// ok is false when the id is not one of the workload's, or when no
// continuation delivers: a parcel the generator has decided to lose (the
// oracle knows its fate), a label never handed over, a parcel on its way
// back to the sender.
//
// The result depends on the Generator's Config, n and eventID alone. No
// index of the workload is built: the serial in the tracking number gives
// the shipment's index (see trackingIndex), and rebuilding that one
// shipment confirms it.
func (o *Oracle) Predict(eventID string) (p10, p50, p90 int64, ok bool) {
	r := o.pool.Get().(*oracleRun)
	defer o.pool.Put(r)
	if !r.prepare(eventID) {
		return 0, 0, 0, false
	}
	times := r.times[:0]
	// A rejected continuation is not one of this journey (see
	// continuation). About 2% of them are, mostly of journeys that only
	// just fit MaxJourney, where nearly all may be; the bound keeps those
	// from taking long, at the price of fewer draws for a few in ten
	// thousand predictions (or none: then ok is false).
	for j, kept := 0, 0; kept < o.n && j < 16*o.n; j++ {
		at, accepted := r.continuation(j)
		if !accepted {
			continue
		}
		kept++
		if at >= 0 {
			times = append(times, at)
		}
	}
	r.times = times
	if len(times) == 0 {
		return 0, 0, 0, false
	}
	slices.Sort(times)
	return timeQuantile(times, 0.1), timeQuantile(times, 0.5), timeQuantile(times, 0.9), true
}

// timeQuantile returns the q quantile of sorted, interpolating linearly
// between order statistics at rank (n+1)q (Hyndman and Fan's type 6): the
// k-th of n draws lies below a further draw with probability k/(n+1), so a
// further draw falls below this quantile with probability q, whatever n,
// and inside [p10, p90] 80% of the time.
func timeQuantile(sorted []int64, q float64) int64 {
	h := q*float64(len(sorted)+1) - 1 // 0-based
	if h <= 0 {
		return sorted[0]
	}
	lo := int(h)
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + int64(math.Round((h-float64(lo))*float64(sorted[lo+1]-sorted[lo])))
}

// fork is the main stream of an oracle's run. Until the journey s has at
// scans it draws from the shipment's own stream, so that a continuation
// repeats the journey up to scan at-1; from then on it draws from alt.
// Every draw from the journey's *rand.Rand comes through Uint64, and add
// makes its draws before it appends the scan, so the switch falls right
// after the last draw that shaped scan at-1.
//
// Replaying that prefix is most of a continuation's cost, and most of that
// is run.dur (a normal deviate and math.Exp); durs keeps the durations of
// the prefix, the same in every continuation, with the state of the stream
// after each, so that only the first continuation computes them.
//
// In a luck-free oracle, the transport legs drawn after the switch take
// the luck the continuation drew, not the parcel's (see run.speed).
type fork struct {
	pcg      *rand.PCG
	s        *shipment
	at       int // 0: never switch
	alt      rand.PCG
	durs     []memo // of the prefix, in draw order
	k        int    // next of durs
	luckFree bool
	luck     float64 // the continuation's luck, if luckFree
}

// memo is a duration of the prefix and the state of the stream after it
// was drawn.
type memo struct {
	d     int64
	after rand.PCG
}

// Uint64 makes fork a rand.Source.
func (f *fork) Uint64() uint64 {
	if f.forked() {
		return f.alt.Uint64()
	}
	return f.pcg.Uint64()
}

// replaying reports whether the journey is still in the prefix.
func (f *fork) replaying() bool { return f.at > 0 && len(f.s.evs) < f.at }

// forked reports whether the journey is past the prefix, drawing from alt.
func (f *fork) forked() bool { return f.at > 0 && len(f.s.evs) >= f.at }

// recall returns the next duration of the prefix, drawn by an earlier
// continuation, and moves the stream past it.
func (f *fork) recall() int64 {
	m := &f.durs[f.k]
	f.k++
	*f.pcg = m.after
	return m.d
}

// remember keeps d, just drawn in the prefix, for the next continuations.
func (f *fork) remember(d int64) {
	f.durs = append(f.durs, memo{d, *f.pcg})
	f.k++
}

// oracleRun is the scratch state of one prediction.
type oracleRun struct {
	run
	stream fork
	base   shipment // the shipment as generated, reporting quirks included
	cont   shipment // the continuation being drawn
	// What prepare learnt of the shipment's state after scan nn.
	nn       int
	a        uint64   // the shipment's seed
	f        fate     // normal: the others never deliver
	start    rand.PCG // main stream at the start of the journey attempt the generator kept
	squeezed bool     // that attempt ran past MaxJourney and was compressed
	ties     uint32   // bit k: scan k (k <= nn) shares the second of scan k-1
	seen     int64    // occurred_at of scan nn, Unix seconds
	times    []int64
	// The stream a luck-free oracle's continuation draws its luck from.
	luckPCG rand.PCG
	luckRng *rand.Rand
}

func newOracleRun(g *Generator, n int) *oracleRun {
	r := &oracleRun{run: run{g: g}, times: make([]int64, 0, n)}
	r.stream.pcg, r.stream.s = &r.pcg, &r.cont
	r.fork = &r.stream
	r.rng = rand.New(&r.stream)
	r.qrng = rand.New(&r.qpcg)
	r.luckRng = rand.New(&r.luckPCG)
	r.base.evs, r.cont.evs = r.base.evsBuf[:0], r.cont.evsBuf[:0]
	return r
}

// prepare parses eventID, rebuilds its shipment as the generator did and
// records the state continuations start from. It reports whether the id is
// one of the workload's and the shipment can still be delivered.
func (r *oracleRun) prepare(eventID string) bool {
	c, tn, nn, ok := parseEventID(eventID)
	if !ok {
		return false
	}
	i, ok := trackingIndex(r.g.cfg.Seed, c, tn)
	if !ok || i >= r.g.cfg.Shipments {
		return false
	}
	s := &r.base
	r.stream.at, r.stream.durs = 0, r.stream.durs[:0]
	a, f := r.attributes(s, i)
	if s.c != c || s.tracking != tn {
		return false
	}
	if f != fateNormal {
		// An info-only label has one scan; a lost parcel's scans are cut
		// before any delivery round (vanish), whatever its continuation.
		return false
	}
	r.start, r.squeezed = r.route(s, f)
	if nn >= len(s.evs) {
		return false
	}
	r.quirks(s, a)
	r.ties = 0
	for k := 1; k <= nn; k++ {
		if s.evs[k].off == s.evs[k-1].off { // add and compress keep scans a minute apart
			r.ties |= 1 << k
		}
	}
	r.nn, r.a, r.f = nn, a, f
	r.seen = s.order + int64(s.evs[nn].off)
	r.cont = *s
	r.cont.evs, r.cont.arr = r.cont.evsBuf[:0], nil
	return true
}

// continuation draws continuation j of the journey after scan nn and
// returns its delivery time, -1 if it does not deliver.
//
// accepted is false when the continuation could not have led to the scans
// seen: it runs past MaxJourney while the generator's journey did not, so
// the generator would have redrawn it (or, on its last attempt, compressed
// it, moving every scan), or the other way round. About one shipment in a
// thousand reaches the generator's last attempt, and one in ten thousand
// runs past MaxJourney there and is compressed; its continuations are then
// those that run past too, compressed as the generator does, which moves
// their scans up to nn a little, the scale depending on the whole journey,
// so that now and then one delivers before scan nn as seen: it counts as
// delivered at scan nn.
func (r *oracleRun) continuation(j int) (at int64, accepted bool) {
	s := &r.cont
	seed := splitmix(r.a ^ splitmix(uint64(r.nn)<<32|uint64(j)) ^ 0x3c6ef372fe94f82b)
	r.pcg = r.start
	r.stream.alt.Seed(seed, splitmix(seed^0xa54ff53a5f1d36f1))
	if r.stream.luckFree {
		r.luckPCG.Seed(splitmix(seed^0x510e527fade682d1), splitmix(seed^0x9b05688c2b3e6c1f))
		r.stream.luck = drawLuck(r.luckRng)
	}
	r.stream.at, r.stream.k = r.nn+1, 0
	r.journey(s, r.f)
	if over := s.lastTime()-s.order >= journeyLimit; over != r.squeezed {
		r.stream.at = 0
		return -1, false
	} else if over {
		s.compress(journeyLimit)
	}
	// Reporting ties, as quirks makes them: those up to nn as they were,
	// the later ones drawn afresh (the stream is past its fork).
	tied := false
	for k := 1; k < len(s.evs); k++ {
		if k <= r.nn {
			tied = r.ties>>k&1 != 0
		} else {
			x := r.rng.Float64()
			tied = !tied && x < r.g.tie
		}
		if tied {
			s.evs[k].off = s.evs[k-1].off
		}
	}
	r.stream.at = 0
	// A journey ends with its delivery, if it has one.
	if last := s.evs[len(s.evs)-1]; scans[last.scan].kind == kDelivered {
		return max(s.order+int64(last.off), r.seen), true
	}
	return -1, true
}

// parseEventID splits "<carrier>:<tracking number>:<nn>" from the right.
func parseEventID(id string) (c *carrier, tn string, nn int, ok bool) {
	k := strings.LastIndexByte(id, ':')
	if k < 0 || len(id)-k != 3 {
		return nil, "", 0, false
	}
	d1, d0 := id[k+1], id[k+2]
	if d1 < '0' || d1 > '9' || d0 < '0' || d0 > '9' {
		return nil, "", 0, false
	}
	nn = int(d1-'0')*10 + int(d0-'0')
	rest := id[:k]
	k = strings.LastIndexByte(rest, ':')
	if k < 0 || nn >= maxEvents {
		return nil, "", 0, false
	}
	code := rest[:k]
	for _, c := range carriers {
		if c.code == code {
			return c, rest[k+1:], nn, true
		}
	}
	return nil, "", 0, false
}
