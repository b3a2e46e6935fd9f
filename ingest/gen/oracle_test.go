package gen

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// scored is a shipment's scans in rank order (event_id order, duplicates
// dropped), as the generator emitted them.
type scored struct {
	scans     []schemas.Event
	delivered int // rank of the delivered scan, -1 if none
}

func byShipment(t testing.TB, events []schemas.Event) []*scored {
	t.Helper()
	m := map[string]*scored{}
	var order []*scored
	seen := map[string]bool{}
	for _, e := range events {
		if seen[e.EventID] {
			continue
		}
		seen[e.EventID] = true
		p := m[e.TrackingNumber]
		if p == nil {
			p = &scored{delivered: -1}
			m[e.TrackingNumber] = p
			order = append(order, p)
		}
		p.scans = append(p.scans, e)
	}
	for _, p := range order {
		sort.Slice(p.scans, func(i, j int) bool { return p.scans[i].EventID < p.scans[j].EventID })
		for k, e := range p.scans {
			if want := fmt.Sprintf("%s:%s:%02d", e.Carrier, e.TrackingNumber, k); e.EventID != want {
				t.Fatalf("scan %d of %s has id %s, want %s", k, e.TrackingNumber, e.EventID, want)
			}
			if e.Status == schemas.Delivered && p.delivered < 0 {
				p.delivered = k
			}
		}
	}
	return order
}

// prediction is one Predict after scan nn of a delivered shipment.
type prediction struct {
	p10, p50, p90 int64
	ok            bool
	at, actual    int64 // the scan's occurred_at and the delivery's
	status        schemas.Status
}

// predictAll predicts after every scan before the delivery of every
// delivered shipment, on all cores.
func predictAll(o *Oracle, ships []*scored) []prediction {
	type job struct {
		id         string
		at, actual int64
		status     schemas.Status
	}
	var jobs []job
	for _, p := range ships {
		if p.delivered < 0 {
			continue
		}
		actual := p.scans[p.delivered].OccurredAt.Unix()
		for _, e := range p.scans[:p.delivered] {
			jobs = append(jobs, job{e.EventID, e.OccurredAt.Unix(), actual, e.Status})
		}
	}
	out := make([]prediction, len(jobs))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for k := w; k < len(jobs); k += workers {
				j := jobs[k]
				p10, p50, p90, ok := o.Predict(j.id)
				out[k] = prediction{p10, p50, p90, ok, j.at, j.actual, j.status}
			}
		})
	}
	wg.Wait()
	return out
}

func TestOracleCalibration(t *testing.T) {
	g, err := New(Config{Shipments: 2000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	ships := byShipment(t, g.Events())
	// Fewer continuations than the default, for speed: they widen the
	// quantiles' scatter, not their calibration (see timeQuantile).
	o := g.NewOracle(32)
	preds := predictAll(o, ships)
	// Once delivered, every continuation is the journey itself.
	for _, p := range ships[:200] {
		if p.delivered < 0 {
			continue
		}
		e := p.scans[p.delivered]
		at := e.OccurredAt.Unix()
		if p10, p50, p90, ok := o.Predict(e.EventID); p10 != at || p50 != at || p90 != at || !ok {
			t.Errorf("Predict(%s) = %d, %d, %d, %v; want %d thrice, true", e.EventID, p10, p50, p90, ok, at)
		}
	}
	var n, missing, inside, below, ofd, ofdNarrow int
	var widths []float64 // p90-p10 after out_for_delivery, hours
	for _, p := range preds {
		if !p.ok {
			missing++
			continue
		}
		n++
		if !(p.at <= p.p10 && p.p10 <= p.p50 && p.p50 <= p.p90) {
			t.Fatalf("prediction %+v: want occurred_at <= p10 <= p50 <= p90", p)
		}
		if p.p10 <= p.actual && p.actual <= p.p90 {
			inside++
		}
		if p.actual < p.p50 {
			below++
		}
		if p.status == schemas.OutForDelivery {
			ofd++
			if p.p90-p.p10 < day {
				ofdNarrow++
			}
			widths = append(widths, float64(p.p90-p.p10)/3600)
		}
	}
	cover, under, narrow := float64(inside)/float64(n), float64(below)/float64(n), float64(ofdNarrow)/float64(ofd)
	slices.Sort(widths)
	width := widths[len(widths)/2]
	t.Logf("%d predictions, %d without: p10-p90 coverage %.3f, below p50 %.3f; after out_for_delivery %.3f under a day of %d, median %.1f h",
		n, missing, cover, under, narrow, ofd, width)
	// The delivered time is one more draw from the distribution the
	// continuations sample, so it falls inside [p10, p90] 80% of the time
	// and below p50 half the time. The predictions of one shipment are
	// correlated; the bands allow for about 2000 independent ones.
	if cover < 0.76 || cover > 0.84 {
		t.Errorf("p10-p90 coverage is %.3f, want about 0.8", cover)
	}
	if under < 0.46 || under > 0.54 {
		t.Errorf("actual delivery before p50 in %.3f of predictions, want about 0.5", under)
	}
	// A delivered shipment could be delivered after each of its scans.
	if missing > n/1000 {
		t.Errorf("%d of %d predictions for delivered shipments are missing", missing, n+missing)
	}
	// Out for delivery, the parcel is delivered 1 to 10 hours later,
	// uniformly, unless the attempt fails (5% to 9% of first attempts,
	// depending on the carrier): p90-p10 is then about 0.8*9 = 7.2 hours,
	// more where failures and their next round reach p90.
	if narrow < 0.7 {
		t.Errorf("p90-p10 under a day for %.3f of predictions after out_for_delivery, want most", narrow)
	}
	if width < 6 || width > 8.5 {
		t.Errorf("median p90-p10 after out_for_delivery is %.1f h, want about 7.2", width)
	}
}

// oracles are the two kinds of Oracle, for tests that hold for both.
var oracles = []struct {
	name string
	new  func(g *Generator, n int) *Oracle
}{
	{"oracle", (*Generator).NewOracle},
	{"luck-free", (*Generator).NewLuckFreeOracle},
}

// The luck-free oracle, asked about the same scans, is about as well
// calibrated against the deliveries, which carry the parcels' own luck,
// and less sharp than NewOracle, most early in the journey; once no
// transport leg is left, the two agree.
func TestLuckFreeOracleCalibration(t *testing.T) {
	g, err := New(Config{Shipments: 2000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	ships := byShipment(t, g.Events())
	known := predictAll(g.NewOracle(32), ships)
	free := predictAll(g.NewLuckFreeOracle(32), ships)
	type tally struct {
		n, inside            int
		width, freeWidth     float64 // sums of p90-p10, hours
		absErr, freeAbsErr   float64 // sums of |p50-actual|, hours
		freeInside, mismatch int
	}
	byStatus := map[schemas.Status]*tally{}
	var all tally
	var missing, below int
	for k, f := range free {
		kn := known[k]
		if f.ok != kn.ok {
			t.Fatalf("prediction %d: ok %v, NewOracle's %v; the fate is known to both", k, f.ok, kn.ok)
		}
		if !f.ok {
			missing++
			continue
		}
		if !(f.at <= f.p10 && f.p10 <= f.p50 && f.p50 <= f.p90) {
			t.Fatalf("prediction %+v: want occurred_at <= p10 <= p50 <= p90", f)
		}
		st := byStatus[f.status]
		if st == nil {
			st = &tally{}
			byStatus[f.status] = st
		}
		for _, x := range []*tally{st, &all} {
			x.n++
			if kn.p10 <= kn.actual && kn.actual <= kn.p90 {
				x.inside++
			}
			if f.p10 <= f.actual && f.actual <= f.p90 {
				x.freeInside++
			}
			x.width += float64(kn.p90-kn.p10) / 3600
			x.freeWidth += float64(f.p90-f.p10) / 3600
			x.absErr += math.Abs(float64(kn.p50-kn.actual)) / 3600
			x.freeAbsErr += math.Abs(float64(f.p50-f.actual)) / 3600
			if [3]int64{f.p10, f.p50, f.p90} != [3]int64{kn.p10, kn.p50, kn.p90} {
				x.mismatch++
			}
		}
		if f.actual < f.p50 {
			below++
		}
	}
	statuses := make([]schemas.Status, 0, len(byStatus))
	for st := range byStatus {
		statuses = append(statuses, st)
	}
	slices.Sort(statuses)
	logLine := func(name string, x *tally) {
		n := float64(x.n)
		t.Logf("%-22s %6d: coverage %.3f, luck-free %.3f; mean p90-p10 %6.1f h, luck-free %6.1f h; MAE %5.1f h, luck-free %5.1f h; %d differ",
			name, x.n, float64(x.inside)/n, float64(x.freeInside)/n, x.width/n, x.freeWidth/n, x.absErr/n, x.freeAbsErr/n, x.mismatch)
	}
	for _, st := range statuses {
		logLine(st.String(), byStatus[st])
	}
	logLine("all", &all)
	cover, under := float64(all.freeInside)/float64(all.n), float64(below)/float64(all.n)
	t.Logf("luck-free: %d predictions, %d without, below p50 %.3f", all.n, missing, under)
	// The parcel's own luck is a draw from the prior the continuations
	// draw theirs from, so the delivery falls inside [p10, p90] about 80%
	// of the time; not exactly, for the legs seen make some lucks likelier.
	if cover < 0.72 || cover > 0.88 {
		t.Errorf("luck-free p10-p90 coverage is %.3f, want about 0.8", cover)
	}
	if under < 0.44 || under > 0.56 {
		t.Errorf("actual delivery before the luck-free p50 in %.3f of predictions, want about 0.5", under)
	}
	if missing > all.n/1000 {
		t.Errorf("%d of %d luck-free predictions for delivered shipments are missing", missing, all.n+missing)
	}
	// Early on, nearly every leg is still ahead, and the luck scales them
	// all: not knowing it widens the intervals.
	for _, st := range []schemas.Status{schemas.InfoReceived, schemas.PickedUp} {
		x := byStatus[st]
		if x == nil || x.n < 1000 {
			t.Fatalf("%v predictions after %s, want at least 1000", x, st)
		}
		if x.freeWidth <= x.width*1.05 {
			t.Errorf("after %s, mean luck-free p90-p10 %.1f h, NewOracle's %.1f h: want wider", st, x.freeWidth/float64(x.n), x.width/float64(x.n))
		}
		if x.freeAbsErr <= x.absErr {
			t.Errorf("after %s, luck-free MAE %.1f h, NewOracle's %.1f h: want larger", st, x.freeAbsErr/float64(x.n), x.absErr/float64(x.n))
		}
	}
	// Out for delivery, no transport leg is left to draw, and continuation
	// j of both draws the same stream.
	if x := byStatus[schemas.OutForDelivery]; x == nil || x.n == 0 || x.mismatch != 0 {
		t.Errorf("after out_for_delivery, %+v: want predictions, all NewOracle's", x)
	}
}

func TestOracleDeterministic(t *testing.T) {
	g, err := New(Config{Shipments: 300, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	ships := byShipment(t, g.Events())
	known := g.NewOracle(8)
	for _, kind := range oracles {
		t.Run(kind.name, func(t *testing.T) {
			a, b := kind.new(g, 8), kind.new(g, 8)
			var some, differ, unlike int
			for _, p := range ships {
				for _, e := range p.scans {
					x10, x50, x90, xok := a.Predict(e.EventID)
					y10, y50, y90, yok := a.Predict(e.EventID)
					z10, z50, z90, zok := b.Predict(e.EventID)
					x := [4]any{x10, x50, x90, xok}
					if y := [4]any{y10, y50, y90, yok}; x != y {
						t.Fatalf("%s: %v, then %v", e.EventID, x, y)
					}
					if z := [4]any{z10, z50, z90, zok}; x != z {
						t.Fatalf("%s: %v from one oracle, %v from another", e.EventID, x, z)
					}
					if xok {
						some++
						if x10 != x90 {
							differ++
						}
					}
					k10, k50, k90, kok := known.Predict(e.EventID)
					if kok != xok {
						t.Fatalf("%s: ok %v, NewOracle's %v; the fate is known to both", e.EventID, xok, kok)
					}
					if [3]int64{x10, x50, x90} != [3]int64{k10, k50, k90} {
						unlike++
					}
				}
			}
			// Not a constant: most predictions are intervals.
			if some == 0 || differ < some/2 {
				t.Errorf("%d of %d predictions are intervals", differ, some)
			}
			// Not NewOracle: the luck changes most predictions.
			if kind.name == "luck-free" && unlike < some/2 {
				t.Errorf("%d of %d predictions differ from NewOracle's, want most", unlike, some)
			}
			// Predictions on all cores, sharing the pool, are those made
			// one at a time.
			par := predictAll(kind.new(g, 8), ships)
			k := 0
			for _, p := range ships {
				if p.delivered < 0 {
					continue
				}
				for _, e := range p.scans[:p.delivered] {
					p10, p50, p90, ok := a.Predict(e.EventID)
					if q := par[k]; [3]int64{q.p10, q.p50, q.p90} != [3]int64{p10, p50, p90} || q.ok != ok {
						t.Fatalf("%s: %+v on all cores, %d, %d, %d, %v alone", e.EventID, q, p10, p50, p90, ok)
					}
					k++
				}
			}
		})
	}
}

func TestOracleRejects(t *testing.T) {
	g, err := New(Config{Shipments: 500, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	big, err := New(Config{Shipments: 1000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	other, err := New(Config{Shipments: 500, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	ships := byShipment(t, g.Events())
	for _, kind := range oracles {
		t.Run(kind.name, func(t *testing.T) { testOracleRejects(t, kind.new(g, 8), big, other, ships) })
	}
}

func testOracleRejects(t *testing.T, o *Oracle, big, other *Generator, ships []*scored) {
	f := func(id string) {
		t.Helper()
		if p10, p50, p90, ok := o.Predict(id); ok {
			t.Errorf("Predict(%q) = %d, %d, %d, true; want ok false", id, p10, p50, p90)
		}
	}
	var delivered, returned, lost *scored
	for _, p := range ships {
		last := p.scans[len(p.scans)-1]
		switch {
		case p.delivered >= 0 && delivered == nil:
			delivered = p
		case last.Status == schemas.Returned && returned == nil:
			returned = p
		case last.Status == schemas.Exception && p.delivered < 0 && lost == nil:
			lost = p // the carrier reports it lost or damaged: its scans end there
		}
	}
	if delivered == nil || returned == nil || lost == nil {
		t.Fatal("the workload lacks a delivered, a returned or a lost parcel")
	}
	e := delivered.scans[0]
	if _, _, _, ok := o.Predict(e.EventID); !ok {
		t.Fatalf("Predict(%q) is not ok", e.EventID)
	}
	pre := e.Carrier + ":" + e.TrackingNumber + ":"
	f("")
	f(":")
	f("::")
	f(pre)
	f(pre + "0")
	f(pre + "000")
	f(pre + "x0")
	f(pre + "-1")
	f(pre + fmt.Sprintf("%02d", len(delivered.scans))) // past its last scan
	f(pre + "99")
	f(e.TrackingNumber + ":00")
	f("nosuch:" + e.TrackingNumber + ":00")
	f(e.Carrier + "x:" + e.TrackingNumber + ":00")
	f(e.Carrier + ":" + e.TrackingNumber + "0:00")
	f(e.Carrier + ":" + e.TrackingNumber[1:] + ":00")
	f(e.Carrier + ":x" + e.TrackingNumber + ":00")
	for _, c := range carriers { // a carrier's tracking number under another's code
		if c.code != e.Carrier {
			f(c.code + ":" + e.TrackingNumber + ":00")
		}
	}
	// A parcel of a larger workload, of another seed.
	bigShips := byShipment(t, big.Events())
	seen := map[string]bool{}
	for _, p := range ships {
		seen[p.scans[0].TrackingNumber] = true
	}
	beyond := 0
	for _, p := range bigShips {
		if !seen[p.scans[0].TrackingNumber] {
			f(p.scans[0].EventID)
			beyond++
		}
	}
	// At least its second half; YunExpress numbers carry the order week,
	// which differs between the two.
	if beyond < 500 {
		t.Errorf("%d shipments of the larger workload are not in the smaller one, want at least 500", beyond)
	}
	for _, p := range byShipment(t, other.Events())[:100] {
		if !seen[p.scans[0].TrackingNumber] {
			f(p.scans[0].EventID)
		}
	}
	// No continuation delivers once the parcel is on its way back or lost.
	f(returned.scans[len(returned.scans)-1].EventID)
	for _, e := range lost.scans {
		f(e.EventID)
	}
}

// The continuations after scan nn repeat scans 0 to nn as generated, and
// differ from one another after them.
func TestOracleContinuationRepeatsScans(t *testing.T) {
	g, err := New(Config{Shipments: 2000, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	ships := byShipment(t, g.Events())
	for _, luckFree := range []bool{false, true} {
		name := "oracle"
		if luckFree {
			name = "luck-free"
		}
		t.Run(name, func(t *testing.T) { testContinuationRepeatsScans(t, g, ships, luckFree) })
	}
}

func testContinuationRepeatsScans(t *testing.T, g *Generator, ships []*scored, luckFree bool) {
	r := newOracleRun(g, 4)
	r.stream.luckFree = luckFree
	var forks, varied int
	var lucks []float64 // log of the lucks the continuations drew
	for _, p := range ships {
		for nn, e := range p.scans {
			if !r.prepare(e.EventID) {
				continue
			}
			var ends []int64
			for j := range 4 {
				_, accepted := r.continuation(j)
				if luckFree {
					lucks = append(lucks, math.Log(r.stream.luck))
				}
				if !accepted || r.squeezed {
					continue // a compressed journey's scans all move
				}
				s := &r.cont
				if len(s.evs) <= nn {
					t.Fatalf("%s: continuation %d has %d scans", e.EventID, j, len(s.evs))
				}
				for k, x := range s.evs[:nn+1] {
					want := p.scans[k]
					got := time.Unix(s.order+int64(x.off), 0).UTC()
					sc := scans[x.scan]
					if !got.Equal(want.OccurredAt) || kindStatus[sc.kind] != want.Status || sc.code != want.CarrierStatus || sc.desc != want.Description {
						t.Fatalf("%s: continuation %d has scan %d %s %s %q, generated %s %s %q", e.EventID, j, k,
							got.Format(time.RFC3339), kindStatus[sc.kind], sc.code, want.OccurredAt.Format(time.RFC3339), want.Status, want.CarrierStatus)
					}
				}
				ends = append(ends, s.lastTime())
			}
			if p.delivered >= 0 && nn < p.delivered-1 && len(ends) > 1 {
				forks++
				slices.Sort(ends)
				if ends[0] != ends[len(ends)-1] {
					varied++
				}
			}
		}
	}
	if varied < forks*9/10 {
		t.Errorf("continuations end at different times after %d of %d scans, want nearly all", varied, forks)
	}
	if !luckFree {
		return
	}
	// The lucks drawn afresh follow the prior: a log-normal of sigma
	// luckSigma, clamped.
	var sum, sq float64
	for _, l := range lucks {
		sum += l
		sq += l * l
	}
	mean := sum / float64(len(lucks))
	sd := math.Sqrt(sq/float64(len(lucks)) - mean*mean)
	t.Logf("%d lucks drawn: log mean %.4f, sd %.4f", len(lucks), mean, sd)
	if len(lucks) < 10000 || math.Abs(mean) > 0.01 || math.Abs(sd-luckSigma) > 0.01 {
		t.Errorf("%d lucks drawn with log mean %.4f and sd %.4f, want many, about 0 and %.2f", len(lucks), mean, sd, luckSigma)
	}
}

// Every tracking number of a workload maps back to its shipment, one to
// one.
func TestTrackingIndex(t *testing.T) {
	const n = 5000
	g, err := New(Config{Shipments: n, Seed: -7})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]string{}
	for _, p := range byShipment(t, g.Events()) {
		e := p.scans[0]
		c, tn, _, ok := parseEventID(e.EventID)
		if !ok {
			t.Fatalf("cannot parse %s", e.EventID)
		}
		i, ok := trackingIndex(g.cfg.Seed, c, tn)
		if !ok || i < 0 || i >= n {
			t.Fatalf("%s: index %d, %v", tn, i, ok)
		}
		if prev, dup := seen[i]; dup {
			t.Fatalf("%s and %s both map to %d", prev, tn, i)
		}
		seen[i] = tn
	}
	if len(seen) != n {
		t.Errorf("%d tracking numbers, want %d", len(seen), n)
	}

	// The largest workload: shipments are built one at a time, so there
	// is no need to generate it all.
	formats := map[trackFormat]bool{}
	for _, seed := range []int64{1, 2, 3} {
		g, err := New(Config{Shipments: MaxShipments, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		r := newRun(g)
		for i := MaxShipments - 1; i >= 0; i -= 49_999 {
			s := r.shipment(i)
			if got, ok := trackingIndex(seed, s.c, s.tracking); !ok || got != i {
				t.Errorf("seed %d: %s %s maps to %d, %v; want %d", seed, s.c.code, s.tracking, got, ok, i)
			}
			formats[s.c.format] = true
		}
	}
	if len(formats) != int(fmtYanwen)+1 {
		t.Errorf("%d tracking number formats checked, want all %d", len(formats), fmtYanwen+1)
	}
}
