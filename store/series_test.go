package store

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/schemas"
)

// seriesPartition is where seriesEvents are written.
const seriesPartition = 1

// seriesEvents are eight shipments over two weeks, shift days after day0
// (a Tuesday), on five label sets. Hours are from day0 + shift; the figures
// the tests expect are worked out from them in the comments.
func seriesEvents(shift int) []schemas.Event {
	base := day0.AddDate(0, 0, shift)
	h := func(x float64) time.Time { return base.Add(time.Duration(x * float64(time.Hour))) }
	l1 := label{"dhl", "express", "acme", "CN-US"}
	l2 := label{"dhl", "standard", "acme", "CN-US"}
	l3 := label{"ups", "express", "zeta", "CN-GB"}
	l4 := label{"dhl", "express", "zeta", "DE-FR"}
	l5 := label{"ups", "economy", "o'brien", "CN-US"}
	promise := func(e schemas.Event, x float64) schemas.Event { e.PromisedAt = h(x); return e }
	return []schemas.Event{
		// S1: delivered day 2 00:00 on time, transit 48 h, customs 12 h
		promise(l1.event("S1", "s1a", schemas.PickedUp, h(0)), 60),
		l1.event("S1", "s1b", schemas.CustomsClearance, h(24)),
		l1.event("S1", "s1c", schemas.CustomsReleased, h(36)),
		l1.event("S1", "s1d", schemas.Delivered, h(48)),
		// S2: delivered day 2 12:00, late, transit 60 h
		promise(l1.event("S2", "s2a", schemas.PickedUp, h(0)), 50),
		l1.event("S2", "s2b", schemas.Delivered, h(60)),
		// S3: held in customs day 1, delivered day 6 (Monday) on time,
		// transit 120 h, customs 24 h
		promise(l2.event("S3", "s3a", schemas.PickedUp, h(24)), 150),
		l2.event("S3", "s3b", schemas.CustomsHeld, h(30)),
		l2.event("S3", "s3c", schemas.CustomsReleased, h(54)),
		l2.event("S3", "s3d", schemas.Delivered, h(144)),
		// S4: delivery failed day 2, delivered day 3 late, transit 80 h
		promise(l3.event("S4", "s4a", schemas.PickedUp, h(0)), 70),
		l3.event("S4", "s4b", schemas.DeliveryFailed, h(50)),
		l3.event("S4", "s4c", schemas.Delivered, h(80)),
		// S5: delivered day 7 on time, transit 170 h, customs 30 h
		promise(l4.event("S5", "s5a", schemas.PickedUp, h(0)), 200),
		l4.event("S5", "s5b", schemas.CustomsClearance, h(10)),
		l4.event("S5", "s5c", schemas.CustomsReleased, h(40)),
		l4.event("S5", "s5d", schemas.Delivered, h(170)),
		// S6: exception day 0, returned day 4, never delivered
		l3.event("S6", "s6a", schemas.PickedUp, h(0)),
		l3.event("S6", "s6b", schemas.Exception, h(20)),
		l3.event("S6", "s6c", schemas.Returned, h(100)),
		// S7: held in customs day 0, still open
		l1.event("S7", "s7a", schemas.PickedUp, h(0)),
		l1.event("S7", "s7b", schemas.CustomsHeld, h(12)),
		l1.event("S7", "s7c", schemas.InTransit, h(30)),
		// S8: delivered day 4, transit 100 h, no promise
		l5.event("S8", "s8a", schemas.PickedUp, h(0)),
		l5.event("S8", "s8b", schemas.Delivered, h(100)),
	}
}

// seriesFacts returns the final states of seriesEvents(shift).
func seriesFacts(shift int) []Fact {
	_, final := versions(seriesPartition, seriesEvents(shift))
	var out []Fact
	for _, tn := range []string{"S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"} {
		out = append(out, Fact{TrackingNumber: tn, Partition: seriesPartition, State: final[tn]})
	}
	return out
}

// newSeriesStore writes seriesEvents(0) through a partition, as the
// processor does, in two writes: the first half of the events, then the
// rest.
func newSeriesStore(t *testing.T) *Store {
	t.Helper()
	s := newStore(t)
	events := seriesEvents(0)
	p := analytics.NewPartition()
	half := len(events) / 2
	for i := range events[:half] {
		p.Apply(&events[i], false)
	}
	flush(t, s, p, seriesPartition, analytics.Advance{Partition: seriesPartition, From: 0, To: int64(half)})
	for i := half; i < len(events); i++ {
		p.Apply(&events[i], false)
	}
	flush(t, s, p, seriesPartition, analytics.Advance{Partition: seriesPartition, From: int64(half), To: int64(len(events))})
	return s
}

// d returns the date of day0 + n days.
func d(n int) string { return day0.AddDate(0, 0, n).Format(time.DateOnly) }

// String renders q as n/p50/p90.
func (q Quantiles) String() string { return fmt.Sprintf("%d/%g/%g", q.N, q.P50, q.P90) }

var token = regexp.MustCompile(`~?[0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?|[^0-9~]+`)

// similar reports whether got reads as want, where a number written ~x in
// want may be anything within 1% of x (a quantile from the sketch) and
// everything else must be equal.
func similar(got, want string) bool {
	g, w := token.FindAllString(got, -1), token.FindAllString(want, -1)
	if len(g) != len(w) {
		return false
	}
	for i := range w {
		x, approx := strings.CutPrefix(w[i], "~")
		if !approx {
			if g[i] != w[i] {
				return false
			}
			continue
		}
		gv, err1 := strconv.ParseFloat(g[i], 64)
		wv, err2 := strconv.ParseFloat(x, 64)
		if err1 != nil || err2 != nil || math.Abs(gv-wv) > 0.01*wv {
			return false
		}
	}
	return true
}

// TestSeries checks every dashboard series on seriesEvents, with and
// without filters, against figures worked out by hand.
func TestSeries(t *testing.T) {
	s := newSeriesStore(t)
	ctx := context.Background()
	all := ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 9)}
	with := func(f func(*ScorecardQuery)) ScorecardQuery { q := all; f(&q); return q }
	type want struct{ delivered, onTime, transit, customs, exceptions string }
	f := func(name string, q ScorecardQuery, w want) {
		t.Helper()
		var got want
		perDay, err := s.DeliveredPerDay(ctx, q)
		if err != nil {
			t.Fatalf("%s: DeliveredPerDay: %v", name, err)
		}
		got.delivered = dayCounts(perDay)

		weeks, err := s.OnTimePerWeek(ctx, q)
		if err != nil {
			t.Fatalf("%s: OnTimePerWeek: %v", name, err)
		}
		var parts []string
		for _, w := range weeks {
			if w.Week.Weekday() != time.Monday || math.Abs(w.Rate-float64(w.OnTime)/float64(w.WithPromise)) > 1e-12 {
				t.Errorf("%s: week %+v", name, w)
			}
			parts = append(parts, fmt.Sprintf("%s:%d/%d=%.2f", w.Week.Format(time.DateOnly), w.OnTime, w.WithPromise, w.Rate))
		}
		got.onTime = strings.Join(parts, " ")

		transit, err := s.TransitPerDay(ctx, q)
		if err != nil {
			t.Fatalf("%s: TransitPerDay: %v", name, err)
		}
		parts = nil
		for _, x := range transit {
			parts = append(parts, x.Day.Format(time.DateOnly)+":"+x.Quantiles.String())
		}
		got.transit = strings.Join(parts, " ")

		customs, err := s.CustomsByDestination(ctx, q)
		if err != nil {
			t.Fatalf("%s: CustomsByDestination: %v", name, err)
		}
		parts = nil
		for _, x := range customs {
			parts = append(parts, x.Country+":"+x.Quantiles.String())
		}
		got.customs = strings.Join(parts, " ")

		exc, err := s.ExceptionsPerDay(ctx, q)
		if err != nil {
			t.Fatalf("%s: ExceptionsPerDay: %v", name, err)
		}
		parts = nil
		for _, x := range exc {
			var types []string
			for _, st := range slices.Sorted(func(yield func(string) bool) {
				for k := range x.ByType {
					if !yield(k) {
						return
					}
				}
			}) {
				types = append(types, fmt.Sprintf("%s=%d", st, x.ByType[st]))
			}
			parts = append(parts, x.Day.Format(time.DateOnly)+":"+strings.Join(types, ","))
		}
		got.exceptions = strings.Join(parts, " ")

		for _, c := range [...]struct{ what, got, want string }{
			{"delivered per day", got.delivered, w.delivered},
			{"on time per week", got.onTime, w.onTime},
			{"transit per day", got.transit, w.transit},
			{"customs by destination", got.customs, w.customs},
			{"exceptions per day", got.exceptions, w.exceptions},
		} {
			if !similar(c.got, c.want) {
				t.Errorf("%s: %s\n got %s\nwant %s", name, c.what, c.got, c.want)
			}
		}
	}
	// Weeks start on Monday 2026-08-31 (days 0-5) and 2026-09-07 (days 6-12).
	f("all", all, want{
		delivered:  d(2) + ":2 " + d(3) + ":1 " + d(4) + ":1 " + d(6) + ":1 " + d(7) + ":1",
		onTime:     "2026-08-31:1/3=0.33 2026-09-07:2/2=1.00", // S1, S2, S4; S3, S5
		transit:    d(2) + ":2/~48/~60 " + d(3) + ":1/~80/~80 " + d(4) + ":1/~100/~100 " + d(6) + ":1/~120/~120 " + d(7) + ":1/~170/~170",
		customs:    "FR:1/~30/~30 US:2/~12/~24", // S5; S1, S3
		exceptions: d(0) + ":customs_held=1,exception=1 " + d(1) + ":customs_held=1 " + d(2) + ":delivery_failed=1 " + d(4) + ":returned=1",
	})
	f("carrier", with(func(q *ScorecardQuery) { q.Carrier = "dhl" }), want{ // S1, S2, S3, S5, S7
		delivered:  d(2) + ":2 " + d(6) + ":1 " + d(7) + ":1",
		onTime:     "2026-08-31:1/2=0.50 2026-09-07:2/2=1.00",
		transit:    d(2) + ":2/~48/~60 " + d(6) + ":1/~120/~120 " + d(7) + ":1/~170/~170",
		customs:    "FR:1/~30/~30 US:2/~12/~24",
		exceptions: d(0) + ":customs_held=1 " + d(1) + ":customs_held=1",
	})
	f("lane", with(func(q *ScorecardQuery) { q.Lane = "CN-US" }), want{ // S1, S2, S3, S7, S8
		delivered:  d(2) + ":2 " + d(4) + ":1 " + d(6) + ":1",
		onTime:     "2026-08-31:1/2=0.50 2026-09-07:1/1=1.00",
		transit:    d(2) + ":2/~48/~60 " + d(4) + ":1/~100/~100 " + d(6) + ":1/~120/~120",
		customs:    "US:2/~12/~24",
		exceptions: d(0) + ":customs_held=1 " + d(1) + ":customs_held=1",
	})
	f("service and carrier", with(func(q *ScorecardQuery) { q.Service, q.Carrier = "express", "dhl" }), want{ // S1, S2, S5, S7
		delivered:  d(2) + ":2 " + d(7) + ":1",
		onTime:     "2026-08-31:1/2=0.50 2026-09-07:1/1=1.00",
		transit:    d(2) + ":2/~48/~60 " + d(7) + ":1/~170/~170",
		customs:    "FR:1/~30/~30 US:1/~12/~12",
		exceptions: d(0) + ":customs_held=1",
	})
	f("merchant", with(func(q *ScorecardQuery) { q.Merchant = "zeta" }), want{ // S4, S5, S6
		delivered:  d(3) + ":1 " + d(7) + ":1",
		onTime:     "2026-08-31:0/1=0.00 2026-09-07:1/1=1.00",
		transit:    d(3) + ":1/~80/~80 " + d(7) + ":1/~170/~170",
		customs:    "FR:1/~30/~30",
		exceptions: d(0) + ":exception=1 " + d(2) + ":delivery_failed=1 " + d(4) + ":returned=1",
	})
	f("merchant with a quote", with(func(q *ScorecardQuery) { q.Merchant = "o'brien" }), want{ // S8
		delivered: d(4) + ":1",
		transit:   d(4) + ":1/~100/~100",
	})
	f("days 2-3", ScorecardQuery{From: day0.AddDate(0, 0, 2), To: day0.AddDate(0, 0, 3)}, want{ // S1, S2, S4
		delivered:  d(2) + ":2 " + d(3) + ":1",
		onTime:     "2026-08-31:1/3=0.33",
		transit:    d(2) + ":2/~48/~60 " + d(3) + ":1/~80/~80",
		customs:    "US:1/~12/~12",
		exceptions: d(2) + ":delivery_failed=1",
	})
	f("a day without anything", ScorecardQuery{From: day0.AddDate(0, 0, 5), To: day0.AddDate(0, 0, 5)}, want{})
	f("no such carrier", with(func(q *ScorecardQuery) { q.Carrier = "fedex" }), want{})

	bad := ScorecardQuery{From: day0.AddDate(0, 0, 1), To: day0}
	for name, call := range map[string]func() error{
		"DeliveredPerDay":      func() error { _, err := s.DeliveredPerDay(ctx, bad); return err },
		"OnTimePerWeek":        func() error { _, err := s.OnTimePerWeek(ctx, bad); return err },
		"TransitPerDay":        func() error { _, err := s.TransitPerDay(ctx, bad); return err },
		"CustomsByDestination": func() error { _, err := s.CustomsByDestination(ctx, bad); return err },
		"ExceptionsPerDay":     func() error { _, err := s.ExceptionsPerDay(ctx, bad); return err },
	} {
		if call() == nil {
			t.Errorf("%s accepted to before from", name)
		}
	}
}

// TestScorecardFilters checks the scorecard of seriesEvents with each
// filter against figures worked out by hand.
func TestScorecardFilters(t *testing.T) {
	s := newSeriesStore(t)
	ctx := context.Background()
	all := ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 9)}
	f := func(name string, set func(*ScorecardQuery), want ...string) {
		t.Helper()
		q := all
		set(&q)
		rows, err := s.Scorecard(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := dumpRows(rows)
		ok := len(got) == len(want)
		for i := 0; ok && i < len(got); i++ {
			ok = similar(got[i], want[i])
		}
		if !ok {
			t.Errorf("%s:\n got %q\nwant %q", name, got, want)
		}
	}
	// carrier/lane delivered with_promise on_time transit p50,p90 customs p50,p90 exceptions
	f("none", func(*ScorecardQuery) {},
		"dhl/CN-US d=3 p=3 o=2 t=~60,~120 c=~12,~24 e=2", // S1 48, S2 60, S3 120; customs S1 12, S3 24; exceptions S3, S7
		"dhl/DE-FR d=1 p=1 o=1 t=~170,~170 c=~30,~30 e=0",
		"ups/CN-GB d=1 p=1 o=0 t=~80,~80 c=-,- e=2", // exceptions S4 (day 2), S6 (day 0)
		"ups/CN-US d=1 p=0 o=0 t=~100,~100 c=-,- e=0")
	f("service", func(q *ScorecardQuery) { q.Service = "standard" }, // S3
		"dhl/CN-US d=1 p=1 o=1 t=~120,~120 c=~24,~24 e=1")
	f("merchant", func(q *ScorecardQuery) { q.Merchant = "zeta" }, // S4, S5, S6
		"dhl/DE-FR d=1 p=1 o=1 t=~170,~170 c=~30,~30 e=0",
		"ups/CN-GB d=1 p=1 o=0 t=~80,~80 c=-,- e=2")
	f("service and merchant", func(q *ScorecardQuery) { q.Service, q.Merchant = "express", "acme" }, // S1, S2, S7
		"dhl/CN-US d=2 p=2 o=1 t=~48,~60 c=~12,~12 e=1")
	f("service and carrier", func(q *ScorecardQuery) { q.Service, q.Carrier = "express", "ups" }, // S4, S6
		"ups/CN-GB d=1 p=1 o=0 t=~80,~80 c=-,- e=2")
	f("merchant with a quote", func(q *ScorecardQuery) { q.Merchant = "o'brien" }, // S8
		"ups/CN-US d=1 p=0 o=0 t=~100,~100 c=-,- e=0")
	f("all four", func(q *ScorecardQuery) { q.Carrier, q.Lane, q.Service, q.Merchant = "dhl", "CN-US", "standard", "acme" },
		"dhl/CN-US d=1 p=1 o=1 t=~120,~120 c=~24,~24 e=1")
	f("no such merchant", func(q *ScorecardQuery) { q.Merchant = "nobody" })
	f("a quote that must not end the literal", func(q *ScorecardQuery) { q.Merchant = `x' OR merchant != '` })
}
