package notify

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what the notifier delivered, retried and dead-lettered, by
// channel (webhook, email) and destination. It is a prometheus.Collector;
// its methods are safe for concurrent use.
type Metrics struct {
	mu         sync.Mutex
	consumed   map[string]int64    // topic
	delivered  map[[2]string]int64 // channel, destination
	retried    map[[2]string]int64
	duplicates map[[2]string]int64
	rateWait   map[[2]string]time.Duration
	dead       map[[3]string]int64 // channel, destination, reason
	skipped    map[[3]string]int64 // channel, destination, why

	inFlight     atomic.Int64
	commitErrors atomic.Int64
}

func newMetrics() *Metrics {
	return &Metrics{consumed: map[string]int64{}, delivered: map[[2]string]int64{}, retried: map[[2]string]int64{},
		duplicates: map[[2]string]int64{}, rateWait: map[[2]string]time.Duration{}, dead: map[[3]string]int64{}, skipped: map[[3]string]int64{}}
}

func (m *Metrics) add2(c map[[2]string]int64, d *dest) {
	m.mu.Lock()
	c[[2]string{string(d.channel), d.name}]++
	m.mu.Unlock()
}

func (m *Metrics) add3(c map[[3]string]int64, channel, name, label string) {
	m.mu.Lock()
	c[[3]string{channel, name, label}]++
	m.mu.Unlock()
}

func (m *Metrics) waited(d *dest, w time.Duration) {
	m.mu.Lock()
	m.rateWait[[2]string{string(d.channel), d.name}] += w
	m.mu.Unlock()
}

func (m *Metrics) read(topic string) {
	m.mu.Lock()
	m.consumed[topic]++
	m.mu.Unlock()
}

// Delivered returns the records delivered to a destination, e.g.
// Delivered("webhook", "acme").
func (m *Metrics) Delivered(channel, destination string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.delivered[[2]string{channel, destination}]
}

// Retried returns the failed attempts that were retried at a destination.
func (m *Metrics) Retried(channel, destination string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.retried[[2]string{channel, destination}]
}

// DeadLettered returns the records of a destination put on the dead-letter
// topic for reason. Records that no destination could take because they do
// not parse count under channel and destination "none".
func (m *Metrics) DeadLettered(channel, destination, reason string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dead[[3]string{channel, destination, reason}]
}

// Duplicates returns the records a destination had already finished with,
// skipped.
func (m *Metrics) Duplicates(channel, destination string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.duplicates[[2]string{channel, destination}]
}

// Skipped returns the records a destination would take but could not
// address (why "no_address": no known customer address).
func (m *Metrics) Skipped(channel, destination, why string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.skipped[[3]string{channel, destination, why}]
}

// Totals sums the counters over every destination.
type Totals struct {
	Consumed, Delivered, Retried, DeadLettered, Duplicates, Skipped int64
}

// Totals returns the counters summed over every destination.
func (m *Metrics) Totals() Totals {
	m.mu.Lock()
	defer m.mu.Unlock()
	var t Totals
	for _, v := range m.consumed {
		t.Consumed += v
	}
	for _, v := range m.delivered {
		t.Delivered += v
	}
	for _, v := range m.retried {
		t.Retried += v
	}
	for _, v := range m.dead {
		t.DeadLettered += v
	}
	for _, v := range m.duplicates {
		t.Duplicates += v
	}
	for _, v := range m.skipped {
		t.Skipped += v
	}
	return t
}

var (
	descConsumed     = prometheus.NewDesc("shiplens_notify_consumed_total", "Records read from the alerts and notifications topics, by topic.", []string{"topic"}, nil)
	descDelivered    = prometheus.NewDesc("shiplens_notify_delivered_total", "Records delivered, by channel and destination.", []string{"channel", "destination"}, nil)
	descRetried      = prometheus.NewDesc("shiplens_notify_retried_total", "Failed delivery attempts that were retried, by channel and destination.", []string{"channel", "destination"}, nil)
	descDead         = prometheus.NewDesc("shiplens_notify_dead_lettered_total", "Records put on the dead-letter topic, by channel, destination and reason.", []string{"channel", "destination", "reason"}, nil)
	descDuplicates   = prometheus.NewDesc("shiplens_notify_duplicates_total", "Duplicate records skipped because the destination already had them, by channel and destination.", []string{"channel", "destination"}, nil)
	descSkipped      = prometheus.NewDesc("shiplens_notify_skipped_total", "Records a destination could not address (no known customer address), by channel, destination and why.", []string{"channel", "destination", "why"}, nil)
	descRateWait     = prometheus.NewDesc("shiplens_notify_rate_limit_wait_seconds_total", "Time deliveries waited for a destination's rate limit.", []string{"channel", "destination"}, nil)
	descInFlight     = prometheus.NewDesc("shiplens_notify_in_flight", "Records read and not yet finished at every destination (uncommitted).", nil, nil)
	descCommitErrors = prometheus.NewDesc("shiplens_notify_commit_errors_total", "Offset commits that failed; their records will be read again and deduplicated.", nil, nil)
)

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConsumed, descDelivered, descRetried, descDead, descDuplicates, descSkipped, descRateWait, descInFlight, descCommitErrors} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.consumed {
		ch <- prometheus.MustNewConstMetric(descConsumed, prometheus.CounterValue, float64(v), k)
	}
	for _, c := range []struct {
		desc *prometheus.Desc
		m    map[[2]string]int64
	}{{descDelivered, m.delivered}, {descRetried, m.retried}, {descDuplicates, m.duplicates}} {
		for k, v := range c.m {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(v), k[0], k[1])
		}
	}
	for _, c := range []struct {
		desc *prometheus.Desc
		m    map[[3]string]int64
	}{{descDead, m.dead}, {descSkipped, m.skipped}} {
		for k, v := range c.m {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(v), k[0], k[1], k[2])
		}
	}
	for k, v := range m.rateWait {
		ch <- prometheus.MustNewConstMetric(descRateWait, prometheus.CounterValue, v.Seconds(), k[0], k[1])
	}
	ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(m.inFlight.Load()))
	ch <- prometheus.MustNewConstMetric(descCommitErrors, prometheus.CounterValue, float64(m.commitErrors.Load()))
}
