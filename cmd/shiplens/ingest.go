package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/ingest"
	"github.com/shiplens/shiplens/ingest/carriers"
	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/store"
)

func runNormalize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("normalize", "normalize --carrier CODE [FILE]", stderr)
	carrier := f.String("carrier", "", "payload format: "+strings.Join(carriers.Sources(), ", "))
	strict := f.Bool("strict", false, "exit 1 when any record could not be turned into an event")
	if err := f.parse(args); err != nil {
		return err
	}
	if *carrier == "" {
		return errUsage{"--carrier is required: one of " + strings.Join(carriers.Sources(), ", ")}
	}
	if f.NArg() > 1 {
		return errUsage{"at most one FILE (or standard input)"}
	}
	adapter, err := carriers.Lookup(*carrier)
	if err != nil {
		return errUsage{err.Error()}
	}
	in := io.Reader(os.Stdin)
	name := "standard input"
	if f.NArg() == 1 && f.Arg(0) != "-" {
		file, err := os.Open(f.Arg(0))
		if err != nil {
			return fmt.Errorf("cannot open payload: %w", err)
		}
		defer file.Close()
		in, name = file, f.Arg(0)
	}
	payload, err := io.ReadAll(io.LimitReader(in, carriers.MaxPayload+1))
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", name, err)
	}
	res, err := adapter.Parse(payload, time.Now())
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	for i := range res.Events {
		b, err := res.Events[i].Marshal()
		if err != nil {
			return err
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, p := range res.Problems {
		fmt.Fprintf(stderr, "skipped %v\n", p)
	}
	if len(res.Problems) > 0 {
		fmt.Fprintf(stderr, "%d events, %d records skipped\n", len(res.Events), len(res.Problems))
		if *strict {
			return fmt.Errorf("%d records of %s could not be normalized", len(res.Problems), name)
		}
	}
	return nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("serve", "serve --brokers B [--listen ADDR] [--clickhouse ADDR]", stderr)
	listen := f.String("listen", "127.0.0.1:8080", "HTTP listen address")
	brokers := f.String("brokers", "127.0.0.1:9092", "Kafka brokers host:port[,host:port]")
	addr := f.String("clickhouse", "", "ClickHouse for GET /v1/carriers (optional)")
	topic := f.String("topic", broker.EventsTopic, "Kafka topic for accepted events")
	dlq := f.String("dlq-topic", broker.DLQTopic, "Kafka topic for rejected records")
	maxBody := f.Int64("max-body", 10<<20, "largest request body in bytes")
	ratePerSec := f.Float64("rate", 50, "requests per second allowed per source")
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	bs, err := brokerList(*brokers)
	if err != nil {
		return err
	}
	if err := broker.Ping(ctx, bs); err != nil {
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
	mux := http.NewServeMux()
	rc.Register(mux)
	var db *store.Store
	if *addr != "" {
		if db, _, err = openStore(ctx, *addr); err != nil {
			return err
		}
		defer db.Close()
	}
	mux.HandleFunc("GET /v1/carriers", func(w http.ResponseWriter, r *http.Request) {
		if db == nil {
			httpError(w, http.StatusNotImplemented, "this server was started without --clickhouse")
			return
		}
		q, err := parseDays(r.URL.Query().Get("from"), r.URL.Query().Get("to"))
		if err != nil {
			httpError(w, http.StatusBadRequest, strings.ReplaceAll(err.Error(), "--", ""))
			return
		}
		q.Carrier, q.Lane = r.URL.Query().Get("carrier"), r.URL.Query().Get("lane")
		rows, err := db.Scorecard(r.Context(), q)
		if err != nil {
			log.Error("scorecard query failed", "err", err)
			httpError(w, http.StatusServiceUnavailable, "cannot query ClickHouse")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		writeRows(w, rows, "json")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		rc.Metrics.WritePrometheus(w)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := broker.Ping(r.Context(), bs); err != nil {
			httpError(w, http.StatusServiceUnavailable, "Kafka unreachable")
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv := ingest.NewHTTPServer(*listen, mux, ingest.Timeouts{})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", *listen, err)
	}
	names := make([]string, 0, len(secrets))
	for s := range secrets {
		names = append(names, s)
	}
	fmt.Fprintf(stderr, "serving on http://%s (webhook sources with a secret: %s)\n", ln.Addr(), strings.Join(names, ", "))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("cannot serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
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

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func runDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "export" && args[0] != "replay") {
		return errUsage{"want a subcommand: shiplens dlq export|replay ..."}
	}
	sub := args[0]
	f := newFlags("dlq "+sub, "dlq export [--out FILE] | dlq replay [--in FILE] [--dry-run]  (--brokers B)", stderr)
	brokers := f.String("brokers", "127.0.0.1:9092", "Kafka brokers host:port[,host:port]")
	dlqTopic := f.String("dlq-topic", broker.DLQTopic, "the dead-letter topic")
	topic := f.String("topic", broker.EventsTopic, "where replayed events go")
	out := f.String("out", "-", "export: file for the JSON lines (- for standard output)")
	in := f.String("in", "", "replay: JSON lines from dlq export, fixed by hand; default: the DLQ topic itself")
	source := f.String("source", "", "only records rejected by this source (processor, http, webhook/<name>)")
	reason := f.String("reason", "", "only records with this reason")
	dry := f.Bool("dry-run", false, "replay: report what would be replayed, publish nothing")
	if err := f.parseNoArgs(args[1:]); err != nil {
		return err
	}
	bs, err := brokerList(*brokers)
	if err != nil {
		return err
	}
	keep := func(d *schemas.DeadLetter) bool {
		return (*source == "" || d.Source == *source) && (*reason == "" || string(d.Reason) == *reason)
	}
	var letters []schemas.DeadLetter
	if sub == "replay" && *in != "" {
		if letters, err = readLetters(*in); err != nil {
			return err
		}
	} else {
		if err := broker.Ping(ctx, bs); err != nil {
			return err
		}
		err := broker.ReadAll(ctx, bs, *dlqTopic, func(m *kafka.Message) error {
			d, err := broker.ParseDeadLetter(m)
			if err != nil {
				fmt.Fprintf(stderr, "skipping %s/%d@%d: %v\n", *dlqTopic, m.Partition, m.Offset, err)
				return nil
			}
			letters = append(letters, d)
			return nil
		})
		if err != nil {
			return err
		}
	}
	kept := letters[:0]
	for i := range letters {
		if keep(&letters[i]) {
			kept = append(kept, letters[i])
		}
	}
	if sub == "export" {
		return exportLetters(kept, *out, stdout, stderr)
	}
	res := ingest.Replay(kept, time.Now())
	for _, p := range res.StillBad {
		fmt.Fprintf(stderr, "still rejected: %v\n", p)
	}
	if !*dry && len(res.Events) > 0 {
		p, err := ingest.NewProducer(ingest.ProducerConfig{Brokers: bs, Topic: *topic})
		if err != nil {
			return err
		}
		defer p.Close()
		if err := p.Publish(ctx, res.Events); err != nil {
			return err
		}
	}
	verb := "replayed"
	if *dry {
		verb = "would replay"
	}
	fmt.Fprintf(stdout, "%s %d events from %d of %d dead letters; %d still rejected\n", verb, len(res.Events), res.Fixed, len(kept), len(res.StillBad))
	if len(res.StillBad) > 0 {
		return errors.New("some dead letters are still invalid: fix them (dlq export, edit, dlq replay --in FILE)")
	}
	return nil
}

func readLetters(path string) ([]schemas.DeadLetter, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", path, err)
	}
	defer file.Close()
	var out []schemas.DeadLetter
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var d schemas.DeadLetter
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return nil, fmt.Errorf("cannot parse %s line %d: %w", path, n, err)
		}
		out = append(out, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	return out, nil
}

func exportLetters(letters []schemas.DeadLetter, path string, stdout, stderr io.Writer) error {
	w := stdout
	if path != "-" {
		file, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("cannot create %s: %w", path, err)
		}
		defer file.Close()
		w = file
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range letters {
		if err := enc.Encode(letters[i]); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	fmt.Fprintf(stderr, "exported %d dead letters\n", len(letters))
	return nil
}

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
	if err := broker.Ping(ctx, bs); err != nil {
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
