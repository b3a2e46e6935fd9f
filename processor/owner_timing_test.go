package processor

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/schemas"
)

// BenchmarkHandle measures decode + process in memory on one goroutine: the
// per-event work of a partition owner without Kafka or ClickHouse.
func BenchmarkHandle(b *testing.B) {
	g, err := gen.New(gen.Config{Shipments: 20000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var msgs []kafka.Message
	var size int64
	if err := g.Run(context.Background(), func(e *schemas.Event) error {
		v, err := e.Marshal()
		msgs = append(msgs, kafka.Message{Key: []byte(e.TrackingNumber), Value: v})
		size += int64(len(v))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	p := &Processor{cfg: Config{Now: func() time.Time { return now }}.withDefaults(), metrics: newMetrics()}
	b.SetBytes(size / int64(len(msgs)))
	b.ReportAllocs()
	o := newOwner(p, nil, 0, 0)
	i := 0
	ctx := context.Background()
	for b.Loop() {
		if i == len(msgs) {
			i = 0
			o = newOwner(p, nil, 0, 0)
		}
		o.handle(ctx, &msgs[i])
		if o.part.Changed() > 50000 {
			o.part.Pending(0)
			o.part.Written()
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
