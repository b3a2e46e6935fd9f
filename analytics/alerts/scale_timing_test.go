package alerts

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/schemas"
)

// BenchmarkTimers1M measures what alerts cost at a million open shipments:
// the memory of their memos, timers and open alerts beside the shipment
// state, and the rate at which events flow through the engine while every
// shipment has a timer. Each shipment gets a pickup, then, a day later in
// event time, an in_transit scan that moves its timer, and another a day
// after that: every scan reschedules a timer, none stalls (a million
// shipments stalling at once is a storm of records, not timer cost).
//
//	go test -run '^$' -bench Timers1M -benchtime 1x ./analytics/alerts/
func BenchmarkTimers1M(b *testing.B) {
	const n = 1_000_000
	rules, err := ParseRules(DefaultRules)
	if err != nil {
		b.Fatal(err)
	}
	tns := make([]string, n)
	for i := range tns {
		tns[i] = fmt.Sprintf("LX%09dCN", i)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	for b.Loop() {
		for _, withAlerts := range []bool{false, true} {
			base := heap()
			part := analytics.NewPartition()
			var e *Engine
			if withAlerts {
				e = NewEngine(rules, 0, part, NewRenderer(rules))
			}
			ev := schemas.Event{Carrier: "chinapost", Service: "economy", OriginCountry: "CN", DestinationCountry: "US"}
			events := 0
			began := time.Now()
			for round, st := range []schemas.Status{schemas.PickedUp, schemas.InTransit, schemas.InTransit} {
				at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(round) * 24 * time.Hour)
				for i, tn := range tns {
					ev.EventID, ev.TrackingNumber, ev.Status = tn+st.String(), tn, st
					ev.OccurredAt = at.Add(time.Duration(i) * time.Second / 20)
					before := part.Watermark()
					changed, _ := part.Apply(&ev, false)
					events++
					if e == nil {
						continue
					}
					e.At(int64(events))
					if changed {
						e.Observe(tn, &ev, nil, part.Watermark())
					}
					if part.Watermark() != before {
						e.Advance(part.Watermark())
					}
					if events%50000 == 0 {
						e.Take()
					}
				}
				part.Pending(0)
				part.Written()
			}
			took := time.Since(began)
			used := heap() - base
			name := "state"
			if withAlerts {
				name = "state+alerts"
				b.ReportMetric(float64(e.OpenAlerts()), "open-alerts")
				b.ReportMetric(float64(e.Timers()), "timers")
			}
			b.ReportMetric(float64(used)/n, name+"-bytes/shipment")
			b.ReportMetric(float64(events)/took.Seconds(), name+"-events/s")
			runtime.KeepAlive(part)
			runtime.KeepAlive(e)
		}
	}
}
