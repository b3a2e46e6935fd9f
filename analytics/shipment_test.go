package analytics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

var t0 = time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)

// ev builds an event hours after t0.
func ev(id string, st schemas.Status, hours float64) schemas.Event {
	return schemas.Event{
		EventID: id, TrackingNumber: "LX1CN", Carrier: "chinapost", Service: "economy",
		OriginCountry: "CN", DestinationCountry: "US", Status: st,
		OccurredAt: t0.Add(time.Duration(hours * float64(time.Hour))),
	}
}

func withPromise(e schemas.Event, hours float64) schemas.Event {
	e.PromisedAt = t0.Add(time.Duration(hours * float64(time.Hour)))
	return e
}

func fold(events []schemas.Event) Shipment {
	var s Shipment
	for i := range events {
		s.Apply(&events[i])
	}
	return s
}

// want is what a shipment's figures must be; NaN means "no value".
type want struct {
	transit, dwell float64
	onTime         int // -1 no promise, 0 late, 1 on time
	exception      bool
	status         schemas.Status
}

func check(t *testing.T, s Shipment, w want) {
	t.Helper()
	if h, ok := s.TransitHours(); ok != !math.IsNaN(w.transit) || (ok && math.Abs(h-w.transit) > 1e-9) {
		t.Errorf("transit = %v (ok %v), want %v", h, ok, w.transit)
	}
	if h, ok := s.CustomsDwellHours(); ok != !math.IsNaN(w.dwell) || (ok && math.Abs(h-w.dwell) > 1e-9) {
		t.Errorf("customs dwell = %v (ok %v), want %v", h, ok, w.dwell)
	}
	on, ok := s.OnTime()
	got := -1
	if ok {
		got = 0
		if on {
			got = 1
		}
	}
	if got != w.onTime {
		t.Errorf("on time = %d, want %d", got, w.onTime)
	}
	if s.HasException() != w.exception {
		t.Errorf("exception = %v, want %v", s.HasException(), w.exception)
	}
	if w.status != schemas.StatusUnknown && s.LastStatus != w.status {
		t.Errorf("status = %v, want %v", s.LastStatus, w.status)
	}
}

func TestShipmentDefinitions(t *testing.T) {
	nan := math.NaN()
	f := func(name string, events []schemas.Event, w want) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			check(t, fold(events), w)
			// Any arrival order and any duplication gives the same state.
			r := rand.New(rand.NewPCG(1, 2))
			ref := fold(events)
			for i := 0; i < 50; i++ {
				perm := append([]schemas.Event(nil), events...)
				for j := range events {
					if r.IntN(3) == 0 {
						perm = append(perm, events[j])
					}
				}
				r.Shuffle(len(perm), func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
				got := fold(perm)
				got.Version, ref.Version = 0, 0
				if got.figures != ref.figures {
					t.Fatalf("order %d: state differs:\n got %+v\nwant %+v", i, got.figures, ref.figures)
				}
			}
		})
	}
	f("simple on time", []schemas.Event{
		withPromise(ev("a", schemas.InfoReceived, -10), 200),
		ev("b", schemas.PickedUp, 0),
		ev("c", schemas.InTransit, 20),
		ev("d", schemas.Delivered, 100),
	}, want{transit: 100, dwell: nan, onTime: 1, status: schemas.Delivered})
	f("late against promise", []schemas.Event{
		withPromise(ev("a", schemas.PickedUp, 0), 50),
		ev("b", schemas.Delivered, 100),
	}, want{transit: 100, dwell: nan, onTime: 0, status: schemas.Delivered})
	f("delivered exactly at promise is on time", []schemas.Event{
		withPromise(ev("a", schemas.PickedUp, 0), 100),
		ev("b", schemas.Delivered, 100),
	}, want{transit: 100, dwell: nan, onTime: 1})
	f("no promised date", []schemas.Event{
		ev("a", schemas.PickedUp, 0), ev("b", schemas.Delivered, 30),
	}, want{transit: 30, dwell: nan, onTime: -1})
	f("latest promise by occurred_at wins", []schemas.Event{
		withPromise(ev("a", schemas.PickedUp, 0), 50),
		withPromise(ev("b", schemas.InTransit, 10), 150),
		withPromise(ev("c", schemas.InfoReceived, -5), 20),
		ev("d", schemas.Delivered, 100),
	}, want{transit: 100, dwell: nan, onTime: 1})
	f("start falls back to first non-info event", []schemas.Event{
		ev("a", schemas.InfoReceived, 0), ev("b", schemas.InTransit, 12), ev("c", schemas.Delivered, 60),
	}, want{transit: 48, dwell: nan, onTime: -1})
	f("late picked_up after delivered moves the start", []schemas.Event{
		ev("a", schemas.InTransit, 10), ev("c", schemas.Delivered, 60), ev("b", schemas.PickedUp, 20),
	}, want{transit: 40, dwell: nan, onTime: -1, status: schemas.Delivered})
	f("first delivered counts", []schemas.Event{
		ev("a", schemas.PickedUp, 0), ev("b", schemas.Delivered, 50), ev("c", schemas.Delivered, 70),
	}, want{transit: 50, dwell: nan, onTime: -1})
	f("customs with hold", []schemas.Event{
		ev("a", schemas.PickedUp, 0), ev("b", schemas.ArrivedDestination, 40),
		ev("c", schemas.CustomsClearance, 41), ev("d", schemas.CustomsHeld, 45),
		ev("e", schemas.CustomsReleased, 89), ev("f", schemas.OutForDelivery, 100), ev("g", schemas.Delivered, 110),
	}, want{transit: 110, dwell: 48, onTime: -1, exception: true})
	f("customs left by delivery without release scan", []schemas.Event{
		ev("a", schemas.PickedUp, 0), ev("b", schemas.CustomsClearance, 40), ev("c", schemas.Delivered, 52),
	}, want{transit: 52, dwell: 12, onTime: -1})
	f("customs end before customs start is ignored", []schemas.Event{
		ev("a", schemas.PickedUp, 0), ev("o", schemas.OutForDelivery, 10), ev("b", schemas.CustomsClearance, 40), ev("c", schemas.CustomsReleased, 52),
	}, want{transit: nan, dwell: 12, onTime: -1, status: schemas.CustomsReleased})
	f("earlier customs start uses an earlier release", []schemas.Event{
		ev("a", schemas.PickedUp, 0), ev("r1", schemas.CustomsReleased, 30), ev("h", schemas.CustomsHeld, 40),
		ev("r2", schemas.CustomsReleased, 52), ev("c", schemas.CustomsClearance, 20),
	}, want{transit: nan, dwell: 10, onTime: -1, exception: true})
	f("still in customs", []schemas.Event{
		ev("a", schemas.PickedUp, 0), ev("b", schemas.CustomsHeld, 40),
	}, want{transit: nan, dwell: nan, onTime: -1, exception: true, status: schemas.CustomsHeld})
	f("info_received only", []schemas.Event{
		withPromise(ev("a", schemas.InfoReceived, 0), 100),
	}, want{transit: nan, dwell: nan, onTime: -1, status: schemas.InfoReceived})
	f("returned is an exception, not delivered", []schemas.Event{
		ev("a", schemas.PickedUp, 0), ev("b", schemas.DeliveryFailed, 50), ev("c", schemas.Returned, 90),
	}, want{transit: nan, dwell: nan, onTime: -1, exception: true, status: schemas.Returned})
	f("delivered before picked up (bad data) clamps to zero", []schemas.Event{
		ev("a", schemas.Delivered, 10), ev("b", schemas.PickedUp, 20),
	}, want{transit: 0, dwell: nan, onTime: -1})
}

func TestShipmentDuplicateDoesNotChange(t *testing.T) {
	e := ev("a", schemas.PickedUp, 0)
	var s Shipment
	if !s.Apply(&e) {
		t.Fatal("first event reported no change")
	}
	if s.Apply(&e) {
		t.Fatal("duplicate event reported a change")
	}
	if s.Version != 1 {
		t.Fatalf("version = %d, want 1", s.Version)
	}
	d := ev("b", schemas.Delivered, 5)
	if !s.Apply(&d) || s.Version != 2 {
		t.Fatalf("delivered: version = %d, want 2", s.Version)
	}
}

func TestShipmentLabelsFromEarliestEvent(t *testing.T) {
	a := ev("a", schemas.PickedUp, 10)
	a.Service = "standard"
	b := ev("b", schemas.InfoReceived, 0)
	b.OriginCountry, b.DestinationCountry = "", ""
	c := ev("c", schemas.InTransit, 5)
	c.DestinationCountry = "GB"
	for _, order := range [][]schemas.Event{{a, b, c}, {c, b, a}, {b, a, c}} {
		s := fold(order)
		if s.Service() != "economy" || s.Lane() != "CN-GB" || s.Carrier() != "chinapost" {
			t.Fatalf("labels = %s %s %s, want chinapost economy CN-GB", s.Carrier(), s.Service(), s.Lane())
		}
	}
}

func TestSketchQuantileWithinOnePercent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 10, 101, 5000} {
		var s Sketch
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = math.Exp(r.NormFloat64()*1.2 + 4)
			s.Add(vals[i])
		}
		sortFloats(vals)
		for _, q := range []float64{0.1, 0.5, 0.9, 0.99} {
			exact := vals[NearestRank(q, int64(n))-1]
			got := s.Quantile(q)
			if rel := math.Abs(got-exact) / exact; rel > 0.01 {
				t.Errorf("n=%d q=%v: got %v, exact %v, relative error %.4f", n, q, got, exact, rel)
			}
		}
	}
}

func TestSketchMergeAndRetract(t *testing.T) {
	var a, b, all Sketch
	for i := 1; i <= 100; i++ {
		v := float64(i)
		all.Add(v)
		if i%2 == 0 {
			a.Add(v)
		} else {
			b.Add(v)
		}
	}
	a.Merge(&b)
	if a.Quantile(0.5) != all.Quantile(0.5) || a.Count() != 100 {
		t.Fatalf("merged p50 %v, want %v", a.Quantile(0.5), all.Quantile(0.5))
	}
	a.AddBucket(Bucket(100), -1)
	if a.Count() != 99 || math.Abs(a.Quantile(1)-99)/99 > 0.01 {
		t.Fatalf("after retracting 100: count %d, max %v", a.Count(), a.Quantile(1))
	}
	var z Sketch
	z.Add(0)
	z.Add(-3)
	if z.Quantile(0.5) != 0 {
		t.Fatalf("zero bucket quantile = %v", z.Quantile(0.5))
	}
}

func sortFloats(v []float64) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

func BenchmarkShipmentApply(b *testing.B) {
	events := make([]schemas.Event, 10)
	for i := range events {
		events[i] = ev(fmt.Sprint("e", i), schemas.Statuses()[i], float64(i*10))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		var s Shipment
		for j := range events {
			s.Apply(&events[j])
		}
	}
}

func TestShipmentWithoutCountries(t *testing.T) {
	e := ev("a", schemas.PickedUp, 0)
	e.OriginCountry, e.DestinationCountry, e.Service = "", "", ""
	var s Shipment
	s.Apply(&e)
	if s.Lane() != "" || s.Service() != "" || s.Merchant() != "" || s.Carrier() != "chinapost" {
		t.Fatalf("labels %q %q %q %q", s.Carrier(), s.Lane(), s.Service(), s.Merchant())
	}
	var empty Shipment
	if empty.Carrier() != "" || empty.Lane() != "" {
		t.Fatal("the zero shipment has labels")
	}
}
