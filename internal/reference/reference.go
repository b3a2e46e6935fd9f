// Package reference computes the carrier scorecard the slow, obvious way,
// straight from raw events, for tests to hold the real pipeline against. It
// shares no code with analytics or the processor on purpose. Only tests
// import it.
package reference

import (
	"math"
	"sort"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/schemas"
)

// Row is the reference reading of one carrier and lane: the definitions of
// DESIGN section 3 applied literally to each shipment's deduplicated events,
// sorted by occurred_at (ties by status), then counted and sorted again for
// exact nearest-rank quantiles.
type Row struct {
	delivered, withPromise, onTime, exceptions int64
	transit, customs                           []float64
}

// Scorecard computes the reference scorecard of events for deliveries (and
// first exceptions) from from to to, inclusive UTC days.
func Scorecard(events []schemas.Event, from, to time.Time) map[analytics.ScoreKey]*Row {
	byShipment := map[string][]schemas.Event{}
	seen := map[string]bool{}
	for _, e := range events {
		if seen[e.EventID] {
			continue
		}
		seen[e.EventID] = true
		byShipment[e.TrackingNumber] = append(byShipment[e.TrackingNumber], e)
	}
	inRange := func(t time.Time) bool {
		d := t.UTC().Truncate(24 * time.Hour)
		return !d.Before(from) && !d.After(to)
	}
	out := map[analytics.ScoreKey]*Row{}
	row := func(k analytics.ScoreKey) *Row {
		if out[k] == nil {
			out[k] = &Row{}
		}
		return out[k]
	}
	for _, evs := range byShipment {
		sort.Slice(evs, func(i, j int) bool {
			if !evs[i].OccurredAt.Equal(evs[j].OccurredAt) {
				return evs[i].OccurredAt.Before(evs[j].OccurredAt)
			}
			return evs[i].Status < evs[j].Status
		})
		k := analytics.ScoreKey{Carrier: evs[0].Carrier, Lane: evs[0].OriginCountry + "-" + evs[0].DestinationCountry}
		var pickup, active, delivered, customsIn, customsOut, promised, exception *time.Time
		for i := range evs {
			e := &evs[i]
			at := e.OccurredAt
			if e.Status == schemas.PickedUp && pickup == nil {
				pickup = &at
			}
			if e.Status != schemas.InfoReceived && active == nil {
				active = &at
			}
			if e.Status == schemas.Delivered && delivered == nil {
				delivered = &at
			}
			if (e.Status == schemas.CustomsClearance || e.Status == schemas.CustomsHeld) && customsIn == nil {
				customsIn = &at
			}
			if customsIn != nil && customsOut == nil && (e.Status == schemas.CustomsReleased || e.Status == schemas.OutForDelivery ||
				e.Status == schemas.AvailableForPickup || e.Status == schemas.Delivered) {
				customsOut = &at
			}
			if !e.PromisedAt.IsZero() {
				pa := e.PromisedAt
				promised = &pa
			}
			switch e.Status {
			case schemas.CustomsHeld, schemas.DeliveryFailed, schemas.Returned, schemas.Exception:
				if exception == nil {
					exception = &at
				}
			}
		}
		if exception != nil && inRange(*exception) {
			row(k).exceptions++
		}
		if delivered == nil || !inRange(*delivered) {
			continue
		}
		r := row(k)
		r.delivered++
		start := active
		if pickup != nil {
			start = pickup
		}
		r.transit = append(r.transit, math.Max(0, delivered.Sub(*start).Hours()))
		if promised != nil {
			r.withPromise++
			if !delivered.After(*promised) {
				r.onTime++
			}
		}
		if customsOut != nil {
			r.customs = append(r.customs, customsOut.Sub(*customsIn).Hours())
		}
	}
	return out
}

func exactQuantile(v []float64, q float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	r := int(math.Ceil(q * float64(len(s))))
	r = min(max(r, 1), len(s))
	return s[r-1]
}

// Compare fails t unless the report has exactly the reference rows, with
// equal counts and quantiles within 1% relative error.
func Compare(t testing.TB, got []analytics.ScoreRow, want map[analytics.ScoreKey]*Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("report has %d rows, reference %d", len(got), len(want))
	}
	var delivered int64
	for _, g := range got {
		k := analytics.ScoreKey{Carrier: g.Carrier, Lane: g.Lane}
		w := want[k]
		if w == nil {
			t.Errorf("report row %v not in reference", k)
			continue
		}
		delivered += g.Delivered
		if g.Delivered != w.delivered || g.WithPromise != w.withPromise || g.OnTime != w.onTime || g.Exceptions != w.exceptions {
			t.Errorf("%v: delivered %d/%d with_promise %d/%d on_time %d/%d exceptions %d/%d (report/reference)", k,
				g.Delivered, w.delivered, g.WithPromise, w.withPromise, g.OnTime, w.onTime, g.Exceptions, w.exceptions)
		}
		near := func(name string, got *float64, vals []float64, q float64) {
			if len(vals) == 0 {
				if got != nil {
					t.Errorf("%v %s = %v, reference has no values", k, name, *got)
				}
				return
			}
			exact := exactQuantile(vals, q)
			if got == nil {
				t.Errorf("%v %s missing, reference %v", k, name, exact)
				return
			}
			if exact == 0 && *got == 0 {
				return
			}
			if rel := math.Abs(*got-exact) / exact; rel > 0.01 {
				t.Errorf("%v %s = %v, reference %v (relative error %.4f)", k, name, *got, exact, rel)
			}
		}
		near("transit_hours_p50", g.TransitHoursP50, w.transit, 0.5)
		near("transit_hours_p90", g.TransitHoursP90, w.transit, 0.9)
		near("customs_dwell_hours_p50", g.CustomsDwellHoursP50, w.customs, 0.5)
		near("customs_dwell_hours_p90", g.CustomsDwellHoursP90, w.customs, 0.9)
	}
	if delivered == 0 {
		t.Error("no delivered shipment in the report")
	}
}
