package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/schemas"
)

// BenchmarkRestoreOpen measures what a processor that owns every partition
// waits for on start: 8 partitions restored at once, holding 1M open
// shipments (125k each) beside 1M shipments closed more than the retention
// before the watermark, which a restore must skip. Each op restores all 8.
//
//	go test -run '^$' -bench RestoreOpen -benchtime 3x ./store
func BenchmarkRestoreOpen(b *testing.B) {
	const partitions, open, closed = 8, 1_000_000, 1_000_000
	s := newStoreB(b)
	ctx := context.Background()
	var facts []analytics.Fact
	flush := func() {
		if err := s.WriteFacts(ctx, facts); err != nil {
			b.Fatal(err)
		}
		facts = facts[:0]
	}
	setupOpen(b, open+closed, func(f analytics.Fact) {
		facts = append(facts, f)
		if len(facts) == 100_000 {
			flush()
		}
	})
	flush()
	b.ResetTimer()
	for b.Loop() {
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			n   int
			err error
		)
		for p := range partitions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				part := analytics.NewPartition()
				e := s.Restore(ctx, p, analytics.DefaultRetention, part.Restore)
				mu.Lock()
				n += part.Len()
				if e != nil {
					err = e
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		if err != nil {
			b.Fatal(err)
		}
		if n != open {
			b.Fatalf("restored %d shipments, want the %d open ones", n, open)
		}
	}
	b.ReportMetric(float64(open*b.N)/b.Elapsed().Seconds(), "shipments/s")
}

// setupOpen calls add with n facts over 8 partitions: the first half open
// (in transit), the second half delivered 100 days before the watermark.
func setupOpen(b *testing.B, n int, add func(analytics.Fact)) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		tn := fmt.Sprintf("BENCH%08d", i)
		at := t0.Add(time.Duration(i%1000) * time.Minute)
		evs := []schemas.Event{
			{EventID: tn + "a", TrackingNumber: tn, Carrier: "dhl", Service: "express", Merchant: "m1",
				OriginCountry: "CN", DestinationCountry: "US", Status: schemas.PickedUp, OccurredAt: at},
			{EventID: tn + "b", TrackingNumber: tn, Carrier: "dhl", Status: schemas.InTransit, OccurredAt: at.Add(20 * time.Hour)},
		}
		if i >= n/2 {
			evs[0].OccurredAt = at.Add(-100 * 24 * time.Hour)
			evs[1].Status, evs[1].OccurredAt = schemas.Delivered, evs[0].OccurredAt.Add(72*time.Hour)
		}
		var st analytics.Shipment
		for j := range evs {
			st.Apply(&evs[j])
		}
		add(analytics.Fact{TrackingNumber: tn, Partition: i % 8, State: st})
	}
}
