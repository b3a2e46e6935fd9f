package processor

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/schemas"
)

// StatsSink stores the processor's own figures, one row per partition
// flush (the pipeline_stats table the pipeline-health dashboard reads). A
// Sink that implements it gets them; *store.Store does. Writing them is
// best effort: a failure is logged and counted, never retried for long, and
// never holds back the data.
type StatsSink interface {
	WriteStats(ctx context.Context, stats []analytics.FlushStat) error
}

// tally counts what an owner handled since its last flush.
type tally struct {
	events, applied int
	rejected        map[string]int
}

func (t *tally) reject(r schemas.Reason) {
	if t.rejected == nil {
		t.rejected = map[string]int{}
	}
	t.rejected[string(r)]++
}

// stat hands the figures of a flush to the stats writer, without waiting:
// a full queue drops them (and counts it).
func (o *owner) stat(began time.Time, insert time.Duration, published int) {
	p := o.p
	if p.stats == nil {
		return
	}
	st := analytics.FlushStat{At: began, Processor: p.name, Partition: o.partition, Events: o.tally.events, Applied: o.tally.applied,
		Rejected: o.tally.rejected, Lag: o.lag.Load(), Flush: time.Since(began), Insert: insert, Published: published}
	o.tally = tally{}
	select {
	case p.stats <- st:
	default:
		p.metrics.statsDropped.Add(1)
	}
}

// statsEvery is how often the stats writer writes what it collected.
const statsEvery = 2 * time.Second

// runStats writes the flush figures in batches until ctx ends, then once
// more.
func (p *Processor) runStats(ctx context.Context) {
	tick := time.NewTicker(statsEvery)
	defer tick.Stop()
	var batch []analytics.FlushStat
	var warned time.Time
	write := func(ctx context.Context) {
		if len(batch) == 0 {
			return
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := p.statsSink.WriteStats(wctx, batch)
		cancel()
		if err != nil {
			p.metrics.statsDropped.Add(int64(len(batch)))
			if time.Since(warned) > time.Minute {
				warned = time.Now()
				p.cfg.Log.Warn("cannot write the pipeline figures; the dashboards' pipeline health misses them (the data is not affected)", "rows", len(batch), "err", err)
			}
		}
		batch = batch[:0]
	}
	for {
		select {
		case st := <-p.stats:
			batch = append(batch, st)
			if len(batch) >= 1000 {
				write(ctx)
			}
		case <-tick.C:
			write(ctx)
		case <-ctx.Done():
			for len(p.stats) > 0 {
				batch = append(batch, <-p.stats)
			}
			write(context.WithoutCancel(ctx))
			return
		}
	}
}

// processName names this process in pipeline_stats: host and pid.
func processName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}
