package analytics

import "time"

// FlushStat is what one partition flush of the processor did: a row of the
// pipeline_stats table, from which the pipeline-health dashboard reads
// throughput, lag, latency and rejections.
type FlushStat struct {
	At        time.Time // wall clock of the flush
	Processor string    // which process: host and pid
	Partition int
	Events    int            // messages the flush covers
	Applied   int            // of them, events that changed a shipment
	Rejected  map[string]int // of them, dead-lettered, by reason
	Lag       int64          // messages behind the partition's end at the flush
	Flush     time.Duration  // the whole flush: publish, write, commit
	Insert    time.Duration  // the ClickHouse write inside it
	Published int            // alert and notification records published
}
