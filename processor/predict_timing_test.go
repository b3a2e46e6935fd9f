package processor

import (
	"testing"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/ingest/gen"
)

// BenchmarkPredict measures one ETA prediction (eta.Predictor.Predict) from
// a model trained on a 20k-shipment workload, for shipment states taken at
// every event of 2,000 of its shipments: every milestone and group level,
// with the predictor's cache as a partition owner uses it (one predictor,
// shipments one after the other).
func BenchmarkPredict(b *testing.B) {
	g, err := gen.New(gen.Config{Shipments: 20000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	events := g.Events()
	model := TrainModel(events)
	byTN := map[string]*analytics.Shipment{}
	var states []analytics.Shipment
	for i := range events {
		s := byTN[events[i].TrackingNumber]
		if s == nil {
			if len(byTN) == 2000 {
				continue
			}
			s = &analytics.Shipment{}
			byTN[events[i].TrackingNumber] = s
		}
		s.Apply(&events[i])
		if !s.Delivered() {
			states = append(states, *s)
		}
	}
	p := model.NewPredictor()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s := &states[i%len(states)]
		if pr := p.Predict(s, s.LastAt); pr.P50 < pr.AsOf && pr.P50 != 0 {
			b.Fatalf("predicted %d before the state's time %d", pr.P50, pr.AsOf)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "predictions/s")
}
