package ingest

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shiplens/shiplens/schemas"
)

// Metrics counts what ingestion accepted and refused, by source and reason.
// It is a prometheus.Collector; its methods are safe for concurrent use.
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

var (
	descAccepted = prometheus.NewDesc("shiplens_ingest_accepted_total", "Events accepted and published, by source.", []string{"source"}, nil)
	descRejected = prometheus.NewDesc("shiplens_ingest_rejected_total", "Records rejected to the DLQ, by source and reason.", []string{"source", "reason"}, nil)
	descRefused  = prometheus.NewDesc("shiplens_ingest_refused_total", "Requests refused before parsing (authentication, size, rate) or polls that failed, by source.", []string{"source", "why"}, nil)
)

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- descAccepted
	ch <- descRejected
	ch <- descRefused
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s, n := range m.accept {
		ch <- prometheus.MustNewConstMetric(descAccepted, prometheus.CounterValue, float64(n), s)
	}
	for k, n := range m.reject {
		ch <- prometheus.MustNewConstMetric(descRejected, prometheus.CounterValue, float64(n), k[0], k[1])
	}
	for k, n := range m.refusals {
		ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(n), k[0], k[1])
	}
}

var _ prometheus.Collector = (*Metrics)(nil)
