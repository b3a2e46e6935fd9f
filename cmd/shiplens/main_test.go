package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/schemas"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// cli runs the command line in-process and returns exit code, stdout, stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestBadCommandLines(t *testing.T) {
	f := func(wantCode int, wantErr string, args ...string) {
		t.Helper()
		code, _, stderr := cli(t, args...)
		if code != wantCode {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, wantCode, stderr)
		}
		if wantErr != "" && (!strings.Contains(stderr, wantErr) || strings.Count(strings.TrimSpace(stderr), "\n") != 0) {
			t.Errorf("%v: stderr %q, want one line containing %q", args, stderr, wantErr)
		}
	}
	f(2, "unknown command", "frobnicate")
	f(2, "give one URL", "health")
	f(2, "invalid URL \"localhost:9464\"", "health", "localhost:9464")
	f(1, "unhealthy: ", "health", "http://"+closedAddr(t)+"/healthz")
	f(2, "flag provided but not defined", "generate", "--nope")
	f(2, "give one of --brokers, --out, --to-clickhouse", "generate")
	f(2, "--out cannot be combined with --to-clickhouse", "generate", "--out", "-", "--to-clickhouse", "127.0.0.1:9000")
	f(2, "--brokers cannot be combined with --to-clickhouse", "generate", "--brokers", "127.0.0.1:9092", "--to-clickhouse", "127.0.0.1:9000")
	f(2, "--brokers cannot be combined with --out or --to-clickhouse", "generate", "--brokers", "b:1", "--out", "-", "--to-clickhouse", "c:1")
	f(2, "invalid --partitions 0", "generate", "--to-clickhouse", "127.0.0.1:9000", "--partitions", "0")
	f(2, "invalid value \"3x\" for flag -span", "generate", "--out", "-", "--span", "3x")
	f(2, "want host:port or clickhouse://", "generate", "--to-clickhouse", "nohost")
	f(2, "invalid --start", "generate", "--out", "-", "--start", "2026-02-30")
	f(2, "in the future, where they would be rejected", "generate", "--to-clickhouse", "127.0.0.1:1", "--start", "2099-01-01")
	f(1, "cannot", "generate", "--to-clickhouse", "127.0.0.1:1")
	f(2, "invalid value \"soon\" for flag -retention: want a duration such as 30d", "process", "--retention", "soon")
	f(2, "for flag -retention: want a positive duration", "process", "--retention", "0")
	f(2, "for flag -lost-after: want a positive duration such as 90d, or 0", "process", "--lost-after", "-1d")
	f(2, "for flag -retention", "demo", "--retention", "1x")
	f(2, "want host:port", "generate", "--brokers", "localhost")
	f(2, "invalid value", "generate", "--shipments", "many", "--out", "-")
	f(2, "want host:port or clickhouse://", "migrate", "--clickhouse", "nohost")
	f(2, "want a report name", "report")
	f(2, "both --from and --to", "report", "carriers")
	f(2, "want YYYY-MM-DD", "report", "carriers", "--from", "2026-13-01", "--to", "2026-12-01")
	f(2, "before --from", "report", "carriers", "--from", "2026-10-02", "--to", "2026-10-01")
	f(2, "unknown --format", "report", "carriers", "--from", "2026-10-01", "--to", "2026-10-02", "--format", "xml")
	f(2, "flag provided but not defined: -vendor", "report", "carriers", "--from", "2026-10-01", "--to", "2026-10-02", "--vendor", "x")
	f(2, "unexpected argument", "migrate", "extra")
	f(1, "cannot", "migrate", "--clickhouse", "127.0.0.1:1")
	f(1, "cannot", "report", "carriers", "--clickhouse", "127.0.0.1:1", "--from", "2026-10-01", "--to", "2026-10-02")
	f(1, "cannot", "process", "--brokers", "127.0.0.1:1", "--clickhouse", "127.0.0.1:1")
	f(0, "", "--help")
	f(0, "", "generate", "-h")
}

func TestEnvironmentConfiguresFlags(t *testing.T) {
	t.Setenv("SHIPLENS_SHIPMENTS", "bad")
	code, _, stderr := cli(t, "generate", "--out", "-")
	if code != 2 || !strings.Contains(stderr, "SHIPLENS_SHIPMENTS") {
		t.Fatalf("bad env: exit %d stderr %q", code, stderr)
	}
	t.Setenv("SHIPLENS_SHIPMENTS", "30")
	_, fromEnv, _ := cli(t, "generate", "--out", "-")
	_, fromFlag, _ := cli(t, "generate", "--out", "-", "--shipments", "30")
	if fromEnv == "" || fromEnv != fromFlag {
		t.Fatal("SHIPLENS_SHIPMENTS=30 does not act like --shipments 30")
	}
	_, flagWins, _ := cli(t, "generate", "--out", "-", "--shipments", "5")
	if len(flagWins) >= len(fromEnv) {
		t.Fatal("the command-line flag did not win over the environment")
	}

	// A destination on the command line wins over another from the
	// environment, instead of the two conflicting.
	t.Setenv("SHIPLENS_BROKERS", "127.0.0.1:1")
	if _, fromLine, stderr := cli(t, "generate", "--out", "-"); fromLine != fromEnv {
		t.Fatalf("--out with SHIPLENS_BROKERS set: %s", stderr)
	}
	t.Setenv("SHIPLENS_OUT", "-")
	if code, _, stderr := cli(t, "generate"); code != 2 || !strings.Contains(stderr, "cannot be combined") {
		t.Fatalf("SHIPLENS_BROKERS and SHIPLENS_OUT: exit %d stderr %q", code, stderr)
	}

	t.Setenv("SHIPLENS_LOST_AFTER", "forever")
	if code, _, stderr := cli(t, "process"); code != 2 || !strings.Contains(stderr, `invalid value "forever" for SHIPLENS_LOST_AFTER`) {
		t.Fatalf("bad SHIPLENS_LOST_AFTER: exit %d stderr %q", code, stderr)
	}
}

func TestGenerateFileIsDeterministicAndValid(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl"), filepath.Join(dir, "c.jsonl")
	for _, args := range [][]string{{"--out", a, "--seed", "3"}, {"--out", b, "--seed", "3"}, {"--out", c, "--seed", "4"}} {
		if code, _, stderr := cli(t, append([]string{"generate", "--shipments", "200"}, args...)...); code != 0 {
			t.Fatalf("generate %v: exit %d: %s", args, code, stderr)
		}
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	cb, _ := os.ReadFile(c)
	if !bytes.Equal(ab, bb) || bytes.Equal(ab, cb) {
		t.Fatal("same seed should give the same file, another seed another file")
	}
	sc := bufio.NewScanner(bytes.NewReader(ab))
	n := 0
	for sc.Scan() {
		if _, err := schemas.Decode(sc.Bytes(), time.Now()); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		n++
	}
	if n < 200*5 {
		t.Fatalf("%d events for 200 shipments", n)
	}
}

// TestDemo runs the demo as a user would, with its private ClickHouse child
// process, and checks that it prints a scorecard and leaves nothing running.
func TestDemo(t *testing.T) {
	chtest.Server(t) // skips (or fails in CI) when ClickHouse is not installed
	dir := t.TempDir()
	code, stdout, stderr := cli(t, "demo", "--shipments", "1500", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"Carrier scorecard", "dhl", "CN-US", "on-time"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "processed") || !strings.Contains(stderr, "0 rejected") {
		t.Errorf("demo summary missing:\n%s", stderr)
	}
	if pids := processesUsing(filepath.Join(dir, "clickhouse")); len(pids) > 0 {
		t.Fatalf("demo left processes behind: %v", pids)
	}
}

// processesUsing returns the pids whose command line mentions path.
func processesUsing(path string) []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte(path)) {
			pids = append(pids, fmt.Sprintf("%s: %q", e.Name(), bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
		}
	}
	return pids
}

func TestNormalize(t *testing.T) {
	code, out, stderr := cli(t, "normalize", "--carrier", "aftership", "../../ingest/carriers/testdata/aftership/cn_us_customs_hold.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i, l := range lines {
		if _, err := schemas.Decode([]byte(l), time.Now()); err != nil {
			t.Fatalf("line %d is not a canonical event: %v", i+1, err)
		}
	}
	if len(lines) < 5 || !strings.Contains(out, `"customs_held"`) {
		t.Fatalf("%d events:\n%s", len(lines), out)
	}
	// Records that cannot become events are named on stderr, the rest printed.
	code, out, stderr = cli(t, "normalize", "--carrier", "aftership", "../../ingest/carriers/testdata/aftership/bad_records.json")
	if code != 0 || !strings.Contains(stderr, "checkpoint_time") || !strings.Contains(stderr, "bad_timestamp") || out == "" {
		t.Fatalf("bad records: exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	if code, _, _ = cli(t, "normalize", "--carrier", "aftership", "--strict", "../../ingest/carriers/testdata/aftership/bad_records.json"); code != 1 {
		t.Fatalf("--strict with skipped records: exit %d, want 1", code)
	}
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.json")
	os.WriteFile(junk, []byte("<html>not json</html>"), 0o644)
	code, _, stderr = cli(t, "normalize", "--carrier", "fedex", junk)
	if code != 1 || !strings.Contains(stderr, "fedex") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("unreadable payload: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr = cli(t, "normalize", "--carrier", "pigeon", junk); code != 2 || !strings.Contains(stderr, "aftership") {
		t.Fatalf("unknown carrier: exit %d, stderr %q", code, stderr)
	}
	if code, _, _ = cli(t, "normalize", "--carrier", "fedex", filepath.Join(dir, "missing.json")); code != 1 {
		t.Fatalf("missing file: exit %d", code)
	}
}

func TestProcessMetricsEndpoint(t *testing.T) {
	addr, db := chtest.DB(t)
	ch := "clickhouse://" + addr + "/" + db
	if code, _, errs := cli(t, "migrate", "--clickhouse", ch); code != 0 {
		t.Fatal(errs)
	}
	emb, err := broker.Start(broker.Options{Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	w := &kafka.Writer{Addr: kafka.TCP(emb.Addrs()...), Topic: schemas.EventsTopic, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	if err := w.WriteMessages(context.Background(), kafka.Message{Key: []byte("X"), Value: []byte(`{"event_id":"1","tracking_number":"X","carrier":"dhl","status":"beamed","occurred_at":"2026-10-01T00:00:00Z"}`)}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	listen := freeAddr(t)
	stop := background(t, "process", "--brokers", emb.Addrs()[0], "--clickhouse", ch, "--group", "m", "--metrics-listen", listen)
	var body string
	waitFor(t, "the rejection to show in /metrics", func() bool {
		res, err := http.Get("http://" + listen + "/metrics")
		if err != nil {
			return false
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		body = string(b)
		return err == nil && strings.Contains(body, `shiplens_processor_rejected_total{reason="unknown_status",source="processor"} 1`+"\n")
	})
	if code, errs := stop(); code != 0 {
		t.Fatalf("process: exit %d %s", code, errs)
	}
}

// closedAddr returns an address of 127.0.0.1 where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	return freeAddr(t) // freeAddr closes its listener
}
