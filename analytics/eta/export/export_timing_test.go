package export

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/schemas"
)

// benchRecords returns one batch of records shaped like production: unique
// tracking numbers, a few carriers and services, tens of lanes, a thousand
// merchants, times spread over weeks.
func benchRecords() []eta.Record {
	rng := rand.New(rand.NewPCG(1, 2))
	carriers := []string{"yunexpress", "4px", "cainiao", "yanwen", "usps", "dhl", "ups", "fedex"}
	services := []string{"standard", "express", "economy"}
	sts := schemas.Statuses()
	out := make([]eta.Record, BatchRows)
	for i := range out {
		st := sts[rng.IntN(len(sts))]
		asOf := 1_750_000_000 + rng.Uint32N(30*86400)
		p50 := asOf + 86400 + rng.Uint32N(14*86400)
		r := eta.Record{
			TrackingNumber: fmt.Sprintf("YT%016d", rng.Uint64N(1e16)),
			Carrier:        carriers[rng.IntN(len(carriers))],
			Service:        services[rng.IntN(len(services))],
			Lane:           fmt.Sprintf("CN-%c%c", 'A'+rng.IntN(6), 'A'+rng.IntN(8)),
			Merchant:       fmt.Sprintf("merchant-%04d", rng.IntN(1000)),
			Status:         st,
			Rev:            rng.Uint64N(1 << 40),
			Prediction: eta.Prediction{
				AsOf:      asOf,
				Milestone: eta.NewMilestone(st, rng.IntN(2) == 0),
				P10:       p50 - rng.Uint32N(3*86400),
				P50:       p50,
				P90:       p50 + rng.Uint32N(5*86400),
				Version:   1_749_945_600,
				Basis:     eta.Basis(rng.IntN(5)),
			},
		}
		if rng.IntN(3) > 0 {
			r.PromisedAt = p50 + rng.Uint32N(86400)
		}
		out[i] = r
	}
	return out
}

// countingWriter counts the bytes of the file.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkWrite writes b.N records to one file, in batches of BatchRows,
// and reports the rows written a second and the file's bytes a row.
func BenchmarkWrite(b *testing.B) {
	recs := benchRecords()
	for _, f := range []Format{Arrow, Parquet} {
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			var out countingWriter
			w, err := NewWriter(&out, f)
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				if err := w.Write(recs[i%len(recs)]); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(out.n)/float64(b.N), "file-B/row")
			b.SetBytes(out.n / int64(b.N))
		})
	}
}
