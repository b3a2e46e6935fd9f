package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/api"
	"github.com/shiplens/shiplens/dashboards/timing"
	"github.com/shiplens/shiplens/store"
)

// stored is a database holding a generated workload of a given size.
type stored struct {
	shipments  int
	st         *store.Store
	start      time.Time
	span       time.Duration
	loadedNow  bool
	loadSecond float64
}

// spanOf spreads a workload's orders: 30 days up to 100k shipments, 180
// days beyond (as a year's business, and so that the loader holds a few
// million shipments at once, not all ten).
func spanOf(shipments int) time.Duration {
	if shipments > 100_000 {
		return 180 * 24 * time.Hour
	}
	return 30 * 24 * time.Hour
}

// loadSize opens database bench_q_<size>, loading it unless an earlier run
// left it complete.
func loadSize(ctx context.Context, o Options, base store.Config, size int) (*stored, error) {
	s := &stored{shipments: size, start: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), span: spanOf(size)}
	cfg := base
	cfg.Database = fmt.Sprintf("bench_q_%d", size)
	if st, err := store.Open(ctx, cfg); err == nil {
		var n uint64
		if err := st.Conn().QueryRow(ctx, "SELECT uniqExact(tracking_number) FROM shipment_facts").Scan(&n); err == nil && int(n) == size {
			say(o.Progress, "reusing %s: %d shipments stored by an earlier run", cfg.Database, n)
			s.st = st
			return s, nil
		}
		st.Close()
	}
	st, _, err := freshDB(ctx, base, cfg.Database)
	if err != nil {
		return nil, err
	}
	say(o.Progress, "loading %d shipments into %s (processed as the processor does, without Kafka)", size, cfg.Database)
	began := time.Now()
	last := time.Now()
	err = timing.Load(ctx, st, timing.Sample{Shipments: size, Seed: o.Seed, Start: s.start, Span: s.span,
		Progress: func(done, total int64) {
			if time.Since(last) > 5*time.Second {
				last = time.Now()
				say(o.Progress, "  %d of %d events (%.0f%%)", done, total, 100*float64(done)/float64(max(total, 1)))
			}
		}})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("cannot load %d shipments: %w", size, err)
	}
	s.st, s.loadedNow, s.loadSecond = st, true, since(began)
	return s, nil
}

// timeScorecard answers q reps times.
func timeScorecard(ctx context.Context, st *store.Store, q store.ScorecardQuery, reps int) (Stat, int, error) {
	var runs []float64
	rows := 0
	for range reps {
		began := time.Now()
		card, err := st.ScorecardOf(ctx, q)
		if err != nil {
			return Stat{}, 0, err
		}
		runs = append(runs, since(began))
		rows = len(card.Rows())
	}
	return statOf(runs), rows, nil
}

// scorecards times the 30-day and the full-range scorecard over s.
func scorecards(ctx context.Context, s *stored, reps int) (d30, full SizeQuery, err error) {
	end := s.start.Add(s.span)
	q30 := store.ScorecardQuery{From: end.Add(-29 * 24 * time.Hour), To: end}
	qAll := store.ScorecardQuery{From: s.start, To: end.Add(180 * 24 * time.Hour)}
	d30.Shipments, full.Shipments = s.shipments, s.shipments
	if d30.Seconds, d30.Rows, err = timeScorecard(ctx, s.st, q30, reps); err != nil {
		return
	}
	full.Seconds, full.Rows, err = timeScorecard(ctx, s.st, qAll, reps)
	return
}

// etaLookups serves the HTTP API over st and times GET /v1/eta/{tn} for n
// stored tracking numbers, one request after the other, returning the p99.
func etaLookups(ctx context.Context, st *store.Store, n int) (float64, int, error) {
	rows, err := st.Conn().Query(ctx, "SELECT DISTINCT tracking_number FROM shipment_facts ORDER BY cityHash64(tracking_number) LIMIT ?", n)
	if err != nil {
		return 0, 0, err
	}
	var tns []string
	for rows.Next() {
		var tn string
		if err := rows.Scan(&tn); err != nil {
			rows.Close()
			return 0, 0, err
		}
		tns = append(tns, tn)
	}
	rows.Close()
	if len(tns) == 0 {
		return 0, 0, fmt.Errorf("no stored shipment to look up")
	}
	srv := httptest.NewServer(api.Handler(api.Config{ETAs: st, Models: &api.Models{Source: st}}))
	defer srv.Close()
	var lat []float64
	for _, tn := range tns {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/eta/"+tn, nil)
		if err != nil {
			return 0, 0, err
		}
		began := time.Now()
		res, err := srv.Client().Do(req)
		if err != nil {
			return 0, 0, err
		}
		res.Body.Close()
		lat = append(lat, since(began))
		if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusNotFound {
			return 0, 0, fmt.Errorf("GET /v1/eta/%s answered %s", tn, res.Status)
		}
	}
	slices.Sort(lat)
	return lat[min(len(lat)-1, len(lat)*99/100)], len(lat), nil
}

// restore reads every partition's state from st at once, as a processor
// that is given all partitions does, and returns the shipments it holds.
func restore(ctx context.Context, st *store.Store, partitions int) (int, float64, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		n     int
		first error
	)
	began := time.Now()
	for p := range partitions {
		wg.Go(func() {
			part := analytics.NewPartition()
			err := st.Restore(ctx, p, analytics.DefaultRetention, part.Restore)
			mu.Lock()
			n += part.Len()
			if err != nil && first == nil {
				first = err
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return n, since(began), first
}

// slowestPanel times every dashboard panel's SQL over st.
func slowestPanel(ctx context.Context, st *store.Store, reps int) (dashboard, panel string, seconds float64, err error) {
	ts, err := timing.Panels(ctx, st, timing.Options{Reps: reps})
	if err != nil {
		return "", "", 0, err
	}
	for _, t := range ts {
		if s := t.Median.Seconds(); s > seconds {
			dashboard, panel, seconds = t.Dashboard, t.Panel, s
		}
	}
	return dashboard, panel, seconds, nil
}
