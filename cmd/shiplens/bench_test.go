package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/bench"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
)

// TestBenchQuick runs `shiplens bench --quick --format json` on the test
// ClickHouse and checks that every figure is there: each stage's rates
// positive with min <= median <= max over 3 runs, the state, query and ratio
// figures positive, the alternative's counts equal ours. It asserts no speed.
func TestBenchQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("the quick bench takes about a minute")
	}
	addr, _ := chtest.DB(t)
	// Longer than cli's three minutes: under the race detector on a loaded
	// machine the run can take that long.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var outb, errb bytes.Buffer
	code := run(ctx, []string{"bench", "--quick", "--format", "json", "--clickhouse", addr, "--shipments", "800", "--sizes", "2000", "--freshness-for", "1s"}, &outb, &errb)
	out, errs := outb.String(), errb.String()
	if code != 0 {
		t.Fatalf("bench: exit %d\n%s", code, errs)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("bench --format json: %v\n%s", err, out)
	}
	// The keys of DESIGN section 7, read without the Go types.
	stages, _ := raw["stages"].(map[string]any)
	for _, name := range bench.StageOrder {
		s, ok := stages[name].(map[string]any)
		if !ok {
			t.Errorf("stages.%s is missing", name)
			continue
		}
		eps, _ := s["events_per_s"].(map[string]any)
		med, _ := eps["median"].(float64)
		lo, _ := eps["min"].(float64)
		hi, _ := eps["max"].(float64)
		if med <= 0 || lo <= 0 || lo > med || med > hi {
			t.Errorf("stages.%s.events_per_s = %v: want 0 < min <= median <= max", name, eps)
		}
		runs, _ := eps["runs"].([]any)
		if want := 3; name != bench.StageFreshness && len(runs) != want {
			t.Errorf("stages.%s has %d runs, want %d", name, len(runs), want)
		}
	}
	ratios, _ := raw["ratios"].(map[string]any)
	for _, k := range []string{"end_to_end_over_bare_consumer", "process_over_decode", "alternative_time_to_answer_over_ours"} {
		if v, _ := ratios[k].(float64); v <= 0 {
			t.Errorf("ratios.%s = %v, want > 0", k, ratios[k])
		}
	}
	if m, _ := raw["machine"].(map[string]any); m["cores"].(float64) < 1 || m["cpu_model"] == "" || !strings.Contains(m["clickhouse_version"].(string), ".") {
		t.Errorf("machine = %v", m)
	}

	var r bench.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Workload.Shipments != 800 || r.Workload.Events < 800 {
		t.Errorf("workload = %+v", r.Workload)
	}
	if l := r.Stages[bench.StageFreshness].Latency; l == nil || l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max {
		t.Errorf("freshness latency = %+v: want 0 < p50 <= p99 <= max", l)
	}
	if r.State.BytesPerShipment <= 0 || r.State.Held <= 0 || r.State.Held > 800 || r.State.Open > r.State.Held || r.State.RestoreShipments <= 0 || r.State.RestoreSeconds.Median <= 0 {
		t.Errorf("state = %+v: want some of the 800 shipments held and a restore", r.State)
	}
	q := r.Queries
	if len(q.Scorecard30d) != 1 || q.Scorecard30d[0].Shipments != 2000 || q.Scorecard30d[0].Rows == 0 || len(q.ScorecardFull) != 1 || q.ScorecardFull[0].Rows == 0 {
		t.Errorf("scorecards = %+v %+v", q.Scorecard30d, q.ScorecardFull)
	}
	if q.ETALookups != 200 || q.ETALookupP99 <= 0 || q.SlowestPanel.Panel == "" || q.SlowestPanel.Seconds <= 0 {
		t.Errorf("queries = %+v", q)
	}
	if !q.AlternativeCountsEqual || q.AlternativeRows == 0 {
		t.Errorf("the alternative's counts differ from ours (%d rows)", q.AlternativeRows)
	}
	if len(r.Targets) < 8 {
		t.Errorf("%d targets reported", len(r.Targets))
	}
}
