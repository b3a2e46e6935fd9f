package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/internal/retry"
)

// statsTable holds the processor's own figures
// (schemas/clickhouse/007_pipeline_stats.sql).
const statsTable = "pipeline_stats"

// WriteStats inserts flush figures into pipeline_stats.
func (s *Store) WriteStats(ctx context.Context, stats []analytics.FlushStat) error {
	if len(stats) == 0 {
		return nil
	}
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+statsTable+
		" (at, processor, partition, events, applied, rejected, lag, flush_ms, insert_ms, published, `reasons.reason`, `reasons.n`)")
	if err != nil {
		return s.etaFailed(ctx, err, []string{statsTable}, "cannot prepare insert into %s", statsTable)
	}
	defer batch.Close()
	for _, st := range stats {
		if st.Partition < 0 || st.Partition > 1<<16-1 {
			return retry.Permanent(fmt.Errorf("cannot record flush figures: partition %d is out of range", st.Partition))
		}
		reasons := slices.Sorted(func(yield func(string) bool) {
			for r := range st.Rejected {
				if !yield(r) {
					return
				}
			}
		})
		ns := make([]uint32, len(reasons))
		rejected := 0
		for i, r := range reasons {
			ns[i] = uint32(st.Rejected[r])
			rejected += st.Rejected[r]
		}
		if err := batch.Append(st.At.UTC().Truncate(1e9), st.Processor, uint16(st.Partition), uint32(st.Events), uint32(st.Applied), uint32(rejected),
			st.Lag, float64(st.Flush.Microseconds())/1000, float64(st.Insert.Microseconds())/1000, uint32(st.Published), reasons, ns); err != nil {
			return s.etaFailed(ctx, err, []string{statsTable}, "cannot fill the %s batch", statsTable)
		}
	}
	if err := batch.Send(); err != nil {
		return s.etaFailed(ctx, err, []string{statsTable}, "cannot insert into %s", statsTable)
	}
	return nil
}
