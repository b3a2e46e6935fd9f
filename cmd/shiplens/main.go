// Command shiplens is the single binary of shiplens: it generates workloads,
// applies ClickHouse migrations, runs the stream processor, prints reports
// and runs the self-contained demo. It only parses flags and environment and
// wires packages together; the work happens in those packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"syscall"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands []command

func init() {
	commands = []command{
		{"demo", "run the whole pipeline on an embedded Kafka and a private ClickHouse, print a carrier scorecard", runDemo},
		{"generate", "generate a deterministic cross-border tracking workload to Kafka or JSON lines", runGenerate},
		{"migrate", "create the ClickHouse database and apply schema migrations", runMigrate},
		{"process", "consume shiplens.events and write shipment facts to ClickHouse", runProcess},
		{"report", "print reports from ClickHouse: `report carriers`", runReport},
		{"eta", "predicted delivery dates: look up, `eta quote`, `eta export`, `eta backtest`", runETA},
		{"normalize", "turn a raw carrier or aggregator payload into canonical events (JSON lines)", runNormalize},
		{"serve", "HTTP API: POST /v1/events, POST /v1/webhooks/{source}, GET /v1/carriers, /metrics, /healthz", runServe},
		{"poll", "re-read open tracking numbers from a carrier API on a schedule", runPoll},
		{"alerts", "alerts to customer service: `alerts list`, `alerts rules`", runAlerts},
		{"notify", "deliver shiplens.alerts and shiplens.notifications to signed webhooks and e-mail", runNotify},
		{"bench", "the benchmark suite: every stage in one run beside the references (bare consumers, raw events in SQL)", runBench},
		{"health", "exit 0 when GET URL answers 200: the container's health check", runHealth},
		{"dlq", "dead-letter queue: `dlq export` to JSON lines, `dlq replay` fixed records", runDLQ},
	}
}

// errUsage marks a bad command line; main exits 2 for it.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usage(w io.Writer) {
	fmt.Fprintln(w, "shiplens: stream analytics for cross-border shipment tracking")
	fmt.Fprintln(w, "\nUsage: shiplens <command> [flags]   (shiplens <command> -h for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set with an environment variable SHIPLENS_<FLAG>, e.g. SHIPLENS_CLICKHOUSE.")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// Progress bars, loggers and summaries write from several goroutines.
	stdout, stderr = &syncWriter{w: stdout}, &syncWriter{w: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if path := os.Getenv("SHIPLENS_CPUPROFILE"); path != "" {
		stopProfile, err := startCPUProfile(path)
		if err != nil {
			fmt.Fprintf(stderr, "shiplens: %v\n", err)
			return 1
		}
		defer stopProfile()
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		var ue errUsage
		switch {
		case err == nil:
			return 0
		case errors.Is(err, errHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "shiplens %s: %v (see shiplens %s -h)\n", c.name, err, c.name)
			return 2
		default:
			fmt.Fprintf(stderr, "shiplens %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "shiplens: unknown command %q (see shiplens -h)\n", args[0])
	return 2
}

// syncWriter serialises writes to w, so that goroutines that share it (a
// progress bar, the processor's logger) never interleave or race.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// Unwrap returns the writer underneath, so that a progress bar can tell a
// terminal.
func (s *syncWriter) Unwrap() io.Writer { return s.w }

// startCPUProfile writes a CPU profile of the whole command to path
// (SHIPLENS_CPUPROFILE=path, for go tool pprof); the returned function ends it.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cannot write the CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot start the CPU profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
