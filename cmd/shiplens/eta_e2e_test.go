package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/analytics/eta/export"
	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/schemas"
)

// journey is what the test knows of a shipment from the raw events alone.
type journey struct {
	carrier, lane string
	delivered     time.Time // first delivered; zero if none
	last          schemas.Event
}

func journeys(t *testing.T, path string) map[string]*journey {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]*journey{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e schemas.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		j := out[e.TrackingNumber]
		if j == nil {
			j = &journey{carrier: e.Carrier}
			out[e.TrackingNumber] = j
		}
		if e.OriginCountry != "" && e.DestinationCountry != "" && j.lane == "" {
			j.lane = e.OriginCountry + "-" + e.DestinationCountry
		}
		if e.Status == schemas.Delivered && (j.delivered.IsZero() || e.OccurredAt.Before(j.delivered)) {
			j.delivered = e.OccurredAt
		}
		// The latest scan; in the same second, the status later in the
		// taxonomy (DESIGN's tie rule).
		if j.last.EventID == "" || e.OccurredAt.After(j.last.OccurredAt) || e.OccurredAt.Equal(j.last.OccurredAt) && e.Status > j.last.Status {
			j.last = e
		}
	}
	return out
}

// TestETACommands runs a generated workload through kfake and `shiplens
// process` into a real ClickHouse, then asks for predictions the ways a
// planner does: `shiplens eta`, GET /v1/eta/{tn}, the quote by CLI and
// HTTP, and the export in both formats, read back.
func TestETACommands(t *testing.T) {
	addr, db := chtest.DB(t)
	ch := "clickhouse://" + addr + "/" + db
	if code, _, errs := cli(t, "migrate", "--clickhouse", ch); code != 0 {
		t.Fatal(errs)
	}
	dir := t.TempDir()
	events := filepath.Join(dir, "events.jsonl")
	if code, _, errs := cli(t, "generate", "--shipments", "1500", "--seed", "5", "--out", events); code != 0 {
		t.Fatal(errs)
	}
	truth := journeys(t, events)
	emb, err := broker.Start(broker.Options{Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	brokers := emb.Addrs()[0]
	if code, _, errs := cli(t, "generate", "--shipments", "1500", "--seed", "5", "--brokers", brokers, "--partitions", "3"); code != 0 {
		t.Fatal(errs)
	}
	stop := background(t, "process", "--brokers", brokers, "--clickhouse", ch, "--group", "eta")
	if err := kafkaadmin.WaitCaughtUp(t.Context(), []string{brokers}, "eta", schemas.EventsTopic, kafkaadmin.WaitOptions{Poll: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if code, errs := stop(); code != 0 {
		t.Fatalf("process: exit %d: %s", code, errs)
	}

	var delivered, open []string
	for tn, j := range truth {
		if j.lane == "" {
			continue
		}
		if j.delivered.IsZero() {
			open = append(open, tn)
		} else {
			delivered = append(delivered, tn)
		}
	}
	sort.Strings(delivered)
	sort.Strings(open)
	if len(delivered) < 100 || len(open) < 10 {
		t.Fatalf("workload has %d delivered and %d open shipments", len(delivered), len(open))
	}

	// shiplens eta: JSON lines, in Chinese; an unknown number is reported
	// on stderr without failing the others.
	code, out, errs := cli(t, "eta", "--clickhouse", ch, "--lang", "zh", delivered[0], open[0], "NOSUCH1")
	if code != 0 || !strings.Contains(errs, `no shipment "NOSUCH1"`) {
		t.Fatalf("eta: exit %d, stderr %q", code, errs)
	}
	var answers []eta.Answer
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var a eta.Answer
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("eta printed %q: %v", line, err)
		}
		answers = append(answers, a)
	}
	if len(answers) != 2 {
		t.Fatalf("eta printed %d lines, want 2:\n%s", len(answers), out)
	}
	d, o := answers[0], answers[1]
	if j := truth[delivered[0]]; d.TrackingNumber != delivered[0] || d.Status != "delivered" || d.StatusText != "已签收" ||
		!d.PredictedDelivery.Equal(j.delivered) || d.Basis != "delivered" || d.Carrier != j.carrier || d.Lane != j.lane {
		t.Errorf("delivered shipment: %+v, want delivered at %s by %s on %s", d, j.delivered, j.carrier, j.lane)
	}
	if j := truth[open[0]]; o.Status != j.last.Status.String() || o.AsOf.Before(j.last.OccurredAt) ||
		o.P10.After(o.PredictedDelivery) || o.PredictedDelivery.After(o.P90) || o.P10.Before(j.last.OccurredAt) {
		t.Errorf("open shipment: %+v, want status %s, as of at least its last scan %s, p10 <= p50 <= p90", o, j.last.Status, j.last.OccurredAt)
	}
	if code, _, errs := cli(t, "eta", "--clickhouse", ch, "NOSUCH1"); code != 1 || !strings.Contains(errs, "none of the 1 tracking numbers is known") {
		t.Errorf("eta of an unknown number only: exit %d, %q", code, errs)
	}
	if code, _, errs := cli(t, "eta", "--clickhouse", ch, "--lang", "xx", open[0]); code != 2 || !strings.Contains(errs, "unknown lang") {
		t.Errorf("eta --lang xx: exit %d, %q", code, errs)
	}

	// GET /v1/eta/{tn}: the same answer; 404 and 400 for the bad ones.
	listen := freeAddr(t)
	stopServe := background(t, "serve", "--brokers", brokers, "--listen", listen, "--clickhouse", ch)
	defer stopServe()
	base := "http://" + listen
	waitFor(t, "serve to answer", func() bool {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
		}
		return err == nil && res.StatusCode == http.StatusOK
	})
	get := func(path string, v any) int {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if v != nil && res.StatusCode == http.StatusOK {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatalf("%s: %v in %s", path, err, b)
			}
		}
		return res.StatusCode
	}
	var h eta.Answer
	if code := get("/v1/eta/"+delivered[0]+"?lang=zh", &h); code != 200 || asJSON(h) != asJSON(d) {
		t.Errorf("GET /v1/eta/%s: %d %+v, want the CLI's %+v", delivered[0], code, h, d)
	}
	var hd eta.Answer
	if code := get("/v1/eta/"+delivered[0]+"?lang=de", &hd); code != 200 || hd.StatusText != "Zugestellt" {
		t.Errorf("GET ?lang=de: %d, status_text %q", code, hd.StatusText)
	}
	if code := get("/v1/eta/NOSUCH1", nil); code != 404 {
		t.Errorf("unknown number: %d, want 404", code)
	}
	if code := get("/v1/eta/"+open[0]+"?lang=xx", nil); code != 400 {
		t.Errorf("unknown language: %d, want 400", code)
	}
	// Latency of single lookups, logged: speed is for benchmarks, not tests.
	var took []time.Duration
	for i := range 200 {
		began := time.Now()
		get("/v1/eta/"+open[i%len(open)], nil)
		took = append(took, time.Since(began))
	}
	slices.Sort(took)
	t.Logf("GET /v1/eta/{tn}: p50 %s, p99 %s over %d lookups", took[len(took)/2], took[len(took)*99/100], len(took))

	// The quote ranks the carriers seen on CN-US, the most likely to arrive
	// by the deadline first, and the HTTP API gives the same ranking.
	seen := map[string]bool{}
	for _, j := range truth {
		if j.lane == "CN-US" && !j.delivered.IsZero() {
			seen[j.carrier] = true
		}
	}
	code, out, errs = cli(t, "eta", "quote", "--clickhouse", ch, "--lane", "CN-US", "--shipped-at", "2026-10-01T08:00:00Z", "--deadline", "2026-10-15")
	if code != 0 {
		t.Fatalf("eta quote: exit %d: %s", code, errs)
	}
	var q eta.QuoteResponse
	if err := json.Unmarshal([]byte(out), &q); err != nil {
		t.Fatal(err)
	}
	if len(q.Options) == 0 {
		t.Fatal("quote has no options")
	}
	for i, op := range q.Options {
		if !seen[op.Carrier] {
			t.Errorf("quote offers %s, which never delivered on CN-US", op.Carrier)
		}
		if op.OnTime == nil || *op.OnTime < 0 || *op.OnTime > 1 {
			t.Errorf("option %d: P(on time) %v", i, op.OnTime)
		} else if i > 0 && q.Options[i-1].OnTime != nil && *q.Options[i-1].OnTime < *op.OnTime {
			t.Errorf("options not ranked by P(on time): %v before %v", *q.Options[i-1].OnTime, *op.OnTime)
		}
		if op.P10.After(op.PredictedDelivery) || op.PredictedDelivery.After(op.P90) || !op.P10.After(q.ShippedAt) {
			t.Errorf("option %d: p10 %s p50 %s p90 %s shipped %s", i, op.P10, op.PredictedDelivery, op.P90, q.ShippedAt)
		}
	}
	var hq eta.QuoteResponse
	if code := get("/v1/eta/quote?lane=CN-US&shipped_at=2026-10-01T08:00:00Z&deadline=2026-10-15", &hq); code != 200 || asJSON(hq) != asJSON(q) {
		t.Errorf("GET /v1/eta/quote: %d\n%+v\nwant the CLI's\n%+v", code, hq, q)
	}
	if code := get("/v1/eta/quote?lane=CNUS", nil); code != 400 {
		t.Errorf("quote with a bad lane: %d, want 400", code)
	}
	code, out, _ = cli(t, "eta", "quote", "--clickhouse", ch, "--lane", "CN-US", "--carrier", q.Options[0].Carrier, "--format", "table")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) < 3 || !strings.Contains(lines[2], q.Options[0].Carrier) {
		t.Errorf("quote table for one carrier: exit %d\n%s", code, out)
	}

	// The export holds the current prediction of every shipment not
	// delivered, in both formats.
	wantOpen := map[string]bool{}
	for tn, j := range truth {
		if j.delivered.IsZero() {
			wantOpen[tn] = true
		}
	}
	for _, format := range []string{"arrow", "parquet"} {
		path := filepath.Join(dir, "eta."+format)
		if code, _, errs := cli(t, "eta", "export", "--clickhouse", ch, "--format", format, "--out", path); code != 0 {
			t.Fatalf("export %s: %s", format, errs)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		got := map[string]eta.Record{}
		if err := export.Read(f, st.Size(), func(r eta.Record) error { got[r.TrackingNumber] = r; return nil }); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		f.Close()
		if len(got) != len(wantOpen) {
			t.Errorf("%s export has %d shipments, want the %d not delivered", format, len(got), len(wantOpen))
		}
		for tn := range wantOpen {
			r, ok := got[tn]
			if !ok {
				t.Errorf("%s export lacks %s", format, tn)
				continue
			}
			if r.Carrier != truth[tn].carrier || r.AsOf != uint32(truth[tn].last.OccurredAt.Unix()) {
				t.Errorf("%s export of %s: %+v, want carrier %s as of %s", format, tn, r, truth[tn].carrier, truth[tn].last.OccurredAt)
			}
			break
		}
		if r, ok := got[open[0]]; ok && r.P50 != uint32(o.PredictedDelivery.Unix()) && o.AsOf.Unix() == int64(r.AsOf) {
			t.Errorf("%s export p50 of %s is %d, the lookup said %s", format, open[0], r.P50, o.PredictedDelivery)
		}
	}
	if code, _, errs := cli(t, "eta", "export", "--clickhouse", ch, "--format", "csv", "--out", filepath.Join(dir, "x")); code != 2 || !strings.Contains(errs, "arrow, parquet") {
		t.Errorf("export --format csv: exit %d %q", code, errs)
	}
}

// TestBacktestCommand: the backtest of a generated file reports every key
// of the contract, with the oracle; a file changed since generate gets no
// oracle.
func TestBacktestCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.jsonl")
	if code, _, errs := cli(t, "generate", "--shipments", "600", "--seed", "3", "--out", path); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := cli(t, "eta", "backtest", "--input", path, "--format", "json", "--oracle-draws", "16")
	if code != 0 {
		t.Fatalf("backtest: exit %d: %s", code, errs)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"shipments", "predictions", "seconds", "model", "promised", "oracle", "by_milestone", "by_remaining"} {
		if _, ok := r[k]; !ok {
			t.Errorf("backtest JSON lacks %q", k)
		}
	}
	for _, part := range []string{"model", "oracle"} {
		m, _ := r[part].(map[string]any)
		for _, k := range []string{"mae_hours", "median_abs_error_hours", "p90_abs_error_hours", "bias_hours", "within_24h", "same_day", "p10_p90_coverage", "mean_interval_hours"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%s lacks %q", part, k)
			}
		}
		for _, k := range []string{"within_24h", "same_day", "p10_p90_coverage"} {
			if f, _ := m[k].(float64); f < 0 || f > 1 {
				t.Errorf("%s.%s = %v, want a fraction", part, k, m[k])
			}
		}
	}
	if n, _ := r["shipments"].(float64); n < 400 {
		t.Errorf("%v shipments scored of 600", r["shipments"])
	}

	// Changed by hand: the oracle cannot vouch for it.
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = cli(t, "eta", "backtest", "--input", path)
	if code != 0 || !strings.Contains(errs, "has changed since shiplens generate wrote it") || strings.Contains(out, "oracle") {
		t.Errorf("backtest of a changed file: exit %d, stderr %q\n%s", code, errs, out)
	}
	if code, _, errs := cli(t, "eta", "backtest"); code != 2 || !strings.Contains(errs, "--input is required") {
		t.Errorf("backtest without input: exit %d %q", code, errs)
	}
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
