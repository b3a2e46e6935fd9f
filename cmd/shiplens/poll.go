package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/shiplens/shiplens/ingest"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
)

func runPoll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("poll", "poll --source ups|fedex|usps|dhl --base-url URL --brokers B --clickhouse ADDR [--interval 15m] [--once]", stderr)
	source := f.String("source", "", "carrier API to poll: "+strings.Join(ingest.PollSources(), ", "))
	baseURL := f.String("base-url", "", "carrier API root, e.g. https://onlinetools.ups.com")
	brokers := f.String("brokers", "127.0.0.1:9092", "Kafka brokers host:port[,host:port]")
	addr := clickhouseFlag(f)
	interval := f.Duration("interval", 15*time.Minute, "time between polling rounds")
	ratePerSec := f.Float64("rate", 5, "requests per second to the carrier")
	maxAge := f.Duration("max-age", 60*24*time.Hour, "skip shipments with no event for this long")
	once := f.Bool("once", false, "poll one round and exit")
	metricsAddr := f.String("metrics-listen", "", "serve GET /metrics (Prometheus) and /healthz on this address, e.g. 127.0.0.1:9465")
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	if *source == "" || *baseURL == "" {
		return errUsage{"--source and --base-url are required"}
	}
	bs, err := brokerList(*brokers)
	if err != nil {
		return err
	}
	db, _, err := openStore(ctx, *addr)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := kafkaadmin.Ping(ctx, bs); err != nil {
		return err
	}
	pub, err := ingest.NewProducer(ingest.ProducerConfig{Brokers: bs})
	if err != nil {
		return err
	}
	defer pub.Close()
	carrier := *source
	open := func(ctx context.Context) ([]string, error) {
		return db.OpenShipments(ctx, carrier, time.Now().Add(-*maxAge))
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	p, err := ingest.NewPoller(ingest.PollConfig{Source: *source, BaseURL: *baseURL, Interval: *interval, RatePerSec: *ratePerSec,
		Token: os.Getenv("SHIPLENS_POLL_TOKEN_" + strings.ToUpper(*source)), Log: log}, open, pub)
	if err != nil {
		return errUsage{err.Error()}
	}
	mctx, stopMetrics := context.WithCancel(ctx)
	waitMetrics, err := serveMetrics(mctx, *metricsAddr, newRegistry(p.Metrics), func(ctx context.Context) error { return kafkaadmin.Ping(ctx, bs) }, stderr)
	if err != nil {
		stopMetrics()
		return err
	}
	defer func() { stopMetrics(); waitMetrics() }()
	if *once {
		r, err := p.Poll(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "polled %d tracking numbers: %d events, %d problems (to the DLQ), %d failed requests\n", r.Polled, r.Events, r.Problems, r.Failed)
		return nil
	}
	return p.Run(ctx)
}
