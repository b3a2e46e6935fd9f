package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/shiplens/shiplens/bench"
)

const benchSynopsis = "bench [--quick] [--format json|table] [--clickhouse ADDR] [--reps N] [--shipments N] [--sizes N,N] [--freshness-rate R] [--freshness-for D]"

// runBench runs the benchmark suite (package bench) and prints its report.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("bench", benchSynopsis, stderr)
	quick := f.Bool("quick", false, "small sizes: about a minute instead of an hour (the 10M-shipment load alone takes about 20 minutes)")
	format := f.String("format", "table", "table or json")
	addr := f.String("clickhouse", "", "use this ClickHouse (host:port or clickhouse://...) instead of a private server child process; databases bench_* are created in it, and bench_q_<size> reused by later runs")
	reps := f.Int("reps", 3, "repetitions of each stage (at least 3); the median is reported with min and max")
	shipments := f.Int("shipments", 0, "shipments of the streaming stages' workload (default 100000, 3000 with --quick)")
	sizes := f.String("sizes", "", "stored workloads the queries run over, in shipments (default 1000000,10000000; 20000 with --quick)")
	seed := f.Int64("seed", 1, "workload seed")
	rate := f.Int("freshness-rate", 50000, "offered events/s of the freshness stage")
	fresh := f.Duration("freshness-for", 0, "how long the freshness stage offers events (default 20s, 4s with --quick)")
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	if *format != "json" && *format != "table" {
		return errUsage{fmt.Sprintf("unknown --format %q: want json or table", *format)}
	}
	if *reps < 3 {
		return errUsage{fmt.Sprintf("invalid --reps %d: at least 3, for a median with a spread", *reps)}
	}
	if *shipments < 0 || *rate <= 0 || *fresh < 0 {
		return errUsage{"--shipments, --freshness-rate and --freshness-for must be positive"}
	}
	var ss []int
	if *sizes != "" {
		for _, s := range strings.Split(*sizes, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n <= 0 {
				return errUsage{fmt.Sprintf("invalid --sizes %q: want positive shipment counts, e.g. 1000000,10000000", *sizes)}
			}
			ss = append(ss, n)
		}
	}
	began := time.Now()
	r, err := bench.Run(ctx, bench.Options{Quick: *quick, Reps: *reps, Shipments: *shipments, Seed: *seed, Sizes: ss,
		ClickHouse: *addr, FreshnessRate: *rate, FreshnessFor: *fresh, Progress: stderr})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "» done in %s\n", time.Since(began).Round(time.Second))
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return r.WriteTable(stdout)
}
