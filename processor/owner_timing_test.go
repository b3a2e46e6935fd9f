package processor

import (
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

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
			cfg := InMemoryConfig{Alerts: c.alerts, Now: func() time.Time { return now }}
			if c.eta {
				cfg.Model = model
			}
			b.SetBytes(size / int64(len(msgs)))
			b.ReportAllocs()
			m := NewInMemory(cfg)
			i := 0
			for b.Loop() {
				if i == len(msgs) {
					i = 0
					m = NewInMemory(cfg)
				}
				m.Handle(&msgs[i]) // flushes every FlushSize events or changes
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// trained returns a model that learned every delivery of events.
func trained(events []schemas.Event) *eta.Model { return TrainModel(events) }
