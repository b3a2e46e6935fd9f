package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/api"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/processor"
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
	set := f.onCommandLine()
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

// onCommandLine returns the names of the flags given on the command line,
// not those taken from SHIPLENS_* variables; call it after parse.
func (f *flags) onCommandLine() map[string]bool {
	set := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	return set
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

// durationValue is a duration flag that also takes days: Go's syntax
// (90m, 36h) plus a day suffix ("30d", "1.5d", "2d12h"). check, if set,
// refuses values out of range.
type durationValue struct {
	d     *time.Duration
	check func(time.Duration) error
}

func (v durationValue) String() string {
	if v.d == nil {
		return "0s"
	}
	return formatDuration(*v.d)
}

func (v durationValue) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	if v.check != nil {
		if err := v.check(d); err != nil {
			return err
		}
	}
	*v.d = d
	return nil
}

// durationFlag defines a flag of durationValue with default def.
func (f *flags) durationFlag(name string, def time.Duration, check func(time.Duration) error, usage string) *time.Duration {
	d := def
	f.Var(durationValue{d: &d, check: check}, name, usage)
	return &d
}

const day = 24 * time.Hour

// parseDuration reads a Go duration or one with a leading day count: "30d",
// "1.5d", "-2d", "1d12h".
func parseDuration(s string) (time.Duration, error) {
	bad := errors.New("want a duration such as 30d, 1.5d, 36h or 90m")
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	// Go's units have no d, so the first d ends the day count.
	days, rest, ok := strings.Cut(s, "d")
	if !ok {
		return 0, bad
	}
	sign := time.Duration(1)
	if days != "" && (days[0] == '-' || days[0] == '+') {
		if days[0] == '-' {
			sign = -1
		}
		days = days[1:]
	}
	if days == "" || strings.Trim(days, "0123456789.") != "" {
		return 0, bad
	}
	n, err := strconv.ParseFloat(days, 64)
	if err != nil {
		return 0, bad
	}
	var tail time.Duration
	if rest != "" {
		if rest[0] == '-' || rest[0] == '+' {
			return 0, bad
		}
		if tail, err = time.ParseDuration(rest); err != nil {
			return 0, bad
		}
	}
	total := math.Round(n*float64(day)) + float64(tail)
	if total >= math.MaxInt64 {
		return 0, errors.New("duration too long")
	}
	return sign * time.Duration(total), nil
}

// formatDuration prints whole days as "30d", other durations as Go does.
func formatDuration(d time.Duration) string {
	if d != 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

// retentionFlags adds --retention and --lost-after, whose defaults are
// analytics.DefaultRetention, and returns the retention they give once f is
// parsed.
func retentionFlags(f *flags) func() analytics.Retention {
	closed := f.durationFlag("retention", analytics.DefaultRetention.Closed, func(d time.Duration) error {
		if d <= 0 {
			return errors.New("want a positive duration such as 30d")
		}
		return nil
	}, "a delivered or returned shipment leaves memory once the partition's watermark (latest event time) passes its last event plus this `DURATION` (36h, 30d, 1.5d)")
	lost := f.durationFlag("lost-after", analytics.DefaultRetention.Lost, func(d time.Duration) error {
		if d < 0 {
			return errors.New("want a positive duration such as 90d, or 0 to keep open shipments forever")
		}
		return nil
	}, "any other shipment leaves memory after no event for this `DURATION` of event time; 0 keeps it forever")
	return func() analytics.Retention {
		r := analytics.Retention{Closed: *closed, Lost: *lost}
		if r.Lost == 0 {
			r.Lost = -1 // processor.Config reads 0 as the default, negative as forever
		}
		return r
	}
}

// etaFlags adds the flags of the ETA model and returns its configuration
// once f is parsed.
func etaFlags(f *flags) func() processor.ETAConfig {
	positive := func(d time.Duration) error {
		if d <= 0 {
			return errors.New("want a positive duration such as 30d")
		}
		return nil
	}
	halfLife := f.durationFlag("eta-half-life", 30*24*time.Hour, positive, "event time after which a delivery weighs half as much in the ETA model (`DURATION`)")
	lateness := f.durationFlag("eta-lateness", 6*time.Hour, positive, "how late an event may come and still count in the model version of its own day; a version is built once every partition's watermark is this far past its end (`DURATION`)")
	off := f.Bool("no-eta", false, "make no delivery predictions")
	return func() processor.ETAConfig {
		return processor.ETAConfig{Disabled: *off, Model: eta.Config{HalfLife: *halfLife}, Lateness: *lateness}
	}
}

// alertFlags adds the flags of alerts and notifications and returns their
// configuration once f is parsed: the rules file is read and checked then,
// so that a bad one is refused at start with the line that is wrong.
func alertFlags(f *flags) func() (processor.AlertsConfig, error) {
	rules := f.String("rules", "", "alert rules `FILE` (YAML); the default is printed by `shiplens alerts rules`")
	off := f.Bool("no-alerts", false, "raise no alerts and send no customer notifications")
	return func() (processor.AlertsConfig, error) {
		if *off {
			return processor.AlertsConfig{Disabled: true}, nil
		}
		r, err := alerts.LoadRules(*rules)
		if err != nil {
			return processor.AlertsConfig{}, errUsage{err.Error()}
		}
		return processor.AlertsConfig{Rules: r}, nil
	}
}
