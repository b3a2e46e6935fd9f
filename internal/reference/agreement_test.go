package reference_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/internal/reference"
	"github.com/shiplens/shiplens/schemas"
)

// productionRows computes the scorecard as the processor and the store do,
// in memory: every copy of every event, in arrival order, folded into its
// shipment's analytics.Shipment, then each shipment's latest state counted
// the way the store's scorecard query counts it.
func productionRows(events []schemas.Event, from, to time.Time) []analytics.ScoreRow {
	states := map[string]*analytics.Shipment{}
	for i := range events {
		s := states[events[i].TrackingNumber]
		if s == nil {
			s = &analytics.Shipment{}
			states[events[i].TrackingNumber] = s
		}
		s.Apply(&events[i])
	}
	in := func(t uint32) bool {
		d := analytics.Day(t)
		return !d.Before(from) && !d.After(to)
	}
	var card analytics.Scorecard
	for _, s := range states {
		k := analytics.ScoreKey{Carrier: s.Carrier(), Lane: s.Lane()}
		if s.Delivered() && in(s.DeliveredAt) {
			transit, _ := s.TransitHours()
			dwell, done := s.CustomsDwellHours()
			onTime, _ := s.OnTime()
			card.AddDelivered(k, 1, analytics.Bucket(transit), done, analytics.Bucket(dwell), s.HasPromise(), onTime)
		}
		if s.HasException() && in(s.ExceptionAt) {
			card.AddExceptions(k, 1)
		}
	}
	return card.Rows()
}

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestAgreesWithAnalytics computes the scorecard of a large generated
// workload, with disorder, duplicates, first scans and whole shipments
// without countries and scans tied to the second, once through analytics and
// once through the reference, over several ranges, and compares them.
func TestAgreesWithAnalytics(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 3000
	}
	g, err := gen.New(gen.Config{Shipments: n, Seed: 2026, DisorderRate: 0.1, DuplicateRate: 0.05,
		FirstScanNoCountryRate: 0.1, NoCountryRate: 0.01, TieRate: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	events := g.Events()

	// The workload must reach the paths this test is about.
	byShipment := map[string][]schemas.Event{}
	for _, e := range events {
		byShipment[e.TrackingNumber] = append(byShipment[e.TrackingNumber], e)
	}
	var noLane, bareFirst, tiedCustoms, tiedDelivery int
	for _, evs := range byShipment {
		slices.SortStableFunc(evs, func(a, b schemas.Event) int { return a.OccurredAt.Compare(b.OccurredAt) })
		if !slices.ContainsFunc(evs, func(e schemas.Event) bool { return e.Lane() != "" }) {
			noLane++
		} else if evs[0].Lane() == "" {
			bareFirst++
		}
		for i := 1; i < len(evs); i++ {
			if !evs[i].OccurredAt.Equal(evs[i-1].OccurredAt) || evs[i].EventID == evs[i-1].EventID {
				continue
			}
			a, b := evs[i-1].Status, evs[i].Status
			if a.StartsCustoms() && b.EndsCustoms() || b.StartsCustoms() && a.EndsCustoms() {
				tiedCustoms++
			}
			if a == schemas.Delivered || b == schemas.Delivered {
				tiedDelivery++
			}
		}
	}
	t.Logf("%d events, %d shipments: %d without a lane, %d whose first scan has none, %d customs and %d delivery scans tied",
		len(events), len(byShipment), noLane, bareFirst, tiedCustoms, tiedDelivery)
	if noLane == 0 || bareFirst == 0 || tiedCustoms == 0 || tiedDelivery == 0 {
		t.Fatal("the workload misses a path the comparison must cover")
	}

	for _, r := range []struct{ from, to string }{
		{"2026-08-01", "2026-12-31"}, // everything
		{"2026-09-20", "2026-10-10"}, // deliveries and exceptions on both sides of the range
		{"2026-09-25", "2026-09-25"}, // small rows, where one shipment moves a quantile
		{"2026-10-12", "2026-10-12"},
	} {
		from, to := day(r.from), day(r.to)
		want := reference.Scorecard(events, from, to)
		if r.from == "2026-08-01" && !slices.ContainsFunc(want, func(w reference.Row) bool { return w.Lane == "" && w.Delivered > 0 }) {
			t.Fatal("no delivered shipment without a lane in the reference")
		}
		t.Run(r.from+"_"+r.to, func(t *testing.T) {
			reference.Compare(t, productionRows(events, from, to), want)
		})
	}

	// Arrival order does not matter to either side.
	rev := slices.Clone(events)
	slices.Reverse(rev)
	from, to := day("2026-09-01"), day("2026-10-31")
	reference.Compare(t, productionRows(rev, from, to), reference.Scorecard(rev, from, to))
}

// TestAgreesOnAdversarialShipments compares the two sides on small random
// shipments built to collide: few distinct times (so most events tie), any
// status in any order, labels that differ between events of one shipment,
// countries missing, several promises, duplicates, shuffled arrival. Each
// shipment's carriers are its own, so a row holds one shipment and any
// figure that differs shows.
func TestAgreesOnAdversarialShipments(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	base := time.Date(2026, 9, 10, 0, 0, 0, 0, time.UTC)
	statuses := schemas.Statuses()
	var events []schemas.Event
	for i := range 5000 {
		tn := fmt.Sprintf("ADV%05d", i)
		carriers := []string{fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)}
		var evs []schemas.Event
		for j := range 1 + r.IntN(8) {
			e := schemas.Event{
				EventID:        fmt.Sprintf("%s-%d-%d", tn, j, r.IntN(1000)),
				TrackingNumber: tn,
				Carrier:        carriers[r.IntN(2)],
				Status:         statuses[r.IntN(len(statuses))],
				OccurredAt:     base.Add(time.Duration(r.IntN(4)*(1+r.IntN(40))) * time.Hour),
			}
			switch r.IntN(4) {
			case 0:
				e.OriginCountry, e.DestinationCountry = "CN", "US"
			case 1:
				e.OriginCountry, e.DestinationCountry = "CN", "GB"
			case 2:
				e.OriginCountry = "CN"
			}
			if r.IntN(2) == 0 {
				e.PromisedAt = base.Add(time.Duration(r.IntN(5)*30) * time.Hour)
			}
			evs = append(evs, e)
			if r.IntN(5) == 0 {
				evs = append(evs, e)
			}
		}
		r.Shuffle(len(evs), func(a, b int) { evs[a], evs[b] = evs[b], evs[a] })
		events = append(events, evs...)
	}
	from, to := day("2026-09-01"), day("2026-10-31")
	want := reference.Scorecard(events, from, to)
	reference.Compare(t, productionRows(events, from, to), want)
	// Days inside the range, too, so that rows come and go.
	from, to = day("2026-09-11"), day("2026-09-12")
	reference.Compare(t, productionRows(events, from, to), reference.Scorecard(events, from, to))
}
