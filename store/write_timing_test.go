package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics"
)

// BenchmarkWriteFacts measures one batch insert of 1000 shipment facts into
// a real ClickHouse server.
func BenchmarkWriteFacts(b *testing.B) {
	s := newStoreB(b)
	base := sampleFacts()
	facts := make([]analytics.Fact, benchRows)
	for i := range facts {
		facts[i] = base[i%len(base)]
		facts[i].TrackingNumber = fmt.Sprintf("T%06d", i)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.WriteFacts(context.Background(), facts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(facts))/b.Elapsed().Seconds(), "rows/s")
}

const benchRows = 10000

// BenchmarkFactColumns measures turning 10000 facts into the typed columns
// of a batch: the part of WriteFacts that runs in shiplens, without a server.
func BenchmarkFactColumns(b *testing.B) {
	base := sampleFacts()
	facts := make([]analytics.Fact, benchRows)
	for i := range facts {
		facts[i] = base[i%len(base)]
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range factColumns {
			_ = c.values(facts, now)
		}
	}
	b.ReportMetric(float64(b.N*len(facts))/b.Elapsed().Seconds(), "rows/s")
}
