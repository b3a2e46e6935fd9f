// Command querytime runs every SQL query of shiplens' dashboards (their
// variables' and panels') against a ClickHouse server and prints how long
// each took, the median of several runs, as Grafana would send it: with
// the variables resolved and the ClickHouse datasource's macros expanded
// for a time range.
//
//	go run ./dashboards/querytime -clickhouse 127.0.0.1:9000 [-from 2026-09-01 -to 2026-09-30] [-var carrier=dhl,ups]
//
// The target is that every panel answers within a second over a million
// shipments. With -load N it first migrates the database and loads N
// generated shipments into it with predictions, alerts and pipeline
// figures (package sample): use a database of its own, as in
// clickhouse://127.0.0.1:9000/dash1m. It exits 1 when a query fails or
// its median is over -max.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shiplens/shiplens/dashboards"
	"github.com/shiplens/shiplens/dashboards/internal/macro"
	"github.com/shiplens/shiplens/dashboards/internal/runner"
	"github.com/shiplens/shiplens/dashboards/internal/sample"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/store"
)

// vars collects repeated -var name=a,b flags.
type vars runner.Selection

func (v vars) String() string { return fmt.Sprint(map[string][]string(v)) }

func (v vars) Set(s string) error {
	name, values, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value[,value...], not %q", s)
	}
	v[name] = strings.Split(values, ",")
	return nil
}

type config struct {
	addr           string
	from, to       string
	interval       time.Duration
	runs           int
	limit          time.Duration
	format         string
	sel            vars
	load           int
	seed           int64
	start          string
	span           time.Duration
	onlyDashboards string
	panels         string
	showSQL        bool
}

func main() {
	c := config{sel: vars{}}
	fs := flag.NewFlagSet("querytime", flag.ContinueOnError)
	fs.StringVar(&c.addr, "clickhouse", os.Getenv("SHIPLENS_CLICKHOUSE"), "ClickHouse native address host:port or clickhouse://user:pass@host:port/db (database shiplens by default)")
	fs.StringVar(&c.from, "from", "", "first day of the time range (default: the first delivery day stored)")
	fs.StringVar(&c.to, "to", "", "last day of the time range, included (default: the last delivery day stored)")
	fs.DurationVar(&c.interval, "interval", 0, "$__interval (default: the range / 1000, as a 1000-pixel-wide panel)")
	fs.IntVar(&c.runs, "runs", 3, "runs of each query; the median is reported")
	fs.DurationVar(&c.limit, "max", time.Second, "exit 1 when a query's median is over this")
	fs.StringVar(&c.format, "format", "table", "table or json (one object per line)")
	fs.Var(c.sel, "var", "select variable values, name=a,b (repeatable); others are All, the tracking number one with predictions")
	fs.StringVar(&c.onlyDashboards, "dashboards", "", "comma-separated uids to run (default: all)")
	fs.StringVar(&c.panels, "panels", "", "only the panels whose title contains this")
	fs.BoolVar(&c.showSQL, "sql", false, "print each expanded query on stderr before running it")
	fs.IntVar(&c.load, "load", 0, "first migrate and load this many generated shipments (into an empty database)")
	fs.Int64Var(&c.seed, "seed", 1, "the generated workload's seed, with -load")
	fs.StringVar(&c.start, "start", "2026-09-01", "first order day of the generated workload, with -load")
	fs.DurationVar(&c.span, "span", 30*24*time.Hour, "orders are spread over this, with -load")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if c.addr == "" || c.runs < 1 || (c.format != "table" && c.format != "json") {
		fmt.Fprintln(os.Stderr, "querytime: -clickhouse is required, -runs at least 1, -format table or json")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, c, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "querytime:", err)
		os.Exit(1)
	}
}

// timing is one query's report.
type timing struct {
	Dashboard string  `json:"dashboard"`
	Panel     string  `json:"panel"`
	RefID     string  `json:"ref_id,omitempty"`
	Rows      int     `json:"rows"`
	MedianMS  float64 `json:"median_ms"`
	Error     string  `json:"error,omitempty"`
}

func run(ctx context.Context, c config, stdout, stderr io.Writer) error {
	cfg, err := store.ParseAddr(c.addr)
	if err != nil {
		return err
	}
	if c.load > 0 {
		if err := load(ctx, c, cfg, stderr); err != nil {
			return err
		}
	}
	st, err := store.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	engine := runner.Native(st.Conn())
	var version string
	if err := st.Conn().QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		return err
	}
	from, to, err := timeRange(ctx, engine, c)
	if err != nil {
		return err
	}
	interval := c.interval
	if interval <= 0 {
		interval = max(to.Sub(from)/1000, time.Second).Round(time.Second)
	}
	if _, ok := c.sel["tracking"]; !ok {
		res, err := engine(ctx, "SELECT tracking_number FROM eta_latest WHERE basis != 'delivered' LIMIT 1")
		if err == nil && len(res.Rows) > 0 {
			c.sel["tracking"] = []string{res.Rows[0][0]}
		}
	}
	counts, err := engine(ctx, "SELECT toInt64(sum(delivered)) FROM carrier_days WHERE carrier != ''")
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "ClickHouse %s at %s, %s shipments delivered in all; range %s to %s, interval %s, median of %d runs, selection %v\n",
		version, cfg, counts.Rows[0][0], from.Format(time.DateOnly), to.Format(time.DateOnly), interval, c.runs, map[string][]string(c.sel))
	ds, err := dashboards.Build()
	if err != nil {
		return err
	}
	var out []timing
	var failed, slow int
	for _, d := range ds {
		if c.onlyDashboards != "" && !contains(strings.Split(c.onlyDashboards, ","), d.UID) {
			continue
		}
		env, err := runner.Env(ctx, engine, d, from, to, interval, runner.Selection(c.sel))
		if err != nil {
			return err
		}
		for _, q := range d.Queries {
			if c.panels != "" && !strings.Contains(q.Panel, c.panels) {
				continue
			}
			t := timing{Dashboard: d.UID, Panel: q.Panel, RefID: q.RefID}
			sql, err := macro.Expand(q.SQL, env)
			if err == nil && c.showSQL {
				fmt.Fprintf(stderr, "-- %s / %s\n%s\n", d.UID, q.Panel, sql)
			}
			if err == nil {
				var took time.Duration
				var res *runner.Result
				took, res, err = runner.Time(ctx, engine, sql, c.runs)
				if err == nil {
					t.Rows, t.MedianMS = len(res.Rows), float64(took.Microseconds())/1000
				}
			}
			if err != nil {
				t.Error = err.Error()
				failed++
			} else if time.Duration(t.MedianMS*1e6) > c.limit {
				slow++
			}
			out = append(out, t)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	if err := report(stdout, c.format, out, c.limit); err != nil {
		return err
	}
	if len(out) == 0 {
		return errors.New("no query matches -dashboards and -panels")
	}
	sorted := append([]timing(nil), out...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].MedianMS > sorted[j].MedianMS })
	fmt.Fprintf(stderr, "%d queries, slowest %.0f ms (%s / %s), %d over %s, %d failed\n",
		len(out), sorted[0].MedianMS, sorted[0].Dashboard, sorted[0].Panel, slow, c.limit, failed)
	if failed > 0 || slow > 0 {
		return fmt.Errorf("%d queries failed, %d over %s", failed, slow, c.limit)
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func report(w io.Writer, format string, ts []timing, limit time.Duration) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		for _, t := range ts {
			if err := enc.Encode(t); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "median ms\trows\t \tdashboard\tpanel\t")
	for _, t := range ts {
		mark := ""
		switch {
		case t.Error != "":
			mark = "ERROR: " + t.Error
		case time.Duration(t.MedianMS*1e6) > limit:
			mark = "over " + limit.String()
		}
		panel := t.Panel
		if t.RefID != "" && t.RefID != "A" {
			panel += " (" + t.RefID + ")"
		}
		fmt.Fprintf(tw, "%.1f\t%d\t \t%s\t%s\t%s\n", t.MedianMS, t.Rows, strings.TrimPrefix(t.Dashboard, "shiplens-"), panel, mark)
	}
	return tw.Flush()
}

// timeRange returns the range of -from and -to, by default the days with
// deliveries stored.
func timeRange(ctx context.Context, engine runner.Engine, c config) (time.Time, time.Time, error) {
	from, to := c.from, c.to
	if from == "" || to == "" {
		res, err := engine(ctx, "SELECT toString(min(day)), toString(max(day)) FROM carrier_days WHERE carrier != '' AND delivered != 0")
		if err != nil {
			return time.Time{}, time.Time{}, err
		}
		if from == "" {
			from = res.Rows[0][0]
		}
		if to == "" {
			to = res.Rows[0][1]
		}
	}
	f, err1 := time.Parse(time.DateOnly, from)
	t, err2 := time.Parse(time.DateOnly, to)
	if err := errors.Join(err1, err2); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("cannot read the time range: %w", err)
	}
	if t.Before(f) {
		return time.Time{}, time.Time{}, fmt.Errorf("-to %s is before -from %s", to, from)
	}
	return f, t.Add(24*time.Hour - time.Second), nil
}

// load migrates the database and loads a generated workload into it.
func load(ctx context.Context, c config, cfg store.Config, stderr io.Writer) error {
	start, err := time.Parse(time.DateOnly, c.start)
	if err != nil {
		return fmt.Errorf("cannot read -start: %w", err)
	}
	if _, err := store.Migrate(ctx, cfg, stderr); err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	var n uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count() FROM shipment_days").Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("database %s already holds aggregates: load into an empty one", cfg.Database)
	}
	began := time.Now()
	sum, err := sample.Load(ctx, st, sample.Config{
		Workload:    gen.Config{Shipments: c.load, Seed: c.seed, Start: start, Span: c.span},
		FlushEvents: 500_000,
		Processor:   "querytime-load",
		Progress: func(done, total int64) {
			fmt.Fprintf(stderr, "\rloaded %d of %d events (%.0f%%)", done, total, 100*float64(done)/float64(max(total, 1)))
		},
	})
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "loaded in %s: %+v\n", time.Since(began).Round(time.Second), sum)
	return nil
}
