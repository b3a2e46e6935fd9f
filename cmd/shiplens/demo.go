package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/sourcegraph/conc"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/chserver"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/internal/progress"
	"github.com/shiplens/shiplens/processor"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/store"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("demo", "demo [--shipments N] [--seed S] [--brokers B] [--clickhouse ADDR] [--retention 30d] [--lost-after 90d]", stderr)
	shipments := f.Int("shipments", 20000, "number of shipments to generate")
	seed := f.Int64("seed", 1, "workload seed")
	brokersFlag := f.String("brokers", "", "use these Kafka brokers instead of an embedded one")
	addr := f.String("clickhouse", "", "use this ClickHouse instead of a private server child process")
	dataDir := f.String("data-dir", filepath.Join(".cache", "demo"), "where the private ClickHouse keeps its data (wiped at start)")
	format := f.String("format", "table", "scorecard format: table or json")
	retention := retentionFlags(f)
	etaCfg := etaFlags(f)
	alertCfg := alertFlags(f)
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	if *format != "json" && *format != "table" {
		return errUsage{fmt.Sprintf("unknown --format %q: want json or table", *format)}
	}
	began := time.Now()
	say := func(format string, a ...any) { fmt.Fprintf(stderr, "» "+format+"\n", a...) }

	// Kafka: the given brokers, or an embedded kfake broker on 127.0.0.1.
	var brokers []string
	if *brokersFlag != "" {
		bs, err := brokerList(*brokersFlag)
		if err != nil {
			return err
		}
		brokers = bs
		say("using Kafka at %v", brokers)
	} else {
		emb, err := broker.Start(broker.Options{})
		if err != nil {
			return err
		}
		defer emb.Close()
		brokers = emb.Addrs()
		say("started embedded Kafka broker (kfake) at %v", brokers)
	}

	// ClickHouse: the given server, or a private child process.
	chAddr := *addr
	if chAddr == "" {
		if _, err := chserver.EnsureInstalled(ctx, stderr); err != nil {
			return err
		}
		dir, err := filepath.Abs(filepath.Join(*dataDir, "clickhouse"))
		if err != nil {
			return err
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("cannot clear %s: %w", dir, err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("cannot create %s: %w", dir, err)
		}
		srv, err := chserver.Start(ctx, chserver.Options{Dir: dir})
		if err != nil {
			return err
		}
		defer srv.Stop()
		chAddr = srv.Addr
		say("started private ClickHouse %s at %s (data in %s)", chserver.Version(ctx, srv.Addr), srv.Addr, dir)
	}
	cfg, err := clickhouseConfig(chAddr)
	if err != nil {
		return err
	}
	if _, err := store.Migrate(ctx, cfg, nil); err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	// Workload: generate and publish.
	gcfg := gen.Config{Shipments: *shipments, Seed: *seed}.WithDefaults()
	g, err := gen.New(gcfg)
	if err != nil {
		return errUsage{err.Error()}
	}
	bar := progress.New(stderr, "publishing events", 0, "events")
	total, err := produce(ctx, g, brokers, schemas.EventsTopic, kafkaadmin.DefaultPartitions, bar)
	bar.Finish()
	if err != nil {
		return err
	}
	say("published %d events for %d shipments (%.0f%% late, %.0f%% duplicated)", total, *shipments, gcfg.DisorderRate*100, gcfg.DuplicateRate*100)

	// Process until the group has committed every message.
	group := fmt.Sprintf("shiplens-demo-%d", time.Now().UnixNano())
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ac, err := alertCfg()
	if err != nil {
		return err
	}
	p, err := processor.New(processor.Config{Brokers: brokers, Group: group, FlushInterval: 200 * time.Millisecond, Retention: retention(), ETA: etaCfg(), Alerts: ac, Log: log}, db)
	if err != nil {
		return err
	}
	pctx, stopProcessor := context.WithCancel(ctx)
	defer stopProcessor()
	var wg conc.WaitGroup
	var runErr error
	stopped := make(chan struct{})
	wg.Go(func() { defer close(stopped); runErr = p.Run(pctx) })
	procStart := time.Now()
	pbar := progress.New(stderr, "processing events", total, "events")
	waitErr := kafkaadmin.WaitCaughtUp(ctx, brokers, group, schemas.EventsTopic, kafkaadmin.WaitOptions{
		Poll:     200 * time.Millisecond,
		Progress: func(committed, _ int64) { pbar.Set(committed, 0) },
		Check: func() error {
			select {
			case <-stopped:
				return errors.New("the processor stopped before it caught up")
			default:
			}
			if p.Metrics().Snapshot().Owners == 0 && time.Since(procStart) > time.Minute {
				return fmt.Errorf("the processor owns no partition after a minute; is another member of group %s running?", group)
			}
			return nil
		},
	})
	pbar.Finish()
	stopProcessor()
	wg.Wait()
	if runErr != nil {
		return runErr
	}
	if waitErr != nil {
		return waitErr
	}
	procTime := time.Since(procStart)
	s := p.Metrics().Snapshot()
	say("processed %d messages in %s (%.0f events/s end to end): %d changed a shipment, %d were duplicates or no-ops, %d rejected",
		s.Consumed, procTime.Round(time.Millisecond), float64(s.Consumed)/procTime.Seconds(), s.Applied, s.Unchanged, s.RejectedTotal())
	say("wrote %d shipment versions to ClickHouse in %d inserts", s.Written, s.Inserts)
	if s.LookedUp > 0 {
		say("looked up %d shipments not in memory in ClickHouse (%d were stored)", s.LookedUp, s.Found)
	}
	if s.AlignWaits > 0 {
		say("replaying, partitions stopped %d times for %s in all to let the ETA model catch up with their event time", s.AlignWaits, s.AlignTime.Round(time.Millisecond))
	}
	if !ac.Disabled {
		say("opened %d alerts for customer service and published %d alert transitions to %s and %d customer notifications to %s (shiplens alerts list; shiplens notify delivers them)",
			s.AlertsOpened, s.AlertsPublished, alerts.AlertsTopic, s.NotificationsPublished, alerts.NotificationsTopic)
	}

	// Scorecard over every delivery day of the workload.
	q := store.ScorecardQuery{From: gcfg.Start, To: gcfg.Start.Add(gcfg.Span + 180*24*time.Hour)}
	card, err := db.ScorecardOf(ctx, q)
	if err != nil {
		return err
	}
	if *format == "json" {
		if err := writeRows(stdout, card.Rows(), "json"); err != nil {
			return err
		}
	} else {
		span := q.From.Format(time.DateOnly) + " to " + q.To.Format(time.DateOnly)
		fmt.Fprintf(stdout, "\nCarrier scorecard, all lanes, deliveries %s (transit and customs dwell in hours)\n\n", span)
		byCarrier := card.RollUp(func(k analytics.ScoreKey) analytics.ScoreKey {
			return analytics.ScoreKey{Carrier: k.Carrier, Lane: "all"}
		})
		if err := writeRows(stdout, byCarrier.Rows(), "table"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nLanes, all carriers\n\n")
		byLane := card.RollUp(func(k analytics.ScoreKey) analytics.ScoreKey { return analytics.ScoreKey{Carrier: "all", Lane: k.Lane} })
		if err := writeRows(stdout, byLane.Rows(), "table"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\n%d carrier-lane rows in all: shiplens report carriers --format table|json gives each.\n", len(card.Rows()))
		if err := sampleETAs(ctx, db, stdout); err != nil {
			return err
		}
	}
	say("done in %s", time.Since(began).Round(time.Millisecond))
	if *addr != "" {
		say("query it again: shiplens report carriers --clickhouse %s --from %s --to %s", chAddr, q.From.Format(time.DateOnly), q.To.Format(time.DateOnly))
	}
	return nil
}

// sampleETAs prints a few current predictions and a what-if quote, once
// the processor has learned a model.
func sampleETAs(ctx context.Context, db *store.Store, w io.Writer) error {
	m, err := latestModel(ctx, db)
	if err != nil || m == nil {
		return err
	}
	var sample []eta.Record
	errEnough := errors.New("enough")
	if err := db.EachPrediction(ctx, func(r eta.Record) error {
		if r.Basis <= eta.BasisGlobal && r.Lane != "" {
			sample = append(sample, r)
		}
		if len(sample) == 6 {
			return errEnough
		}
		return nil
	}); err != nil && !errors.Is(err, errEnough) {
		return err
	}
	fmt.Fprintf(w, "\nPredicted deliveries (model %s, %d deliveries learned; shiplens eta TRACKING... gives any)\n\n",
		time.Unix(int64(m.Version()), 0).UTC().Format(time.DateOnly), m.Deliveries())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "tracking number\tcarrier\tlane\tstatus\tas of\tp10\tpredicted\tp90\tbasis")
	for _, r := range sample {
		a := eta.NewAnswer(r, nil, r.AsOf, "en")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.TrackingNumber, a.Carrier, a.Lane, a.StatusText, a.AsOf.Format("2006-01-02 15:04"),
			a.P10.Format(time.DateOnly), a.PredictedDelivery.Format(time.DateOnly), a.P90.Format(time.DateOnly), a.Basis)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	shipped := m.Version()
	resp := eta.NewQuoteResponse(m.NewPredictor(), "CN-US", "", "", shipped, shipped+14*86400)
	fmt.Fprintf(w, "\nWhich carrier for CN-US, shipped %s, due within 14 days? (shiplens eta quote)\n\n", resp.ShippedAt.Format(time.DateOnly))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tcarrier\tservice\tp50\tp90\tP(on time)")
	for i, o := range resp.Options {
		if i == 5 {
			break
		}
		prob := "-"
		if o.OnTime != nil {
			prob = fmt.Sprintf("%.0f%%", 100**o.OnTime)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", i+1, o.Carrier, o.Service, o.PredictedDelivery.Format(time.DateOnly), o.P90.Format(time.DateOnly), prob)
	}
	return tw.Flush()
}
