package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/schemas"
)

// BenchmarkETALookup measures what a planner's single-number ETA lookup
// waits for: ETAs of one random tracking number against an eta_latest of
// 200k shipments, first as the 20 parts of 20 inserts (merges stopped),
// then merged into one, reporting the latency's median and 99th percentile.
// Compare with select1, a query that reads no table.
//
//	go test -run '^$' -bench ETALookup -benchtime 1000x ./store
func BenchmarkETALookup(b *testing.B) {
	const shipments, batches = 200_000, 20
	s := newStoreB(b)
	ctx := context.Background()
	if err := s.conn.Exec(ctx, "SYSTEM STOP MERGES "+latestTable); err != nil {
		b.Fatal(err)
	}
	tns := make([]string, shipments)
	recs := make([]eta.Record, 0, shipments/batches)
	for i := range shipments {
		tns[i] = fmt.Sprintf("LX%09dCN", uint32(i)*2654435761%1_000_000_000) // spread over the key space
		l := etaShipment{tns[i], "dhl", "express", "CN-US", "acme"}
		recs = append(recs, l.rec(uint64(i%7+1), schemas.InTransit, msInTransit, float64(i%100), 100, 120, 150, etaAt(130), eta.BasisCarrierLane))
		if len(recs) == cap(recs) {
			if err := s.WritePredictions(ctx, recs); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	// The history's merges, which a processor's writes would keep busy, are
	// done before measuring: on a small machine they dominate the latency.
	if err := s.conn.Exec(ctx, "OPTIMIZE TABLE "+historyTable+" FINAL"); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	measure := func(b *testing.B, lookup func(tn string) error) {
		took := make([]time.Duration, 0, 1000)
		b.ReportAllocs()
		for b.Loop() {
			tn := tns[rng.IntN(len(tns))]
			start := time.Now()
			err := lookup(tn)
			took = append(took, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
		}
		slices.Sort(took)
		q := func(p float64) float64 { return float64(took[int(p*float64(len(took)-1))].Microseconds()) }
		b.ReportMetric(q(0.5), "p50-µs")
		b.ReportMetric(q(0.99), "p99-µs")
	}
	etas := func(tn string) error {
		got, err := s.ETAs(ctx, []string{tn})
		if err == nil && len(got) != 1 {
			err = fmt.Errorf("ETAs(%s) = %v", tn, got)
		}
		return err
	}
	b.Run("select1", func(b *testing.B) {
		measure(b, func(string) error {
			var one uint8
			return s.conn.QueryRow(ctx, "SELECT 1").Scan(&one)
		})
	})
	b.Run("parts=20", func(b *testing.B) { measure(b, etas) })
	for _, stmt := range []string{"SYSTEM START MERGES " + latestTable, "OPTIMIZE TABLE " + latestTable + " FINAL"} {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("parts=1", func(b *testing.B) { measure(b, etas) })
}
