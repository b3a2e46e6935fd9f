package eta_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/schemas"
)

// lane is one synthetic service: its journey's legs, in hours, as the
// median of a log-normal each, and when its transit times change.
type lane struct {
	carrier, service, origin, dest string
	legs                           []float64 // picked_up → in_transit → arrived → customs → out_for_delivery → delivered
	slowAfter                      time.Time // from this order time on, every leg takes factor times as long
	factor                         float64
}

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// journeys builds n shipments per lane ordered evenly over days, with their
// events, independently of the generator in package gen: a test of the
// model must not lean on the code it is compared with.
func journeys(seed uint64, n int, days int, lanes ...lane) []schemas.Event {
	rng := rand.New(rand.NewPCG(seed, 7))
	statuses := []schemas.Status{schemas.PickedUp, schemas.InTransit, schemas.ArrivedDestination, schemas.CustomsClearance, schemas.OutForDelivery, schemas.Delivered}
	var out []schemas.Event
	for li, l := range lanes {
		for i := range n {
			order := t0.Add(time.Duration(float64(days*24)*float64(i)/float64(n)*float64(time.Hour)) + time.Duration(rng.IntN(3600))*time.Second)
			f := 1.0
			if !l.slowAfter.IsZero() && !order.Before(l.slowAfter) {
				f = l.factor
			}
			luck := math.Exp(0.2 * rng.NormFloat64())
			tn := fmt.Sprintf("T%d-%06d", li, i)
			t := order
			out = append(out, schemas.Event{EventID: tn + ":00", TrackingNumber: tn, Carrier: l.carrier, Service: l.service,
				OriginCountry: l.origin, DestinationCountry: l.dest, Status: schemas.InfoReceived, OccurredAt: t,
				PromisedAt: order.Add(time.Duration(sum(l.legs)*1.3) * time.Hour)})
			for k, st := range statuses {
				h := l.legs[k] * f * luck * math.Exp(0.4*rng.NormFloat64())
				t = t.Add(time.Duration(h * float64(time.Hour)))
				out = append(out, schemas.Event{EventID: fmt.Sprintf("%s:%02d", tn, k+1), TrackingNumber: tn, Carrier: l.carrier, Service: l.service,
					OriginCountry: l.origin, DestinationCountry: l.dest, Status: st, OccurredAt: t})
			}
		}
	}
	// Any arrival order: the backtest sorts.
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

var express = lane{carrier: "dhl", service: "express", origin: "CN", dest: "US", legs: []float64{4, 12, 20, 6, 10, 5}}

// TestNoFutureInformation replays a lane whose transit times double
// midway. The predictions made before the change must not move when the
// events after it are added, and the model must follow the change.
func TestNoFutureInformation(t *testing.T) {
	change := t0.AddDate(0, 0, 40)
	l := express
	l.slowAfter, l.factor = change, 2
	all := journeys(1, 3000, 80, l)
	var before []schemas.Event
	for _, e := range all {
		if e.OccurredAt.Before(change) {
			before = append(before, e)
		}
	}
	cfg := eta.BacktestOptions{Model: eta.Config{HalfLife: 7 * 24 * time.Hour}}
	_, full := eta.Backtest(all, cfg)
	_, part := eta.Backtest(before, cfg)

	cut := uint32(change.Unix())
	early := func(s []eta.Scored) []eta.Scored {
		var out []eta.Scored
		for _, x := range s {
			if x.DeliveredAt < cut {
				out = append(out, x)
			}
		}
		return out
	}
	a, b := early(full), early(part)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("predictions scored before the change: %d with later data, %d without", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("prediction %d before the change moved when later data was added:\n%+v\n%+v", i, a[i], b[i])
		}
	}

	// Shipments ordered a month after the change take twice as long; their
	// predictions at pickup must have followed: p50 within 20% of the new
	// median transit, not the old one.
	newTransit := sum(l.legs[1:]) * 2 // from pickup
	var errs []float64
	for _, x := range full {
		if x.Milestone.Status() == schemas.PickedUp && x.AsOf > uint32(change.AddDate(0, 0, 30).Unix()) {
			errs = append(errs, (float64(x.P50)-float64(x.AsOf))/3600)
		}
	}
	if len(errs) < 100 {
		t.Fatalf("only %d pickups a month after the change", len(errs))
	}
	slices.Sort(errs)
	t.Logf("median %.1f want %.1f", errs[len(errs)/2], newTransit)
	if med := errs[len(errs)/2]; math.Abs(med-newTransit)/newTransit > 0.2 {
		t.Errorf("median predicted transit at pickup after the change = %.0fh, want about %.0fh (it was %.0fh before)", med, newTransit, newTransit/2)
	}
}

// TestDeterministic: the same events, in another order, give the same
// predictions.
func TestDeterministic(t *testing.T) {
	evs := journeys(2, 1500, 40, express, lane{carrier: "chinapost", service: "economy", origin: "CN", dest: "BR", legs: []float64{30, 80, 200, 150, 60, 10}})
	_, a := eta.Backtest(evs, eta.BacktestOptions{})
	shuffled := slices.Clone(evs)
	rand.New(rand.NewPCG(9, 9)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	_, b := eta.Backtest(shuffled, eta.BacktestOptions{})
	if !slices.Equal(a, b) {
		t.Fatalf("same events in another order: %d and %d predictions, not equal", len(a), len(b))
	}
}

// TestLearnsEachGroup: two carriers on one lane with very different
// speeds each get their own distribution, and the p10-p90 interval covers
// about 80% of deliveries once the model has learned.
func TestLearnsEachGroup(t *testing.T) {
	slow := lane{carrier: "chinapost", service: "economy", origin: "CN", dest: "US", legs: []float64{30, 80, 200, 150, 60, 10}}
	r, scored := eta.Backtest(journeys(3, 4000, 120, express, slow), eta.BacktestOptions{})
	late := uint32(t0.AddDate(0, 0, 60).Unix())
	cover := map[string][2]int{}
	for _, s := range scored {
		if s.AsOf < late {
			continue
		}
		c := cover[s.TrackingNumber[:2]]
		c[1]++
		if s.P10 <= s.DeliveredAt && s.DeliveredAt <= s.P90 {
			c[0]++
		}
		cover[s.TrackingNumber[:2]] = c
		if s.Basis != eta.BasisCarrierServiceLane {
			t.Fatalf("prediction after two months rests on %s, want carrier_service_lane: %+v", s.Basis, s)
		}
	}
	for k, c := range cover {
		t.Logf("%s cover %d/%d", k, c[0], c[1])
		if f := float64(c[0]) / float64(c[1]); f < 0.7 || f > 0.9 {
			t.Errorf("%s: p10-p90 covers %.2f of %d deliveries, want about 0.8", k, f, c[1])
		}
	}
	if r.Model.MAEHours >= r.Promised.MAEHours {
		t.Errorf("model MAE %.1fh is no better than the promise's %.1fh", r.Model.MAEHours, r.Promised.MAEHours)
	}
}

// TestColdStart: with nothing learned, a shipment with a promise gets the
// promised date, one without gets the documented prior, and each says so.
func TestColdStart(t *testing.T) {
	p := eta.New(eta.Config{}).NewPredictor()
	at := t0
	s := shipment(t, schemas.Event{EventID: "a:1", TrackingNumber: "A", Carrier: "dhl", OriginCountry: "CN", DestinationCountry: "US",
		Status: schemas.PickedUp, OccurredAt: at, PromisedAt: at.Add(96 * time.Hour)})
	pr := p.Predict(s, uint32(at.Unix()))
	if pr.Basis != eta.BasisPromised || pr.P50 != uint32(at.Add(96*time.Hour).Unix()) ||
		pr.P10 != uint32(at.Add(48*time.Hour).Unix()) || pr.P90 != uint32(at.Add(144*time.Hour).Unix()) {
		t.Errorf("cold start with a promise = %+v, want promised p50 at +96h, p10 +48h, p90 +144h", pr)
	}
	s = shipment(t, schemas.Event{EventID: "b:1", TrackingNumber: "B", Carrier: "dhl", OriginCountry: "CN", DestinationCountry: "US",
		Status: schemas.CustomsClearance, OccurredAt: at})
	pr = p.Predict(s, uint32(at.Unix()))
	if pr.Basis != eta.BasisPrior || pr.P50 != uint32(at.Add(72*time.Hour).Unix()) ||
		pr.P10 != uint32(at.Add(24*time.Hour).Unix()) || pr.P90 != uint32(at.Add(168*time.Hour).Unix()) {
		t.Errorf("cold start in customs without a promise = %+v, want the prior 1/3/7 days", pr)
	}
}

// TestFallsBackToCoarserGroups: a carrier never seen on a lane is
// predicted from the lane; a lane never seen from its destination.
func TestFallsBackToCoarserGroups(t *testing.T) {
	m := eta.New(eta.Config{})
	var ds []eta.Delivery
	for i := range 200 {
		start := uint32(t0.Unix()) + uint32(i)*3600
		ds = append(ds, eta.Delivery{TrackingNumber: fmt.Sprint(i), Carrier: "dhl", Service: "express", Lane: "CN-US", Start: start,
			DeliveredAt: start + 100*3600, Visits: []eta.Visit{{At: start, Milestone: eta.NewMilestone(schemas.PickedUp, false)}}})
	}
	m.Learn(ds, nil, uint32(t0.AddDate(0, 0, 20).Unix()))
	p := m.NewPredictor()
	f := func(carrier, origin, dest string, want eta.Basis) {
		t.Helper()
		s := shipment(t, schemas.Event{EventID: "x:1", TrackingNumber: "X", Carrier: carrier, Service: "express", OriginCountry: origin, DestinationCountry: dest,
			Status: schemas.PickedUp, OccurredAt: t0.AddDate(0, 0, 20)})
		pr := p.Predict(s, s.LastAt)
		if pr.Basis != want {
			t.Errorf("%s %s-%s: basis %s, want %s", carrier, origin, dest, pr.Basis, want)
		}
		if got := float64(pr.P50-pr.AsOf) / 3600; math.Abs(got-100) > 5 {
			t.Errorf("%s %s-%s: p50 %.1fh after pickup, want about 100h", carrier, origin, dest, got)
		}
	}
	f("dhl", "CN", "US", eta.BasisCarrierServiceLane)
	f("ups", "CN", "US", eta.BasisLane)
	f("ups", "HK", "US", eta.BasisDestination)
	f("ups", "HK", "DE", eta.BasisGlobal)
}

// TestSnapshotRoundTrip: a model written and read back predicts the same.
func TestSnapshotRoundTrip(t *testing.T) {
	evs := journeys(4, 800, 30, express)
	m := eta.New(eta.Config{})
	// Learn through the backtest's path: deliveries with their scans.
	_, scored := eta.Backtest(evs, eta.BacktestOptions{})
	byTN := map[string]*eta.Delivery{}
	var ds []eta.Delivery
	for _, s := range scored {
		d := byTN[s.TrackingNumber]
		if d == nil {
			ds = append(ds, eta.Delivery{TrackingNumber: s.TrackingNumber, Carrier: "dhl", Service: "express", Lane: "CN-US", DeliveredAt: s.DeliveredAt})
			d = &ds[len(ds)-1]
			byTN[s.TrackingNumber] = d
		}
		d.Visits = append(d.Visits, eta.Visit{At: s.AsOf, Milestone: s.Milestone})
	}
	m.Learn(ds, []eta.VisitCount{{Carrier: "dhl", Service: "express", Lane: "CN-US", Milestone: eta.NewMilestone(schemas.PickedUp, false), Day: uint32(t0.Unix()), N: 3}}, uint32(t0.AddDate(0, 0, 40).Unix()))
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := eta.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Version() != m.Version() || m2.Deliveries() != m.Deliveries() {
		t.Fatalf("read back version %d with %d deliveries, want %d with %d", m2.Version(), m2.Deliveries(), m.Version(), m.Deliveries())
	}
	p1, p2 := m.NewPredictor(), m2.NewPredictor()
	for _, st := range []schemas.Status{schemas.PickedUp, schemas.InTransit, schemas.CustomsClearance, schemas.OutForDelivery} {
		s := shipment(t, schemas.Event{EventID: "x:1", TrackingNumber: "X", Carrier: "dhl", Service: "express", OriginCountry: "CN", DestinationCountry: "US",
			Status: st, OccurredAt: t0.AddDate(0, 0, 35)})
		for _, later := range []uint32{0, 3600, 30 * 3600, 200 * 3600} {
			if a, b := p1.Predict(s, s.LastAt+later), p2.Predict(s, s.LastAt+later); a != b {
				t.Errorf("%s +%ds: %+v before the round trip, %+v after", st, later, a, b)
			}
		}
	}
	if _, err := eta.Unmarshal(b[:len(b)/2]); err == nil {
		t.Error("a truncated snapshot was read without error")
	}
}

// TestTimeAtMilestone: a parcel that has sat in customs for days is
// predicted later than one that just arrived there, and never in the past.
func TestTimeAtMilestone(t *testing.T) {
	m := eta.New(eta.Config{})
	var ds []eta.Delivery
	rng := rand.New(rand.NewPCG(5, 5))
	cust := eta.NewMilestone(schemas.CustomsClearance, true)
	for i := range 2000 {
		at := uint32(t0.Unix()) + uint32(i)*600
		// Most clear within a day; one in four is held for 4 to 8 days.
		dwell := uint32(3600 * (2 + rng.IntN(20)))
		if i%4 == 0 {
			dwell = uint32(3600 * 24 * (4 + rng.IntN(5)))
		}
		ofd := at + dwell
		ds = append(ds, eta.Delivery{TrackingNumber: fmt.Sprint(i), Carrier: "dhl", Service: "express", Lane: "CN-US", Start: at - 50*3600,
			DeliveredAt: ofd + 6*3600, Visits: []eta.Visit{{At: at, Milestone: cust}, {At: ofd, Milestone: eta.NewMilestone(schemas.OutForDelivery, true)}}})
	}
	m.Learn(ds, nil, uint32(t0.AddDate(0, 0, 30).Unix()))
	p := m.NewPredictor()
	s := shipment(t, schemas.Event{EventID: "x:1", TrackingNumber: "X", Carrier: "dhl", Service: "express", OriginCountry: "CN", DestinationCountry: "US",
		Status: schemas.CustomsClearance, OccurredAt: t0.AddDate(0, 0, 29)})
	fresh := p.Predict(s, s.LastAt)
	stalled := p.Predict(s, s.LastAt+5*24*3600)
	if got := float64(fresh.P50-fresh.AsOf) / 3600; got > 30 {
		t.Errorf("just in customs: p50 %.0fh later, want within about a day", got)
	}
	if stalled.P10 < s.LastAt+5*24*3600 {
		t.Errorf("after 5 days in customs p10 %d lies in the past (now %d)", stalled.P10, s.LastAt+5*24*3600)
	}
	if got := float64(stalled.P50-s.LastAt) / 3600; got < 5*24+12 || got > 9*24 {
		t.Errorf("after 5 days in customs: p50 %.0fh after arrival, want the held parcels' 5.5 to 9 days", got)
	}
}

func shipment(t *testing.T, evs ...schemas.Event) *analytics.Shipment {
	t.Helper()
	s := new(analytics.Shipment)
	for i := range evs {
		s.Apply(&evs[i])
	}
	return s
}
