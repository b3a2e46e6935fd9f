// Package timing runs every SQL query of shiplens' dashboards the way
// Grafana sends it (variables resolved, the ClickHouse datasource's macros
// expanded) and times it, and loads generated workloads for it to run on:
// the library under dashboards/querytime and `shiplens bench`.
package timing

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shiplens/shiplens/dashboards"
	"github.com/shiplens/shiplens/dashboards/internal/macro"
	"github.com/shiplens/shiplens/dashboards/internal/runner"
	"github.com/shiplens/shiplens/dashboards/internal/sample"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/store"
)

// Options configure Panels.
type Options struct {
	Reps      int                 // runs of each query; default 3
	Selection map[string][]string // variable values; the others are All
}

// Panel is one query's timing.
type Panel struct {
	Dashboard, Panel, RefID string
	Rows                    int
	Median                  time.Duration
}

// Panels runs every dashboard query on st over the days with deliveries
// stored, with the interval of a 1000-pixel-wide panel, and returns each
// query's median time. A failing query is an error: the dashboards' tests
// run every query, so a failure here is the data or the server.
func Panels(ctx context.Context, st *store.Store, o Options) ([]Panel, error) {
	o.Reps = max(o.Reps, 1)
	engine := runner.Native(st.Conn())
	res, err := engine(ctx, "SELECT toString(min(day)), toString(max(day)) FROM carrier_days WHERE carrier != '' AND delivered != 0")
	if err != nil {
		return nil, err
	}
	from, err1 := time.Parse(time.DateOnly, res.Rows[0][0])
	to, err2 := time.Parse(time.DateOnly, res.Rows[0][1])
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("no deliveries stored to time the dashboards over")
	}
	to = to.Add(24*time.Hour - time.Second)
	interval := max(to.Sub(from)/1000, time.Second).Round(time.Second)
	sel := runner.Selection{}
	for k, v := range o.Selection {
		sel[k] = slices.Clone(v)
	}
	if _, ok := sel["tracking"]; !ok {
		if res, err := engine(ctx, "SELECT tracking_number FROM eta_latest WHERE basis != 'delivered' LIMIT 1"); err == nil && len(res.Rows) > 0 {
			sel["tracking"] = []string{res.Rows[0][0]}
		}
	}
	ds, err := dashboards.Build()
	if err != nil {
		return nil, err
	}
	var out []Panel
	for _, d := range ds {
		env, err := runner.Env(ctx, engine, d, from, to, interval, sel)
		if err != nil {
			return nil, err
		}
		for _, q := range d.Queries {
			sql, err := macro.Expand(q.SQL, env)
			if err != nil {
				return nil, fmt.Errorf("%s / %s: %w", d.UID, q.Panel, err)
			}
			took, res, err := runner.Time(ctx, engine, sql, o.Reps)
			if err != nil {
				return nil, fmt.Errorf("%s / %s: %w", d.UID, q.Panel, err)
			}
			out = append(out, Panel{Dashboard: d.UID, Panel: q.Panel, RefID: q.RefID, Rows: len(res.Rows), Median: took})
		}
	}
	return out, nil
}

// Sample is a generated workload to load.
type Sample struct {
	Shipments  int
	Seed       int64
	Start      time.Time
	Span       time.Duration
	Partitions int                     // default 8, the events topic's
	Progress   func(done, total int64) // optional
}

// Load fills the empty, migrated database of st with s as the processor
// would: shipment facts, daily aggregates, predictions, alerts,
// notifications and pipeline figures (without Kafka).
func Load(ctx context.Context, st *store.Store, s Sample) error {
	if s.Partitions <= 0 {
		s.Partitions = 8
	}
	_, err := sample.Load(ctx, st, sample.Config{
		Workload:    gen.Config{Shipments: s.Shipments, Seed: s.Seed, Start: s.Start, Span: s.Span},
		Partitions:  s.Partitions,
		FlushEvents: 500_000,
		Processor:   "bench-load",
		Progress:    s.Progress,
	})
	return err
}
