package ingest

import (
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/shiplens/shiplens/schemas"
)

// Metrics counts what ingestion accepted and refused, by source and reason.
// Its methods are safe for concurrent use.
type Metrics struct {
	mu       sync.Mutex
	accept   map[string]int64
	reject   map[[2]string]int64 // records sent to the DLQ: source, reason
	refusals map[[2]string]int64 // whole requests refused: source, why (auth, size, rate)
}

// NewMetrics returns empty counters.
func NewMetrics() *Metrics {
	return &Metrics{accept: map[string]int64{}, reject: map[[2]string]int64{}, refusals: map[[2]string]int64{}}
}

func (m *Metrics) accepted(source string, n int) {
	m.mu.Lock()
	m.accept[source] += int64(n)
	m.mu.Unlock()
}

func (m *Metrics) rejected(source string, r schemas.Reason) {
	m.mu.Lock()
	m.reject[[2]string{source, string(r)}]++
	m.mu.Unlock()
}

func (m *Metrics) refused(source, why string) {
	m.mu.Lock()
	m.refusals[[2]string{source, why}]++
	m.mu.Unlock()
}

// Accepted returns the events accepted from source.
func (m *Metrics) Accepted(source string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.accept[source]
}

// Rejected returns the records of source sent to the DLQ for reason.
func (m *Metrics) Rejected(source string, r schemas.Reason) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reject[[2]string{source, string(r)}]
}

// Refused returns the requests of source refused for why (bad_signature,
// replayed, oversize, rate_limited, ...).
func (m *Metrics) Refused(source, why string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.refusals[[2]string{source, why}]
}

// WritePrometheus writes the counters in the Prometheus text format.
func (m *Metrics) WritePrometheus(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# HELP shiplens_ingest_accepted_total Events accepted and published, by source.")
	fmt.Fprintln(w, "# TYPE shiplens_ingest_accepted_total counter")
	for _, s := range sortedKeys(m.accept) {
		fmt.Fprintf(w, "shiplens_ingest_accepted_total{source=%q} %d\n", s, m.accept[s])
	}
	write2 := func(name, help, label string, c map[[2]string]int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
		keys := make([][2]string, 0, len(c))
		for k := range c {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i][0]+"\x00"+keys[i][1] < keys[j][0]+"\x00"+keys[j][1] })
		for _, k := range keys {
			fmt.Fprintf(w, "%s{source=%q,%s=%q} %d\n", name, k[0], label, k[1], c[k])
		}
	}
	write2("shiplens_ingest_rejected_total", "Records rejected to the DLQ, by source and reason.", "reason", m.reject)
	write2("shiplens_ingest_refused_total", "Requests refused before parsing (authentication, size, rate), by source.", "why", m.refusals)
}

func sortedKeys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
