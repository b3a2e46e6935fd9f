package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/shiplens/shiplens/api"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/store"
)

var errHelp = errors.New("help shown")

// flags is a subcommand's flag set that also reads SHIPLENS_* variables.
type flags struct {
	*flag.FlagSet
	out      io.Writer
	synopsis string
}

func newFlags(name, synopsis string, out io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := &flags{FlagSet: fs, out: out, synopsis: synopsis}
	fs.Usage = func() {} // errors get one line, not the whole usage
	return f
}

// usage prints the synopsis and every flag, for -h.
func (f *flags) usage() {
	fmt.Fprintf(f.out, "Usage: shiplens %s\n\nFlags (each also read from SHIPLENS_<FLAG>):\n", f.synopsis)
	f.SetOutput(f.out)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
}

// envName returns the environment variable of a flag: --clickhouse is
// SHIPLENS_CLICKHOUSE, --flush-interval is SHIPLENS_FLUSH_INTERVAL.
func envName(flagName string) string {
	return "SHIPLENS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse parses args; flags not given take their SHIPLENS_* variable if set.
func (f *flags) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			f.usage()
			return errHelp
		}
		return errUsage{err.Error()}
	}
	set := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	var err error
	f.VisitAll(func(fl *flag.Flag) {
		if set[fl.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(fl.Name)); ok {
			if e := fl.Value.Set(v); e != nil {
				err = errUsage{fmt.Sprintf("invalid value %q for %s: %v", v, envName(fl.Name), e)}
			}
		}
	})
	return err
}

// parseNoArgs is parse for commands that take no positional arguments.
func (f *flags) parseNoArgs(args []string) error {
	if err := f.parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return errUsage{fmt.Sprintf("unexpected argument %q", f.Arg(0))}
	}
	return nil
}

// brokerList parses --brokers; a bad value is a usage error.
func brokerList(s string) ([]string, error) {
	bs, err := kafkaadmin.ParseBrokers(s)
	if err != nil {
		return nil, errUsage{err.Error()}
	}
	return bs, nil
}

// clickhouseConfig parses --clickhouse; a bad value is a usage error.
func clickhouseConfig(s string) (store.Config, error) {
	cfg, err := store.ParseAddr(s)
	if err != nil {
		return cfg, errUsage{err.Error()}
	}
	return cfg, nil
}

// openStore parses --clickhouse and connects; the caller closes the store.
func openStore(ctx context.Context, s string) (*store.Store, store.Config, error) {
	cfg, err := clickhouseConfig(s)
	if err != nil {
		return nil, cfg, err
	}
	db, err := store.Open(ctx, cfg)
	return db, cfg, migrateHint(err, s)
}

// migrateHint adds what to run to an error that says the database or its
// tables are missing or differ.
func migrateHint(err error, addr string) error {
	if errors.Is(err, store.ErrNoDatabase) || errors.Is(err, store.ErrSchemaMismatch) {
		if addr == "" {
			addr = store.DefaultAddr
		}
		return fmt.Errorf("%w; run `shiplens migrate --clickhouse %s` first", err, addr)
	}
	return err
}

// newRegistry returns a Prometheus registry with the Go runtime and process
// collectors and cs.
func newRegistry(cs ...prometheus.Collector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(cs...)
	return reg
}

// serveMetrics serves GET /metrics from reg and GET /healthz on addr in the
// background, until ctx ends; the returned function waits for the server to
// stop. An empty addr serves nothing.
func serveMetrics(ctx context.Context, addr string, reg prometheus.Gatherer, health func(context.Context) error, stderr io.Writer) (wait func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	srv := api.NewServer(addr, api.Handler(api.Config{Gatherer: reg, Health: health}), api.Timeouts{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := api.Serve(ctx, srv, ln, 5*time.Second); err != nil {
			fmt.Fprintf(stderr, "metrics server: %v\n", err)
		}
	}()
	return func() { <-done }, nil
}
