package ingest

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/shiplens/shiplens/schemas"
)

// TestMetricsExposition checks the served text, label escaping included,
// against the Prometheus text format written out by hand.
func TestMetricsExposition(t *testing.T) {
	m := NewMetrics()
	m.accepted("http", 3)
	m.accepted("http", 2)
	m.rejected(`webhook/"odd"\name`+"\n", schemas.ReasonMalformed)
	m.refused("webhook/aftership", "bad_signature")
	want := `# HELP shiplens_ingest_accepted_total Events accepted and published, by source.
# TYPE shiplens_ingest_accepted_total counter
shiplens_ingest_accepted_total{source="http"} 5
# HELP shiplens_ingest_rejected_total Records rejected to the DLQ, by source and reason.
# TYPE shiplens_ingest_rejected_total counter
shiplens_ingest_rejected_total{reason="malformed_json",source="webhook/\"odd\"\\name\n"} 1
# HELP shiplens_ingest_refused_total Requests refused before parsing (authentication, size, rate) or polls that failed, by source.
# TYPE shiplens_ingest_refused_total counter
shiplens_ingest_refused_total{source="webhook/aftership",why="bad_signature"} 1
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.CollectAndLint(m); err != nil || len(n) > 0 {
		t.Fatalf("lint: %v %v", n, err)
	}
}
