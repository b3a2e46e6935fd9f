package processor

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/shiplens/shiplens/schemas"
)

// TestMetricsExposition checks a few served series, written out by hand, and
// that every metric passes the Prometheus linter.
func TestMetricsExposition(t *testing.T) {
	m := newMetrics()
	m.consumed.Add(7)
	m.reject(schemas.ReasonUnknownStatus)
	m.partitionLag(3).Store(42)
	want := `# HELP shiplens_processor_consumed_total Messages read from the events topic.
# TYPE shiplens_processor_consumed_total counter
shiplens_processor_consumed_total 7
# HELP shiplens_processor_consumer_lag Messages of an owned partition after the last one read, as of that read.
# TYPE shiplens_processor_consumer_lag gauge
shiplens_processor_consumer_lag{partition="3"} 42
# HELP shiplens_processor_rejected_total Rejected records by reason.
# TYPE shiplens_processor_rejected_total counter
shiplens_processor_rejected_total{reason="unknown_status",source="processor"} 1
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want),
		"shiplens_processor_consumed_total", "shiplens_processor_consumer_lag", "shiplens_processor_rejected_total"); err != nil {
		t.Fatal(err)
	}
	if problems, err := testutil.CollectAndLint(m); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
	if n := testutil.CollectAndCount(m); n != len(counters)+8 {
		t.Fatalf("%d series, want %d counters + owners, in-memory, open alerts, timers, rejected, lag and two histograms", n, len(counters)+8)
	}
}
