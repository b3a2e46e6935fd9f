package processor

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shiplens/shiplens/schemas"
)

// Metrics counts what a processor did. It is a prometheus.Collector: register
// it with a registry to serve it on /metrics (the names are listed in the
// README). All methods are safe for concurrent use.
type Metrics struct {
	consumed, applied, unchanged, shipments, restored atomic.Int64
	written, deadLettered, commits, commitErrors      atomic.Int64
	retries, owners                                   atomic.Int64
	fetchErrors, fetchStalls                          atomic.Int64
	flushNanos, flushes, inserts                      atomic.Int64
	evicted, lookedUp, found, dayRows, inMemory       atomic.Int64
	predictions, outcomes, alignTimeouts              atomic.Int64
	alignWaits, alignNanos                            atomic.Int64
	alertsPublished, notesPublished, republishSkipped atomic.Int64
	alertsOpened, tailScans, openAlerts, timers       atomic.Int64
	statsDropped                                      atomic.Int64

	mu       sync.Mutex
	rejected map[schemas.Reason]int64
	lag      map[int]*atomic.Int64 // per owned partition: messages after the last one read

	flushSeconds  prometheus.Histogram
	insertSeconds prometheus.Histogram
}

// latencyBuckets span 1 ms to about 30 s, for flushes and inserts.
var latencyBuckets = prometheus.ExponentialBuckets(0.001, 2, 16)

func newMetrics() *Metrics {
	return &Metrics{
		rejected: map[schemas.Reason]int64{},
		lag:      map[int]*atomic.Int64{},
		flushSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "shiplens_processor_flush_seconds",
			Help:    "Time of one partition flush: write its changed shipments and dead letters, then commit.",
			Buckets: latencyBuckets,
		}),
		insertSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "shiplens_processor_insert_seconds",
			Help:    "Time of one storage insert of merged facts, retries included.",
			Buckets: latencyBuckets,
		}),
	}
}

func (m *Metrics) reject(r schemas.Reason) {
	m.mu.Lock()
	m.rejected[r]++
	m.mu.Unlock()
}

func (m *Metrics) observeFlush(d time.Duration) {
	m.flushes.Add(1)
	m.flushNanos.Add(int64(d))
	m.flushSeconds.Observe(d.Seconds())
}

func (m *Metrics) observeInsert(d time.Duration) { m.insertSeconds.Observe(d.Seconds()) }

// partitionLag returns the lag gauge of an owned partition, creating it.
func (m *Metrics) partitionLag(partition int) *atomic.Int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.lag[partition]
	if g == nil {
		g = new(atomic.Int64)
		m.lag[partition] = g
	}
	return g
}

// releasePartition drops the lag gauge of a partition no longer owned.
func (m *Metrics) releasePartition(partition int, g *atomic.Int64) {
	m.mu.Lock()
	if m.lag[partition] == g {
		delete(m.lag, partition)
	}
	m.mu.Unlock()
}

// Snapshot is a point-in-time copy of the counters.
type Snapshot struct {
	Consumed     int64                    `json:"consumed"`      // messages read
	Applied      int64                    `json:"applied"`       // events that changed a shipment
	Unchanged    int64                    `json:"unchanged"`     // valid events that changed nothing: duplicates, replays
	Rejected     map[schemas.Reason]int64 `json:"rejected"`      // by reason
	Shipments    int64                    `json:"shipments"`     // shipments first seen by this process
	Restored     int64                    `json:"restored"`      // shipments restored from storage
	Written      int64                    `json:"written"`       // fact rows written
	DeadLettered int64                    `json:"dead_lettered"` // records sent to the DLQ
	Commits      int64                    `json:"commits"`
	CommitErrors int64                    `json:"commit_errors"`
	Retries      int64                    `json:"retries"`
	FetchErrors  int64                    `json:"fetch_errors"` // failed fetches, which the reader retries
	FetchStalls  int64                    `json:"fetch_stalls"` // times a partition with lag got no message for StallTimeout
	Owners       int64                    `json:"owners"`       // partitions owned right now
	Flushes      int64                    `json:"flushes"`
	Inserts      int64                    `json:"inserts"` // storage writes, each merging several flushes
	FlushTime    time.Duration            `json:"flush_time_ns"`
	Lag          map[int]int64            `json:"lag"`         // per owned partition, as of its last fetched message
	Evicted      int64                    `json:"evicted"`     // closed shipments dropped from memory after their retention
	LookedUp     int64                    `json:"looked_up"`   // shipments not in memory looked up in storage
	Found        int64                    `json:"found"`       // of those, the ones storage had (evicted earlier)
	DayRows      int64                    `json:"day_rows"`    // aggregate rows written (changes and positions)
	InMemory     int64                    `json:"in_memory"`   // shipments held by this process's owners right now
	Predictions  int64                    `json:"predictions"` // ETA prediction rows written (history and latest)
	Outcomes     int64                    `json:"outcomes"`    // delivery outcomes written
	// AlignTimeouts counts the times an owner replaying a backlog gave up
	// waiting for the ETA model to catch up (ETAConfig.AlignWait).
	AlignTimeouts int64 `json:"align_timeouts"`
	// AlignWaits counts the times an owner replaying a backlog stopped to
	// let the ETA model catch up, and AlignTime the time they stopped for
	// (the flush before included).
	AlignWaits int64         `json:"align_waits"`
	AlignTime  time.Duration `json:"align_time_ns"`
	// Alerts and notifications: records published, alerts opened, records
	// found already published by a tail scan and not published again, tail
	// scans, and the open alerts and scheduled timers held now.
	AlertsPublished        int64 `json:"alerts_published"`
	NotificationsPublished int64 `json:"notifications_published"`
	AlertsOpened           int64 `json:"alerts_opened"`
	RepublishSkipped       int64 `json:"republish_skipped"`
	TailScans              int64 `json:"tail_scans"`
	OpenAlerts             int64 `json:"open_alerts"`
	Timers                 int64 `json:"timers"`
	// StatsDropped counts flush figures not written to pipeline_stats.
	StatsDropped int64 `json:"stats_dropped"`
}

// Snapshot returns the current counters.
func (m *Metrics) Snapshot() Snapshot {
	s := Snapshot{
		Consumed: m.consumed.Load(), Applied: m.applied.Load(), Unchanged: m.unchanged.Load(),
		Shipments: m.shipments.Load(), Restored: m.restored.Load(), Written: m.written.Load(),
		DeadLettered: m.deadLettered.Load(), Commits: m.commits.Load(), CommitErrors: m.commitErrors.Load(),
		Retries: m.retries.Load(), FetchErrors: m.fetchErrors.Load(), FetchStalls: m.fetchStalls.Load(), Owners: m.owners.Load(), Flushes: m.flushes.Load(), Inserts: m.inserts.Load(),
		FlushTime: time.Duration(m.flushNanos.Load()),
		Evicted:   m.evicted.Load(), LookedUp: m.lookedUp.Load(), Found: m.found.Load(), DayRows: m.dayRows.Load(), InMemory: m.inMemory.Load(),
		Predictions: m.predictions.Load(), Outcomes: m.outcomes.Load(), AlignTimeouts: m.alignTimeouts.Load(),
		AlignWaits: m.alignWaits.Load(), AlignTime: time.Duration(m.alignNanos.Load()),
		AlertsPublished: m.alertsPublished.Load(), NotificationsPublished: m.notesPublished.Load(), AlertsOpened: m.alertsOpened.Load(),
		RepublishSkipped: m.republishSkipped.Load(), TailScans: m.tailScans.Load(), OpenAlerts: m.openAlerts.Load(), Timers: m.timers.Load(),
		StatsDropped: m.statsDropped.Load(),
		Rejected:     map[schemas.Reason]int64{},
		Lag:          map[int]int64{},
	}
	m.mu.Lock()
	for r, n := range m.rejected {
		s.Rejected[r] = n
	}
	for p, g := range m.lag {
		s.Lag[p] = g.Load()
	}
	m.mu.Unlock()
	return s
}

// RejectedTotal returns the number of rejected records over all reasons.
func (s Snapshot) RejectedTotal() int64 {
	var n int64
	for _, v := range s.Rejected {
		n += v
	}
	return n
}

// counters lists the unlabelled counters: each one's name, help and value,
// in one place for Describe and Collect.
var counters = []struct {
	desc  *prometheus.Desc
	value func(*Snapshot) int64
}{
	{desc("consumed_total", "Messages read from the events topic."), func(s *Snapshot) int64 { return s.Consumed }},
	{desc("applied_total", "Events that changed a shipment's state."), func(s *Snapshot) int64 { return s.Applied }},
	{desc("unchanged_total", "Valid events that changed nothing (duplicates, replays)."), func(s *Snapshot) int64 { return s.Unchanged }},
	{desc("facts_written_total", "Shipment fact rows written to storage."), func(s *Snapshot) int64 { return s.Written }},
	{desc("inserts_total", "Storage inserts, each merging the flushes of several partitions."), func(s *Snapshot) int64 { return s.Inserts }},
	{desc("dead_lettered_total", "Records sent to the dead-letter topic."), func(s *Snapshot) int64 { return s.DeadLettered }},
	{desc("commits_total", "Offset commits."), func(s *Snapshot) int64 { return s.Commits }},
	{desc("commit_errors_total", "Failed offset commits (the events are reprocessed)."), func(s *Snapshot) int64 { return s.CommitErrors }},
	{desc("retries_total", "Retried storage or DLQ writes."), func(s *Snapshot) int64 { return s.Retries }},
	{desc("fetch_errors_total", "Failed Kafka fetches (the reader retries them)."), func(s *Snapshot) int64 { return s.FetchErrors }},
	{desc("fetch_stalls_total", "Times a partition with unread messages got none for the stall timeout."), func(s *Snapshot) int64 { return s.FetchStalls }},
	{desc("restored_shipments_total", "Shipments restored from storage on partition assignment."), func(s *Snapshot) int64 { return s.Restored }},
	{desc("shipments_seen_total", "Shipments first seen by this process."), func(s *Snapshot) int64 { return s.Shipments }},
	{desc("evicted_shipments_total", "Closed shipments dropped from memory once their retention had passed."), func(s *Snapshot) int64 { return s.Evicted }},
	{desc("lookups_total", "Shipments not in memory looked up in storage."), func(s *Snapshot) int64 { return s.LookedUp }},
	{desc("lookup_hits_total", "Looked-up shipments that storage held (evicted earlier)."), func(s *Snapshot) int64 { return s.Found }},
	{desc("aggregate_rows_written_total", "Daily aggregate rows written (changes and positions)."), func(s *Snapshot) int64 { return s.DayRows }},
	{desc("predictions_written_total", "ETA predictions written, one per change of an undelivered shipment."), func(s *Snapshot) int64 { return s.Predictions }},
	{desc("eta_align_timeouts_total", "Times a partition replaying a backlog went on without waiting longer for the ETA model to catch up."), func(s *Snapshot) int64 { return s.AlignTimeouts }},
	{desc("eta_align_waits_total", "Times a partition replaying a backlog stopped to let the ETA model catch up."), func(s *Snapshot) int64 { return s.AlignWaits }},
	{desc("alerts_published_total", "Alert transitions published to shiplens.alerts."), func(s *Snapshot) int64 { return s.AlertsPublished }},
	{desc("notifications_published_total", "Customer notifications published to shiplens.notifications."), func(s *Snapshot) int64 { return s.NotificationsPublished }},
	{desc("alerts_opened_total", "Alerts opened."), func(s *Snapshot) int64 { return s.AlertsOpened }},
	{desc("republish_skipped_total", "Records not published again because a tail scan found them published (after a crash or a failed publish)."), func(s *Snapshot) int64 { return s.RepublishSkipped }},
	{desc("stats_dropped_total", "Flush figures not written to pipeline_stats (best effort)."), func(s *Snapshot) int64 { return s.StatsDropped }},
	{desc("outcomes_written_total", "Delivery outcomes written, against which predictions are scored."), func(s *Snapshot) int64 { return s.Outcomes }},
}

var (
	descOwners   = desc("partitions_owned", "Partitions owned right now.")
	descInMemory = desc("shipments_in_memory", "Shipments held in memory by this process's partition owners.")
	descOpen     = desc("open_alerts", "Alerts open in this process's partitions.")
	descTimers   = desc("alert_timers", "Alert timers scheduled in this process's partitions (stale ones included).")
	descRejected = prometheus.NewDesc("shiplens_processor_rejected_total", "Rejected records by reason.", []string{"source", "reason"}, nil)
	descLag      = prometheus.NewDesc("shiplens_processor_consumer_lag", "Messages of an owned partition after the last one read, as of that read.", []string{"partition"}, nil)
)

func desc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("shiplens_processor_"+name, help, nil, nil)
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range counters {
		ch <- c.desc
	}
	ch <- descOwners
	ch <- descInMemory
	ch <- descOpen
	ch <- descTimers
	ch <- descRejected
	ch <- descLag
	m.flushSeconds.Describe(ch)
	m.insertSeconds.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	s := m.Snapshot()
	for _, c := range counters {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(c.value(&s)))
	}
	ch <- prometheus.MustNewConstMetric(descOwners, prometheus.GaugeValue, float64(s.Owners))
	ch <- prometheus.MustNewConstMetric(descInMemory, prometheus.GaugeValue, float64(s.InMemory))
	ch <- prometheus.MustNewConstMetric(descOpen, prometheus.GaugeValue, float64(s.OpenAlerts))
	ch <- prometheus.MustNewConstMetric(descTimers, prometheus.GaugeValue, float64(s.Timers))
	for r, n := range s.Rejected {
		ch <- prometheus.MustNewConstMetric(descRejected, prometheus.CounterValue, float64(n), "processor", string(r))
	}
	for p, n := range s.Lag {
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(n), strconv.Itoa(p))
	}
	m.flushSeconds.Collect(ch)
	m.insertSeconds.Collect(ch)
}

var _ prometheus.Collector = (*Metrics)(nil)
