package processor

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// Metrics counts what a processor did. All methods are safe for concurrent use.
type Metrics struct {
	consumed, applied, unchanged, shipments, restored atomic.Int64
	written, deadLettered, commits, commitErrors      atomic.Int64
	retries, owners                                   atomic.Int64
	flushNanos, flushes, inserts                      atomic.Int64

	mu       sync.Mutex
	rejected map[schemas.Reason]int64
}

func newMetrics() *Metrics { return &Metrics{rejected: map[schemas.Reason]int64{}} }

func (m *Metrics) reject(r schemas.Reason) {
	m.mu.Lock()
	m.rejected[r]++
	m.mu.Unlock()
}

func (m *Metrics) observeFlush(d time.Duration) {
	m.flushes.Add(1)
	m.flushNanos.Add(int64(d))
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
	Owners       int64                    `json:"owners"` // partitions owned right now
	Flushes      int64                    `json:"flushes"`
	Inserts      int64                    `json:"inserts"` // storage writes, each merging several flushes
	FlushTime    time.Duration            `json:"flush_time_ns"`
}

// Snapshot returns the current counters.
func (m *Metrics) Snapshot() Snapshot {
	s := Snapshot{
		Consumed: m.consumed.Load(), Applied: m.applied.Load(), Unchanged: m.unchanged.Load(),
		Shipments: m.shipments.Load(), Restored: m.restored.Load(), Written: m.written.Load(),
		DeadLettered: m.deadLettered.Load(), Commits: m.commits.Load(), CommitErrors: m.commitErrors.Load(),
		Retries: m.retries.Load(), Owners: m.owners.Load(), Flushes: m.flushes.Load(), Inserts: m.inserts.Load(),
		FlushTime: time.Duration(m.flushNanos.Load()),
		Rejected:  map[schemas.Reason]int64{},
	}
	m.mu.Lock()
	for r, n := range m.rejected {
		s.Rejected[r] = n
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

// WritePrometheus writes the counters in the Prometheus text format.
func (m *Metrics) WritePrometheus(w io.Writer) {
	s := m.Snapshot()
	counter := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	counter("shiplens_processor_consumed_total", "Messages read from the events topic.", s.Consumed)
	counter("shiplens_processor_applied_total", "Events that changed a shipment's state.", s.Applied)
	counter("shiplens_processor_unchanged_total", "Valid events that changed nothing (duplicates, replays).", s.Unchanged)
	counter("shiplens_processor_facts_written_total", "Shipment fact rows written to storage.", s.Written)
	counter("shiplens_processor_dead_lettered_total", "Records sent to the dead-letter topic.", s.DeadLettered)
	counter("shiplens_processor_commits_total", "Offset commits.", s.Commits)
	counter("shiplens_processor_commit_errors_total", "Failed offset commits (the events are reprocessed).", s.CommitErrors)
	counter("shiplens_processor_retries_total", "Retried storage or DLQ writes.", s.Retries)
	fmt.Fprintf(w, "# HELP shiplens_processor_rejected_total Rejected records by reason.\n# TYPE shiplens_processor_rejected_total counter\n")
	reasons := make([]string, 0, len(s.Rejected))
	for r := range s.Rejected {
		reasons = append(reasons, string(r))
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "shiplens_processor_rejected_total{source=\"processor\",reason=%q} %d\n", r, s.Rejected[schemas.Reason(r)])
	}
	fmt.Fprintf(w, "# HELP shiplens_processor_partitions_owned Partitions owned right now.\n# TYPE shiplens_processor_partitions_owned gauge\nshiplens_processor_partitions_owned %d\n", s.Owners)
}
