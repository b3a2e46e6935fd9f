package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/report"
	"github.com/shiplens/shiplens/ingest"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/internal/progress"
	"github.com/shiplens/shiplens/processor"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/store"
)

func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("generate", "generate --shipments N --seed S [--brokers B | --out FILE.jsonl | --to-clickhouse ADDR [--flush-events N]] [--partitions P] [--start DAY] [--span DURATION]", stderr)
	shipments := f.Int("shipments", 20000, "number of shipments")
	seed := f.Int64("seed", 1, "random seed; the same seed gives the same events")
	brokers := f.String("brokers", "", "Kafka brokers host:port[,host:port]; events go to --topic")
	out := f.String("out", "", "write JSON lines to this file instead (- for standard output)")
	toCH := f.String("to-clickhouse", "", "instead, process the events in this process and write shipment facts and daily aggregates to this ClickHouse `ADDR` (host:port or clickhouse://...), without Kafka")
	partitions := f.Int("partitions", kafkaadmin.DefaultPartitions, "Kafka partitions: of the topic when --brokers creates it, or the ones --to-clickhouse writes as (tracking numbers spread over them as the producer spreads them)")
	flushEvents := f.Int("flush-events", defaultFlushEvents, "with --to-clickhouse, events between two writes to ClickHouse; a larger value writes fewer versions of each shipment's facts and holds more changes in memory")
	defaults := gen.Config{}.WithDefaults()
	start := f.String("start", defaults.Start.Format(time.DateOnly), "first order `DAY`, YYYY-MM-DD (UTC)")
	span := f.durationFlag("span", defaults.Span, nil, "orders are spread over this `DURATION` from --start (36h, 30d)")
	topic := f.String("topic", schemas.EventsTopic, "Kafka topic")
	disorder := f.Float64("disorder", 0.05, "share of events that arrive late, out of order")
	dups := f.Float64("duplicates", 0.02, "share of events sent twice")
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	if err := oneDestination(f, "brokers", "out", "to-clickhouse"); err != nil {
		return err
	}
	if *partitions < 1 || *partitions > maxPartitions {
		return errUsage{fmt.Sprintf("invalid --partitions %d: want 1 to %d", *partitions, maxPartitions)}
	}
	if *flushEvents < 1 {
		return errUsage{fmt.Sprintf("invalid --flush-events %d: want at least 1", *flushEvents)}
	}
	first, err := time.Parse(time.DateOnly, *start)
	if err != nil {
		return errUsage{fmt.Sprintf("invalid --start %q: want YYYY-MM-DD", *start)}
	}
	g, err := gen.New(gen.Config{Shipments: *shipments, Seed: *seed, Start: first, Span: *span, DisorderRate: noneIfZero(*disorder), DuplicateRate: noneIfZero(*dups)})
	if err != nil {
		return errUsage{err.Error()}
	}
	switch {
	case *toCH != "":
		// Events ahead of the clock are rejected as the processor rejects
		// them; a workload that runs into the future would load in part.
		if end := first.Add(*span + gen.MaxJourney); end.After(time.Now().Add(schemas.MaxFutureSkew)) {
			return errUsage{fmt.Sprintf("the workload's events run until %s, in the future, where they would be rejected: give an earlier --start or a shorter --span",
				end.Format(time.DateOnly))}
		}
		return load(ctx, g, loadConfig{addr: *toCH, partitions: *partitions, flushEvents: *flushEvents}, stderr)
	case *out != "":
		bar := progress.New(stderr, "generating events", 0, "events")
		if err := generateFile(ctx, g, *out, stdout, bar); err != nil {
			return err
		}
		bar.Finish()
		return nil
	}
	bs, err := brokerList(*brokers)
	if err != nil {
		return err
	}
	bar := progress.New(stderr, "publishing events", 0, "events")
	n, err := produce(ctx, g, bs, *topic, *partitions, bar)
	if err != nil {
		return err
	}
	bar.Finish()
	fmt.Fprintf(stderr, "published %d events for %d shipments to %s\n", n, *shipments, *topic)
	return nil
}

// maxPartitions is the most Kafka partitions generate accepts; the facts
// store a partition as UInt16.
const maxPartitions = 1 << 16

// oneDestination checks that exactly one of the flags names is set, and
// clears the others when the command line names one: a destination on the
// command line wins over another from a SHIPLENS_* variable.
func oneDestination(f *flags, names ...string) error {
	onLine := f.onCommandLine()
	pick := func(fromLine bool) []string {
		var given []string
		for _, n := range names {
			if (onLine[n] || !fromLine) && f.Lookup(n).Value.String() != "" {
				given = append(given, n)
			}
		}
		return given
	}
	given := pick(true)
	if len(given) == 0 {
		given = pick(false)
	} else {
		for _, n := range names {
			if !onLine[n] {
				f.Set(n, "")
			}
		}
	}
	list := "--" + strings.Join(names, ", --")
	switch len(given) {
	case 1:
		return nil
	case 0:
		return errUsage{fmt.Sprintf("give one of %s", list)}
	}
	return errUsage{fmt.Sprintf("--%s cannot be combined with --%s: give only one of %s", given[0], strings.Join(given[1:], " or --"), list)}
}

// generateFile writes the events as JSON lines to path (- for stdout). A
// file also gets its provenance beside it (see provenance), which lets
// `eta backtest` ask the generator's oracle.
func generateFile(ctx context.Context, g *gen.Generator, path string, stdout io.Writer, bar *progress.Bar) error {
	w := stdout
	var file *os.File
	if path != "-" {
		var err error
		if file, err = os.Create(path); err != nil {
			return fmt.Errorf("cannot create %s: %w", path, err)
		}
		defer file.Close()
		w = file
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<20)
	var n int64
	err := g.Run(ctx, func(e *schemas.Event) error {
		b, err := e.Marshal()
		if err != nil {
			return err
		}
		bw.Write(b)
		bar.Add(1)
		n++
		return bw.WriteByte('\n')
	})
	if err != nil {
		return fmt.Errorf("cannot generate events: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if file == nil {
		return nil
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return writeProvenance(path, g.Config(), n, h.Sum(nil))
}

// produce publishes the generator's events and returns how many it sent. A
// topic that does not exist is created with partitions partitions.
func produce(ctx context.Context, g *gen.Generator, brokers []string, topic string, partitions int, bar *progress.Bar) (int64, error) {
	if err := kafkaadmin.Ping(ctx, brokers); err != nil {
		return 0, err
	}
	if err := kafkaadmin.EnsureTopics(ctx, brokers, partitions, topic); err != nil {
		return 0, err
	}
	p, err := ingest.NewProducer(ingest.ProducerConfig{Brokers: brokers, Topic: topic})
	if err != nil {
		return 0, err
	}
	defer p.Close()
	var n int64
	err = g.Run(ctx, func(e *schemas.Event) error {
		if err := p.Add(e); err != nil {
			return err
		}
		if p.Pending() >= 20000 {
			k := int64(p.Pending())
			if err := p.Flush(ctx); err != nil {
				return err
			}
			n += k
			bar.Add(k)
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("cannot generate events: %w", err)
	}
	k := int64(p.Pending())
	if err := p.Flush(ctx); err != nil {
		return n, err
	}
	bar.Add(k)
	return n + k, nil
}

func clickhouseFlag(f *flags) *string {
	return f.String("clickhouse", store.DefaultAddr, "ClickHouse native address host:port or clickhouse://user:pass@host:port/db")
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("migrate", "migrate --clickhouse ADDR", stderr)
	addr := clickhouseFlag(f)
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	cfg, err := clickhouseConfig(*addr)
	if err != nil {
		return err
	}
	applied, err := store.Migrate(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database %s is up to date (%d migrations applied now)\n", cfg.Database, len(applied))
	return nil
}

func runProcess(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("process", "process --brokers B --clickhouse ADDR [--group G] [--topic T] [--retention 30d] [--lost-after 90d] [--eta-half-life 30d] [--eta-lateness 6h] [--no-eta] [--rules FILE] [--no-alerts]", stderr)
	brokers := f.String("brokers", "127.0.0.1:9092", "Kafka brokers host:port[,host:port]")
	addr := clickhouseFlag(f)
	group := f.String("group", "shiplens-processor", "Kafka consumer group")
	topic := f.String("topic", schemas.EventsTopic, "Kafka topic of canonical events")
	dlq := f.String("dlq-topic", schemas.DLQTopic, "Kafka topic for rejected records")
	flush := f.Duration("flush-interval", 500*time.Millisecond, "longest time a change waits before it is written to ClickHouse")
	verbose := f.Bool("verbose", false, "log every partition assignment and release")
	metricsAddr := f.String("metrics-listen", "", "serve GET /metrics (Prometheus) and /healthz on this address, e.g. 127.0.0.1:9464")
	retention := retentionFlags(f)
	etaCfg := etaFlags(f)
	alertCfg := alertFlags(f)
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	ac, err := alertCfg()
	if err != nil {
		return err
	}
	bs, err := brokerList(*brokers)
	if err != nil {
		return err
	}
	cfg, err := clickhouseConfig(*addr)
	if err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return migrateHint(err, *addr)
	}
	defer db.Close()
	if err := kafkaadmin.Ping(ctx, bs); err != nil {
		return err
	}
	p, err := processor.New(processor.Config{
		Brokers: bs, Topic: *topic, Group: *group, DLQTopic: *dlq, FlushInterval: *flush, Retention: retention(), ETA: etaCfg(), Alerts: ac, Log: log,
	}, db)
	if err != nil {
		return errUsage{err.Error()}
	}
	mctx, stopMetrics := context.WithCancel(ctx)
	waitMetrics, err := serveMetrics(mctx, *metricsAddr, newRegistry(p.Metrics()), nil, stderr)
	if err != nil {
		stopMetrics()
		return err
	}
	defer func() { stopMetrics(); waitMetrics() }()
	fmt.Fprintf(stderr, "processing %s as group %s into %s; Ctrl-C stops after a final flush\n", *topic, *group, cfg)
	err = p.Run(ctx)
	s := p.Metrics().Snapshot()
	fmt.Fprintf(stderr, "stopped: %d messages, %d applied, %d unchanged, %d rejected, %d facts and %d predictions written, %d alert transitions and %d notifications published\n",
		s.Consumed, s.Applied, s.Unchanged, s.RejectedTotal(), s.Written, s.Predictions, s.AlertsPublished, s.NotificationsPublished)
	return migrateHint(err, *addr)
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const synopsis = "report carriers --clickhouse ADDR --from DAY --to DAY [--carrier C] [--lane L] [--service S] [--merchant M] --format json|table|html [--lang en|zh|es|fr|de]"
	if len(args) == 0 || args[0] != "carriers" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stdout, "Usage: shiplens "+synopsis)
			return errHelp
		}
		return errUsage{"want a report name: shiplens report carriers ..."}
	}
	f := newFlags("report carriers", synopsis, stderr)
	addr := clickhouseFlag(f)
	from := f.String("from", "", "first delivery day, YYYY-MM-DD (inclusive)")
	to := f.String("to", "", "last delivery day, YYYY-MM-DD (inclusive)")
	carrier := f.String("carrier", "", "only this carrier code")
	lane := f.String("lane", "", "only this lane, e.g. CN-US")
	service := f.String("service", "", "only this service (the carrier's product, e.g. express)")
	merchant := f.String("merchant", "", "only this merchant")
	format := f.String("format", "table", "json, table or html (one self-contained page with charts, to e-mail, open offline or print)")
	lang := f.String("lang", "en", "language of --format html: en, zh, es, fr or de")
	if err := f.parseNoArgs(args[1:]); err != nil {
		return err
	}
	q, err := parseDays(*from, *to)
	if err != nil {
		return err
	}
	q.Carrier, q.Lane, q.Service, q.Merchant = *carrier, *lane, *service, *merchant
	if *format != "json" && *format != "table" && *format != "html" {
		return errUsage{fmt.Sprintf("unknown --format %q: want json, table or html", *format)}
	}
	if !report.Supported(*lang) {
		return errUsage{fmt.Sprintf("unknown --lang %q: want en, zh, es, fr or de", *lang)}
	}
	db, _, err := openStore(ctx, *addr)
	if err != nil {
		return err
	}
	defer db.Close()
	if *format == "html" {
		return writeHTMLReport(ctx, stdout, db, q, *lang)
	}
	rows, err := db.Scorecard(ctx, q)
	if err != nil {
		return err
	}
	return writeRows(stdout, rows, *format)
}

// writeHTMLReport writes the scorecard of q as the HTML page of package
// report: the rows of --format json, the rows rolled up per carrier for the
// charts, and the deliveries per day and on-time rate per week.
func writeHTMLReport(ctx context.Context, w io.Writer, db *store.Store, q store.ScorecardQuery, lang string) error {
	card, err := db.ScorecardOf(ctx, q)
	if err != nil {
		return err
	}
	days, err := db.DeliveredPerDay(ctx, q)
	if err != nil {
		return err
	}
	weeks, err := db.OnTimePerWeek(ctx, q)
	if err != nil {
		return err
	}
	r := report.Report{
		From: q.From, To: q.To, Carrier: q.Carrier, Lane: q.Lane, Service: q.Service, Merchant: q.Merchant,
		Generated: time.Now(),
		Rows:      card.Rows(),
		Carriers: card.RollUp(func(k analytics.ScoreKey) analytics.ScoreKey {
			return analytics.ScoreKey{Carrier: k.Carrier}
		}).Rows(),
		DeliveredPerDay: make([]report.Day, 0, len(days)),
		OnTimePerWeek:   make([]report.Week, 0, len(weeks)),
	}
	for _, d := range days {
		r.DeliveredPerDay = append(r.DeliveredPerDay, report.Day{Day: d.Day, Delivered: d.N})
	}
	for _, wk := range weeks {
		r.OnTimePerWeek = append(r.OnTimePerWeek, report.Week{Week: wk.Week, WithPromise: wk.WithPromise, OnTime: wk.OnTime, Rate: wk.Rate})
	}
	return report.HTML(w, r, lang)
}

func parseDays(from, to string) (store.ScorecardQuery, error) {
	var q store.ScorecardQuery
	if from == "" || to == "" {
		return q, errUsage{"both --from and --to are required (YYYY-MM-DD)"}
	}
	var err error
	if q.From, err = time.Parse(time.DateOnly, from); err != nil {
		return q, errUsage{fmt.Sprintf("invalid --from %q: want YYYY-MM-DD", from)}
	}
	if q.To, err = time.Parse(time.DateOnly, to); err != nil {
		return q, errUsage{fmt.Sprintf("invalid --to %q: want YYYY-MM-DD", to)}
	}
	if q.To.Before(q.From) {
		return q, errUsage{fmt.Sprintf("--to %s is before --from %s", to, from)}
	}
	if err := q.Validate(); err != nil {
		return q, errUsage{err.Error()}
	}
	return q, nil
}

func writeRows(w io.Writer, rows []analytics.ScoreRow, format string) error {
	if format == "json" {
		if rows == nil {
			rows = []analytics.ScoreRow{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no shipments delivered or excepted in that range")
		return err
	}
	return analytics.WriteTable(w, rows)
}

// noneIfZero maps a rate flag of 0 to the generator's "none" (a negative
// rate); the generator reads 0 as "use the default".
func noneIfZero(rate float64) float64 {
	if rate == 0 {
		return -1
	}
	return rate
}
