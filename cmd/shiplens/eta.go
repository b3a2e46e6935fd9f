package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/analytics/eta/export"
	"github.com/shiplens/shiplens/api"
	"github.com/shiplens/shiplens/internal/progress"
	"github.com/shiplens/shiplens/processor"
	"github.com/shiplens/shiplens/store"
)

const etaSynopsis = `eta --clickhouse ADDR [--lang zh] [--as-of TIME] TRACKING...
       shiplens eta quote --clickhouse ADDR --lane L [--carrier C] [--service S] [--shipped-at T] [--deadline D] [--format json|table]
       shiplens eta export --clickhouse ADDR --format arrow|parquet --out FILE
       shiplens eta backtest --input FILE.jsonl [--format json|table]`

func runETA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "backtest":
			return runBacktest(args[1:], stdout, stderr)
		case "quote":
			return runQuote(ctx, args[1:], stdout, stderr)
		case "export":
			return runExport(ctx, args[1:], stdout, stderr)
		}
	}
	f := newFlags("eta", etaSynopsis, stderr)
	addr := clickhouseFlag(f)
	lang := f.String("lang", "en", "language of status_text: en, zh, es, fr or de")
	asOf := f.String("as-of", "", "predict as of this RFC 3339 time (default: the stream's clock, see README)")
	if err := f.parse(args); err != nil {
		return err
	}
	tns := f.Args()
	if len(tns) == 0 {
		return errUsage{"give at least one tracking number"}
	}
	l, err := api.ParseLanguage(*lang)
	if err != nil {
		return errUsage{err.Error()}
	}
	var at time.Time
	if *asOf != "" {
		if at, err = time.Parse(time.RFC3339, *asOf); err != nil {
			return errUsage{fmt.Sprintf("invalid --as-of %q: want RFC 3339, e.g. 2026-11-05T10:00:00Z", *asOf)}
		}
	}
	db, _, err := openStore(ctx, *addr)
	if err != nil {
		return err
	}
	defer db.Close()
	recs, err := db.ETAs(ctx, tns)
	if err != nil {
		return err
	}
	m, err := latestModel(ctx, db)
	if err != nil {
		return err
	}
	var p *eta.Predictor
	if m != nil {
		p = m.NewPredictor()
	}
	enc := json.NewEncoder(stdout)
	missing := 0
	for _, tn := range tns {
		r, ok := recs[tn]
		if !ok {
			missing++
			fmt.Fprintf(stderr, "shiplens eta: no shipment %q is known\n", tn)
			continue
		}
		now := eta.Clock(&r, m, time.Now())
		if !at.IsZero() {
			now = uint32(max(at.Unix(), int64(r.AsOf)))
		}
		if err := enc.Encode(eta.NewAnswer(r, p, now, l)); err != nil {
			return err
		}
	}
	if missing == len(tns) {
		return fmt.Errorf("none of the %d tracking numbers is known", len(tns))
	}
	return nil
}

// latestModel reads the latest saved ETA model, nil when none is saved.
func latestModel(ctx context.Context, db *store.Store) (*eta.Model, error) {
	_, blob, ok, err := db.LatestModel(ctx)
	if err != nil || !ok {
		return nil, err
	}
	return eta.Unmarshal(blob)
}

func runQuote(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("eta quote", "eta quote --clickhouse ADDR --lane L [--carrier C] [--service S] [--shipped-at T] [--deadline D] [--format json|table]", stderr)
	addr := clickhouseFlag(f)
	lane := f.String("lane", "", "lane, e.g. CN-US (required)")
	carrier := f.String("carrier", "", "only this carrier (default: rank every carrier seen on the lane)")
	service := f.String("service", "", "only this service")
	shipped := f.String("shipped-at", "", "hand-over time, RFC 3339 or YYYY-MM-DD (default: now)")
	deadline := f.String("deadline", "", "deadline, RFC 3339 or YYYY-MM-DD (its end, UTC): adds P(delivered by it) and ranks by it")
	format := f.String("format", "json", "json or table")
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	if *lane == "" {
		return errUsage{"--lane is required, e.g. --lane CN-US"}
	}
	if *format != "json" && *format != "table" {
		return errUsage{fmt.Sprintf("unknown --format %q: want json or table", *format)}
	}
	q, err := api.ParseQuote(*lane, *carrier, *service, *shipped, *deadline, time.Now())
	if err != nil {
		return errUsage{err.Error()}
	}
	db, _, err := openStore(ctx, *addr)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := latestModel(ctx, db)
	if err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("no ETA model has been learned yet in %s: run the processor on some deliveries first", *addr)
	}
	resp := eta.NewQuoteResponse(m.NewPredictor(), q.Lane, q.Carrier, q.Service, q.ShippedAt, q.Deadline)
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(resp)
	}
	fmt.Fprintf(stdout, "lane %s, shipped %s", resp.Lane, resp.ShippedAt.Format(time.RFC3339))
	if resp.Deadline != nil {
		fmt.Fprintf(stdout, ", deadline %s", resp.Deadline.Format(time.RFC3339))
	}
	fmt.Fprintf(stdout, ", model %s\n", resp.ModelVersion.Format(time.DateOnly))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tcarrier\tservice\tp10\tp50\tp90\tP(by deadline)\tbasis\tdeliveries")
	for i, o := range resp.Options {
		prob := "-"
		if o.OnTime != nil {
			prob = fmt.Sprintf("%.0f%%", 100**o.OnTime)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f\n", i+1, o.Carrier, o.Service, o.P10.Format(time.DateOnly),
			o.PredictedDelivery.Format(time.DateOnly), o.P90.Format(time.DateOnly), prob, o.Basis, o.Deliveries)
	}
	return tw.Flush()
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("eta export", "eta export --clickhouse ADDR --format arrow|parquet --out FILE", stderr)
	addr := clickhouseFlag(f)
	format := f.String("format", "parquet", "arrow (Arrow IPC file) or parquet")
	out := f.String("out", "", "file to write (required)")
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	ff, err := export.ParseFormat(*format)
	if err != nil {
		return errUsage{err.Error()}
	}
	if *out == "" {
		return errUsage{"--out is required"}
	}
	db, _, err := openStore(ctx, *addr)
	if err != nil {
		return err
	}
	defer db.Close()
	// Write beside the target and rename, so that a failed export leaves no
	// half file under the name a planner's tool reads.
	tmp, err := os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".*")
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", *out, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	w, err := export.NewWriter(bw, ff)
	if err != nil {
		return err
	}
	bar := progress.New(stderr, "exporting predictions", 0, "rows")
	if err := db.EachPrediction(ctx, func(r eta.Record) error {
		bar.Add(1)
		return w.Write(r)
	}); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("cannot write %s: %w", *out, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", *out, err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("cannot write %s: %w", *out, err)
	}
	bar.Finish()
	fmt.Fprintf(stderr, "wrote %d predictions to %s (%s)\n", w.Rows(), *out, ff)
	return nil
}

// The ClickHouse store is the processor's sink, predictions included.
var (
	_ processor.Sink    = (*store.Store)(nil)
	_ processor.ETASink = (*store.Store)(nil)
)
