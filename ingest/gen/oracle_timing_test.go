package gen

import (
	"math"
	"testing"
)

// oracleIDs returns the event ids a backtest asks the oracle about: every
// scan of the default workload before its shipment's delivery.
func oracleIDs(b *testing.B) (*Generator, []string) {
	g, err := New(Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for _, p := range byShipment(b, g.Events()) {
		if p.delivered < 0 {
			continue
		}
		for _, e := range p.scans[:p.delivered] {
			ids = append(ids, e.EventID)
		}
	}
	return g, ids
}

// BenchmarkOraclePredict measures one prediction with the default number
// of continuations, on one goroutine.
func BenchmarkOraclePredict(b *testing.B) {
	g, ids := oracleIDs(b)
	o := g.NewOracle(0)
	b.ReportAllocs()
	k := 0
	for b.Loop() {
		o.Predict(ids[k%len(ids)])
		k++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(k), "ns/prediction")
}

// BenchmarkOraclePredictParallel runs predictions on every core, as the
// backtest does.
func BenchmarkOraclePredictParallel(b *testing.B) {
	g, ids := oracleIDs(b)
	o := g.NewOracle(0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		k := 0
		for pb.Next() {
			o.Predict(ids[k%len(ids)])
			k += 7919
		}
	})
}

// BenchmarkOracleBacktest is the oracle's share of a backtest of the
// default workload: one op predicts after every scan before the delivery
// of every delivered shipment, on all cores. It also reports how good the
// oracle is there: the least error a model can hope for.
func BenchmarkOracleBacktest(b *testing.B) {
	g, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	ships := byShipment(b, g.Events())
	b.ReportAllocs()
	var preds []prediction
	for b.Loop() {
		preds = predictAll(g.NewOracle(0), ships)
	}
	var sum, in24, inside float64
	var n int
	for _, p := range preds {
		if !p.ok {
			continue
		}
		n++
		e := math.Abs(float64(p.p50-p.actual)) / 3600
		sum += e
		if e <= 24 {
			in24++
		}
		if p.p10 <= p.actual && p.actual <= p.p90 {
			inside++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(preds)), "ns/prediction")
	b.ReportMetric(sum/float64(n), "MAE-hours")
	b.ReportMetric(in24/float64(n), "within-24h")
	b.ReportMetric(inside/float64(n), "p10-p90-coverage")
	b.Logf("%d predictions, %d with ok: MAE %.1f h, within 24 h %.3f, p10-p90 coverage %.3f",
		len(preds), n, sum/float64(n), in24/float64(n), inside/float64(n))
}
