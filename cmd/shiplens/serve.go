package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sort"
	"strings"

	"github.com/shiplens/shiplens/api"
	"github.com/shiplens/shiplens/ingest"
	"github.com/shiplens/shiplens/ingest/carriers"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/store"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("serve", "serve --brokers B [--listen ADDR] [--clickhouse ADDR]", stderr)
	listen := f.String("listen", "127.0.0.1:8080", "HTTP listen address")
	brokers := f.String("brokers", "127.0.0.1:9092", "Kafka brokers host:port[,host:port]")
	addr := f.String("clickhouse", "", "ClickHouse for GET /v1/carriers and /v1/eta (optional)")
	topic := f.String("topic", schemas.EventsTopic, "Kafka topic for accepted events")
	dlq := f.String("dlq-topic", schemas.DLQTopic, "Kafka topic for rejected records")
	maxBody := f.Int64("max-body", 10<<20, "largest request body in bytes")
	ratePerSec := f.Float64("rate", 50, "requests per second allowed per source")
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	bs, err := brokerList(*brokers)
	if err != nil {
		return err
	}
	if err := kafkaadmin.Ping(ctx, bs); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	p, err := ingest.NewProducer(ingest.ProducerConfig{Brokers: bs, Topic: *topic, DLQTopic: *dlq})
	if err != nil {
		return err
	}
	defer p.Close()
	secrets := webhookSecrets()
	rc := ingest.NewReceiver(ingest.ReceiverConfig{
		Secrets: secrets, APIToken: os.Getenv("SHIPLENS_API_TOKEN"), MaxBodyBytes: *maxBody, RatePerSec: *ratePerSec, Log: log,
	}, p)
	var db *store.Store
	if *addr != "" {
		if db, _, err = openStore(ctx, *addr); err != nil {
			return err
		}
		defer db.Close()
	}
	reg := newRegistry(rc.Metrics)
	cfg := api.Config{Receiver: rc, Health: func(ctx context.Context) error { return kafkaadmin.Ping(ctx, bs) }, Gatherer: reg, Log: log}
	if db != nil {
		cfg.Scorecards = db // a nil *store.Store would be a non-nil interface
		cfg.ETAs = db
		cfg.Models = &api.Models{Source: db}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", *listen, err)
	}
	names := make([]string, 0, len(secrets))
	for s := range secrets {
		names = append(names, s)
	}
	sort.Strings(names)
	fmt.Fprintf(stderr, "serving on http://%s (webhook sources with a secret: %s)\n", ln.Addr(), strings.Join(names, ", "))
	return api.Serve(ctx, api.NewServer(*listen, api.Handler(cfg), api.Timeouts{}), ln, 0)
}

// webhookSecrets reads SHIPLENS_WEBHOOK_SECRET_<SOURCE> for every source.
func webhookSecrets() map[string][]byte {
	out := map[string][]byte{}
	for _, s := range carriers.Sources() {
		if v := os.Getenv("SHIPLENS_WEBHOOK_SECRET_" + strings.ToUpper(s)); v != "" {
			out[s] = []byte(v)
		}
	}
	return out
}
