package gen

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/shiplens/shiplens/schemas"
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
// of continuations, on one goroutine, for each kind of oracle.
func BenchmarkOraclePredict(b *testing.B) {
	g, ids := oracleIDs(b)
	for _, kind := range oracles {
		b.Run(kind.name, func(b *testing.B) {
			o := kind.new(g, 0)
			b.ReportAllocs()
			k := 0
			for b.Loop() {
				o.Predict(ids[k%len(ids)])
				k++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(k), "ns/prediction")
		})
	}
}

// BenchmarkOraclePredictParallel runs predictions on every core, as the
// backtest does.
func BenchmarkOraclePredictParallel(b *testing.B) {
	g, ids := oracleIDs(b)
	for _, kind := range oracles {
		b.Run(kind.name, func(b *testing.B) {
			o := kind.new(g, 0)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				k := 0
				for pb.Next() {
					o.Predict(ids[k%len(ids)])
					k += 7919
				}
			})
		})
	}
}

// BenchmarkOracleBacktest is the oracle's share of a backtest of the
// default workload: one op predicts after every scan before the delivery
// of every delivered shipment, on all cores, for each kind of oracle. It
// also reports how good each is there: NewOracle's error is the least a
// model can hope for, NewLuckFreeOracle's what an oracle makes that draws
// no lesson on a parcel's luck from its legs so far.
func BenchmarkOracleBacktest(b *testing.B) {
	g, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	ships := byShipment(b, g.Events())
	for _, kind := range oracles {
		b.Run(kind.name, func(b *testing.B) {
			b.ReportAllocs()
			var preds []prediction
			for b.Loop() {
				preds = predictAll(kind.new(g, 0), ships)
			}
			var sum, in24, inside float64
			var n int
			type tally struct {
				n         int
				sum, wide float64 // of |p50-actual| and p90-p10, hours
			}
			byStatus := map[schemas.Status]*tally{}
			for _, p := range preds {
				if !p.ok {
					continue
				}
				n++
				e := math.Abs(float64(p.p50-p.actual)) / 3600
				sum += e
				st := byStatus[p.status]
				if st == nil {
					st = &tally{}
					byStatus[p.status] = st
				}
				st.n++
				st.sum += e
				st.wide += float64(p.p90-p.p10) / 3600
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
			b.Logf("%s: %d predictions, %d with ok: MAE %.1f h, within 24 h %.3f, p10-p90 coverage %.3f",
				kind.name, len(preds), n, sum/float64(n), in24/float64(n), inside/float64(n))
			// On one line each: a benchmark's log keeps ten lines.
			var mae, wide strings.Builder
			for _, st := range slices.Sorted(maps.Keys(byStatus)) {
				x := byStatus[st]
				fmt.Fprintf(&mae, " %s %.1f", st, x.sum/float64(x.n))
				fmt.Fprintf(&wide, " %s %.1f", st, x.wide/float64(x.n))
			}
			b.Logf("MAE after each status, hours:%s", mae.String())
			b.Logf("mean p90-p10 after each status, hours:%s", wide.String())
		})
	}
}
