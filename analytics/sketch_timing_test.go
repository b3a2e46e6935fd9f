package analytics

import (
	"math/rand/v2"
	"testing"
	"unique"
)

// BenchmarkSketchAdd measures one insert into a transit-time sketch: the
// bucket's logarithm and the map update, over values spread like transit
// hours (a log-normal around ten days), so that a few hundred buckets are
// in use as in a lane's real sketch.
func BenchmarkSketchAdd(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	vs := make([]float64, 1<<16)
	for i := range vs {
		vs[i] = 240 * rng.ExpFloat64() * rng.ExpFloat64()
	}
	b.ReportAllocs()
	var s Sketch
	i := 0
	for b.Loop() {
		s.Add(vs[i&(len(vs)-1)])
		i++
	}
	if s.Count() != int64(i) {
		b.Fatalf("the sketch counted %d values of %d", s.Count(), i)
	}
}

// BenchmarkDaysChange measures what a changed shipment costs the daily
// aggregates: the retraction of its old contribution and the addition of
// its new one (a delivery moving to another day), over a few hundred day
// cells.
func BenchmarkDaysChange(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	carriers := []unique.Handle[string]{unique.Make("dhl"), unique.Make("ups"), unique.Make("4px")}
	lane, none := unique.Make("CN-US"), unique.Make("")
	cs := make([]Contribution, 1024)
	for i := range cs {
		at := uint32(20000+rng.IntN(30))*86400 + uint32(rng.IntN(86400))
		cs[i] = Contribution{carrier: carriers[rng.IntN(3)], lane: lane, service: none, merchant: none,
			DeliveredAt: at, Transit: Bucket(240 * rng.ExpFloat64()), Promise: true, OnTime: rng.IntN(4) > 0}
	}
	b.ReportAllocs()
	var d Days
	i := 0
	for b.Loop() {
		d.Change(&cs[i&1023], &cs[(i+1)&1023])
		i++
	}
}
