// Package bench is shiplens' benchmark suite (`shiplens bench`): every
// stage of the pipeline measured in one process and one run, beside the
// references a user would compare it with, so that the ratios between them
// hold on a shared, noisy machine where absolute figures do not.
//
// The stages, each repeated (3 times by default) and reported as the
// median with min and max:
//
//   - decode: canonical JSON to schemas.Event with the hand-written decoder;
//   - process_one_core and process_all_cores: decode, shipment state, daily
//     aggregates, ETA predictions and alert timers (processor.InMemory),
//     with no Kafka and no ClickHouse, at GOMAXPROCS=1 and at all cores;
//   - bare_consumer and bare_consumer_franz_go: a kafka-go consumer group,
//     and franz-go's beside it, draining the workload's topic from the
//     embedded broker (kfake) with no work: the ceiling of the pipe;
//   - end_to_end: kfake, the processor, ClickHouse, from the first message
//     read to every offset committed (which follows the inserts) and the
//     shipments counted in ClickHouse;
//   - alternative_ingest: the same events inserted raw into ClickHouse with
//     clickhouse-go (package bench/alt), whose scorecard is SQL at query
//     time;
//   - freshness: produce to queryable latency at a fixed offered rate.
//
// Beside them: state (bytes per held shipment, restore time) and queries
// (scorecards over stored workloads of several sizes, GET /v1/eta/{tn},
// the slowest dashboard panel, and the alternative's time to answer).
package bench

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options configure a run. The zero value is the full suite.
type Options struct {
	// Quick runs small sizes: seconds instead of tens of minutes.
	Quick bool
	// Reps is the number of repetitions of each stage; at least 3.
	Reps int
	// Shipments is the workload of the streaming stages; the default is
	// 100,000 (about 1.2M events), 3,000 with Quick.
	Shipments int
	// Seed of the generated workload.
	Seed int64
	// Sizes are the stored workloads (shipments) the queries run over; the
	// default is 1M and 10M, 20k with Quick. A database already loaded
	// with a size (by an earlier run on the same ClickHouse) is reused.
	Sizes []int
	// ClickHouse is the server to use (host:port or clickhouse://...); empty
	// starts a private clickhouse-server child process.
	ClickHouse string
	// FreshnessRate is the offered rate of the freshness stage, events/s;
	// the default is 50,000.
	FreshnessRate int
	// FreshnessFor is how long the freshness stage offers events; the
	// default is 20 s, 4 s with Quick.
	FreshnessFor time.Duration
	// Progress receives one line per step; nil discards them.
	Progress io.Writer
}

func (o Options) withDefaults() Options {
	o.Reps = max(o.Reps, 3)
	if o.Shipments <= 0 {
		o.Shipments = 100_000
		if o.Quick {
			o.Shipments = 3_000
		}
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if len(o.Sizes) == 0 {
		o.Sizes = []int{1_000_000, 10_000_000}
		if o.Quick {
			o.Sizes = []int{20_000}
		}
	}
	if o.FreshnessRate <= 0 {
		o.FreshnessRate = 50_000
	}
	if o.FreshnessFor <= 0 {
		o.FreshnessFor = 20 * time.Second
		if o.Quick {
			o.FreshnessFor = 4 * time.Second
		}
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

// Stat is the median, min and max of a stage's repetitions.
type Stat struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Runs   []float64 `json:"runs"`
}

// statOf summarises runs.
func statOf(runs []float64) Stat {
	s := slices.Clone(runs)
	slices.Sort(s)
	if len(s) == 0 {
		return Stat{}
	}
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Stat{Median: med, Min: s[0], Max: s[len(s)-1], Runs: runs}
}

// Stage is one throughput stage.
type Stage struct {
	EventsPerS Stat   `json:"events_per_s"`
	Events     int64  `json:"events"` // per repetition
	Note       string `json:"note,omitempty"`
	// Seconds is the wall time of each repetition.
	Seconds Stat `json:"seconds"`
	// Latency is set for the freshness stage: produce to queryable.
	Latency *Latency `json:"latency_s,omitempty"`
}

// Latency is a distribution of latencies in seconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
	// OfferedPerS is the rate the producer offered.
	OfferedPerS float64 `json:"offered_events_per_s"`
}

// Machine is what the figures were measured on.
type Machine struct {
	CPU               string `json:"cpu_model"`
	Cores             int    `json:"cores"`
	MemoryBytes       int64  `json:"memory_bytes"`
	OS                string `json:"os"`
	Go                string `json:"go"`
	ClickHouseVersion string `json:"clickhouse_version"`
}

// Workload is the generated stream of the streaming stages.
type Workload struct {
	Shipments  int   `json:"shipments"`
	Events     int64 `json:"events"`
	Bytes      int64 `json:"bytes"`
	Partitions int   `json:"partitions"`
	Seed       int64 `json:"seed"`
}

// State is the memory and restore figures.
type State struct {
	BytesPerShipment float64 `json:"bytes_per_open_shipment"`
	Held             int     `json:"shipments_held"`
	Open             int     `json:"shipments_open"`
	// Restore: shipments restored from the largest stored workload, all
	// partitions at once, and the time it takes.
	RestoreShipments int  `json:"restore_shipments"`
	RestoreSeconds   Stat `json:"restore_s"`
	RestoreFrom      int  `json:"restore_from_stored_shipments"`
}

// SizeQuery is one query's time over one stored size.
type SizeQuery struct {
	Shipments int  `json:"shipments"`
	Seconds   Stat `json:"seconds"`
	Rows      int  `json:"rows"`
}

// Queries is the query figures.
type Queries struct {
	Scorecard30d  []SizeQuery `json:"scorecard_30d"`
	ScorecardFull []SizeQuery `json:"scorecard_full"`
	ETALookupP99  float64     `json:"eta_lookup_p99_s"`
	ETALookups    int         `json:"eta_lookups"`
	SlowestPanel  struct {
		Dashboard string  `json:"dashboard"`
		Panel     string  `json:"panel"`
		Seconds   float64 `json:"seconds"`
		Shipments int     `json:"shipments"`
	} `json:"slowest_panel"`
	// Over the streaming workload's events: the scorecard from shiplens'
	// aggregates, and the alternative's SQL over raw events.
	OursTimeToAnswer        Stat `json:"ours_time_to_answer_s"`
	AlternativeTimeToAnswer Stat `json:"alternative_time_to_answer_s"`
	AlternativeCountsEqual  bool `json:"alternative_counts_equal"`
	AlternativeRows         int  `json:"alternative_rows"`
}

// Report is everything one run measured.
type Report struct {
	Version  string             `json:"version"`
	Quick    bool               `json:"quick"`
	Started  time.Time          `json:"started"`
	Seconds  float64            `json:"seconds"`
	Machine  Machine            `json:"machine"`
	Workload Workload           `json:"workload"`
	Stages   map[string]Stage   `json:"stages"`
	State    State              `json:"state"`
	Queries  Queries            `json:"queries"`
	Ratios   map[string]float64 `json:"ratios"`
	Targets  []Target           `json:"targets"`
}

// Target is one of DESIGN section 9's targets, and whether this run met it.
type Target struct {
	Name  string  `json:"name"`
	Want  string  `json:"want"`
	Value float64 `json:"value"`
	Met   bool    `json:"met"`
}

// The stage names, in the order they run and print.
const (
	StageDecode       = "decode"
	StageProcessOne   = "process_one_core"
	StageProcessAll   = "process_all_cores"
	StageBareConsumer = "bare_consumer"
	StageBareFranz    = "bare_consumer_franz_go"
	StageEndToEnd     = "end_to_end"
	StageAlternative  = "alternative_ingest"
	StageFreshness    = "freshness"
)

// StageOrder lists the stages in the order they run.
var StageOrder = []string{StageDecode, StageProcessOne, StageProcessAll, StageBareConsumer, StageBareFranz, StageEndToEnd, StageAlternative, StageFreshness}

// version returns the module version and VCS revision of the binary.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			v += " " + s.Value[:min(12, len(s.Value))]
		}
		if s.Key == "vcs.modified" && s.Value == "true" {
			v += "+dirty"
		}
	}
	return v
}

// machine reads the CPU model and memory from /proc.
func machine() Machine {
	m := Machine{Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				m.MemoryBytes = kb * 1024
				break
			}
		}
		f.Close()
	}
	return m
}

// targets compares the report with DESIGN section 9.
func (r *Report) targets() {
	at := func(name, want string, v float64, met bool) {
		r.Targets = append(r.Targets, Target{Name: name, Want: want, Value: v, Met: met})
	}
	one := r.Stages[StageProcessOne].EventsPerS.Median
	at("process in memory, one core, ETA and alerts on (events/s)", ">= 500000", one, one >= 500_000)
	all := r.Stages[StageProcessAll].EventsPerS.Median
	at("process in memory, all cores (events/s)", ">= 900000", all, all >= 900_000)
	e2e := r.Stages[StageEndToEnd].EventsPerS.Median
	at("end to end (events/s)", ">= 400000", e2e, e2e >= 400_000)
	ratio := r.Ratios["end_to_end_over_bare_consumer"]
	at("end to end over the bare kafka-go consumer", ">= 0.5", ratio, ratio >= 0.5)
	if l := r.Stages[StageFreshness].Latency; l != nil {
		at("freshness p99 at 50k events/s (s)", "<= 2", l.P99, l.P99 <= 2)
	}
	at("bytes per open shipment", "<= 256", r.State.BytesPerShipment, r.State.BytesPerShipment <= 256)
	if n := r.State.RestoreShipments; n >= 1_000_000 {
		at(fmt.Sprintf("restore of %d shipments (s)", n), "<= 5 at 1M", r.State.RestoreSeconds.Median, r.State.RestoreSeconds.Median <= 5)
	} else if n > 0 {
		// Fixed costs dominate small restores: no scaled figure.
		at(fmt.Sprintf("restore of %d shipments (s; the target is at 1M, not measured)", n), "<= 5 at 1M", r.State.RestoreSeconds.Median, false)
	}
	if n := len(r.Queries.Scorecard30d); n > 0 {
		big := r.Queries.Scorecard30d[n-1]
		at(fmt.Sprintf("30-day scorecard at %d shipments (s; the target is at 10M)", big.Shipments), "<= 0.3", big.Seconds.Median, big.Seconds.Median <= 0.3)
	}
	alt := r.Ratios["alternative_time_to_answer_over_ours"]
	at("alternative's time to answer over ours", ">= 10", alt, alt >= 10)
}

// ratio is a / b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// sortedSizes returns sizes ascending, without duplicates.
func sortedSizes(sizes []int) []int {
	s := slices.Clone(sizes)
	slices.SortFunc(s, cmp.Compare)
	return slices.Compact(s)
}

// say writes one progress line.
func say(w io.Writer, format string, a ...any) { fmt.Fprintf(w, "» "+format+"\n", a...) }

// since returns the seconds since t.
func since(t time.Time) float64 { return time.Since(t).Seconds() }
