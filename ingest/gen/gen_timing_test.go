package gen

import (
	"context"
	"testing"

	"github.com/shiplens/shiplens/schemas"
)

// BenchmarkRun measures generation alone: one op is a full 20,000-shipment
// Run into an emit that only counts.
func BenchmarkRun(b *testing.B) {
	g, err := New(Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var n int
	for b.Loop() {
		if err := g.Run(context.Background(), func(*schemas.Event) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}

// BenchmarkRunManyInFlight runs 200,000 shipments over the default 30 days:
// nearly all are in flight at once, so the working set is far larger than
// the caches (the calendar queue keeps the ordering cheap regardless).
func BenchmarkRunManyInFlight(b *testing.B) {
	g, err := New(Config{Seed: 1, Shipments: 200_000})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var n int
	for b.Loop() {
		if err := g.Run(context.Background(), func(*schemas.Event) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRunMarshal adds canonical JSON encoding, what `shiplens generate`
// pays per event.
func BenchmarkRunMarshal(b *testing.B) {
	g, err := New(Config{Seed: 1, Shipments: 5000})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var n, size int
	for b.Loop() {
		err := g.Run(context.Background(), func(e *schemas.Event) error {
			m, err := e.Marshal()
			n++
			size += len(m)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size)/float64(n), "bytes/event")
}
