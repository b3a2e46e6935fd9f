package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/notify"
)

func runNotify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("notify", "notify --config FILE [--brokers B] [--group G] [--metrics-addr ADDR]", stderr)
	config := f.String("config", "", "the destinations (webhooks, e-mail) and delivery policy: a YAML `FILE`, see `go doc github.com/shiplens/shiplens/notify`; secrets come from the environment variables it names")
	brokers := f.String("brokers", "127.0.0.1:9092", "Kafka brokers host:port[,host:port]")
	group := f.String("group", notify.DefaultGroup, "Kafka consumer group")
	alertsTopic := f.String("alerts-topic", alerts.AlertsTopic, "Kafka topic of alerts")
	notificationsTopic := f.String("notifications-topic", alerts.NotificationsTopic, "Kafka topic of customer notifications")
	deadTopic := f.String("dlq-topic", alerts.DeadTopic, "Kafka topic for records that could not be delivered")
	metricsAddr := f.String("metrics-addr", "", "serve GET /metrics (Prometheus) and /healthz on this address, e.g. 127.0.0.1:9466")
	metricsListen := f.String("metrics-listen", "", "the same as --metrics-addr, as the other commands spell it")
	verbose := f.Bool("verbose", false, "log partition assignments and every failed attempt")
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	if *config == "" {
		return errUsage{"--config FILE is required: the webhooks and e-mail to deliver to"}
	}
	addr, set := *metricsAddr, f.onCommandLine()
	if addr == "" || (set["metrics-listen"] && !set["metrics-addr"]) {
		addr = *metricsListen
	}
	bs, err := brokerList(*brokers)
	if err != nil {
		return err
	}
	cfg, err := notify.LoadConfig(*config, os.LookupEnv)
	if err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Brokers, cfg.Group = bs, *group
	cfg.AlertsTopic, cfg.NotificationsTopic, cfg.DeadTopic = *alertsTopic, *notificationsTopic, *deadTopic
	cfg.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	n, err := notify.New(cfg)
	if err != nil {
		return errUsage{err.Error()}
	}
	if err := kafkaadmin.Ping(ctx, bs); err != nil {
		return err
	}
	mctx, stopMetrics := context.WithCancel(ctx)
	waitMetrics, err := serveMetrics(mctx, addr, newRegistry(n.Metrics()), func(ctx context.Context) error { return kafkaadmin.Ping(ctx, bs) }, stderr)
	if err != nil {
		stopMetrics()
		return err
	}
	defer func() { stopMetrics(); waitMetrics() }()
	fmt.Fprintf(stderr, "delivering %s and %s as group %s to %s; Ctrl-C stops after the records in flight\n",
		cfg.AlertsTopic, cfg.NotificationsTopic, cfg.Group, strings.Join(n.Destinations(), ", "))
	err = n.Run(ctx)
	t := n.Metrics().Totals()
	fmt.Fprintf(stderr, "stopped: %d records read, %d deliveries, %d retries, %d dead-lettered to %s, %d duplicates skipped, %d without a known address\n",
		t.Consumed, t.Delivered, t.Retried, t.DeadLettered, cfg.DeadTopic, t.Duplicates, t.Skipped)
	return err
}
