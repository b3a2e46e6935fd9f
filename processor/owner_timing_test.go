package processor

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/schemas"
)

// BenchmarkHandle measures decode + process in memory on one goroutine: the
// per-event work of a partition owner without Kafka or ClickHouse, with
// and without predictions.
func BenchmarkHandle(b *testing.B) {
	g, err := gen.New(gen.Config{Shipments: 20000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	events := g.Events()
	msgs := make([]kafka.Message, len(events))
	var size int64
	for i := range events {
		v, err := events[i].Marshal()
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = kafka.Message{Key: []byte(events[i].TrackingNumber), Value: v}
		size += int64(len(v))
	}
	now := time.Now()
	model := trained(events)
	for _, c := range []struct{ eta, alerts bool }{{false, false}, {true, false}, {true, true}} {
		name := "predictions=off"
		if c.eta {
			name = "predictions=on"
		}
		if c.alerts {
			name += ",alerts=on"
		}
		b.Run(name, func(b *testing.B) {
			p := &Processor{cfg: Config{Now: func() time.Time { return now }}.withDefaults(), metrics: newMetrics()}
			if c.eta {
				p.learner = newLearner(p, nil, p.cfg.ETA)
				p.learner.set(model, true)
			}
			if c.alerts {
				p.alertSink = noAlertSink{}
			}
			b.SetBytes(size / int64(len(msgs)))
			b.ReportAllocs()
			newO := func() *owner {
				o := newOwner(p, nil, 0, 0)
				o.alerts = newAlertOwner(o)
				return o
			}
			o := newO()
			i := 0
			ctx := context.Background()
			for b.Loop() {
				if i == len(msgs) {
					i = 0
					o = newO()
				}
				o.handle(ctx, &msgs[i])
				// A flush every 50000 events or changes, as FlushSize does.
				if o.part.Changed() > 50000 || i%50000 == 0 {
					o.part.Pending(0)
					o.part.Written()
					if o.eta != nil {
						o.eta.take(&writeReq{}, o.part.Watermark())
					}
					if o.alerts != nil {
						o.alerts.e.Take()
					}
				}
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// trained returns a model that learned every delivery of events, so that
// predictions take the learned path, not the cold start.
func trained(events []schemas.Event) *eta.Model {
	byTN := map[string][]schemas.Event{}
	for _, e := range events {
		byTN[e.TrackingNumber] = append(byTN[e.TrackingNumber], e)
	}
	var ds []eta.Delivery
	last := uint32(0)
	for tn, evs := range byTN {
		slices.SortFunc(evs, func(a, b schemas.Event) int { return a.OccurredAt.Compare(b.OccurredAt) })
		var s analytics.Shipment
		var visits []eta.Visit
		for i := range evs {
			s.Apply(&evs[i])
			if s.Delivered() {
				ds = append(ds, eta.Delivery{TrackingNumber: tn, Carrier: s.Carrier(), Service: s.Service(), Lane: s.Lane(),
					Start: s.Start(), DeliveredAt: s.DeliveredAt, Visits: visits})
				last = max(last, s.DeliveredAt)
				break
			}
			visits = append(visits, eta.Visit{At: s.LastAt, Milestone: eta.MilestoneOf(&s)})
		}
	}
	m := eta.New(eta.Config{})
	m.Learn(ds, nil, last-last%86400+86400)
	return m
}

// noAlertSink turns alerts on in benchmarks that never write.
type noAlertSink struct{}

func (noAlertSink) WriteAlerts(context.Context, []alerts.Alert) error               { return nil }
func (noAlertSink) WriteNotifications(context.Context, []alerts.Notification) error { return nil }
func (noAlertSink) OpenAlerts(context.Context, int, func(alerts.Alert)) error       { return nil }
func (noAlertSink) Notified(context.Context, int, time.Time, func(alerts.Notification)) error {
	return nil
}
