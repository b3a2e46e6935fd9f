package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/ingest"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/processor"
	"github.com/shiplens/shiplens/store"
)

// freshDB drops and migrates database name on the server of base, and opens it.
func freshDB(ctx context.Context, base store.Config, name string) (*store.Store, store.Config, error) {
	cfg := base
	cfg.Database = name
	admin := base
	admin.Database = "default"
	a, err := store.Open(ctx, admin)
	if err != nil {
		return nil, cfg, err
	}
	err = a.Conn().Exec(ctx, "DROP DATABASE IF EXISTS "+name)
	a.Close()
	if err != nil {
		return nil, cfg, fmt.Errorf("cannot drop database %s: %w", name, err)
	}
	if _, err := store.Migrate(ctx, cfg, nil); err != nil {
		return nil, cfg, err
	}
	st, err := store.Open(ctx, cfg)
	return st, cfg, err
}

// committed tracks the offsets a processor has committed, through its
// OnCommit hook, and says when every partition reached its end.
type committed struct {
	mu   sync.Mutex
	next map[int]int64
	ends map[int]int64
	done chan struct{}
	once sync.Once
	// on, if set, is called with each commit, under mu.
	on func(partition int, next int64, at time.Time)
}

func newCommitted(ends map[int]int64) *committed {
	return &committed{next: map[int]int64{}, ends: ends, done: make(chan struct{})}
}

func (c *committed) commit(partition int, next int64) {
	at := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next[partition] = max(c.next[partition], next)
	if c.on != nil {
		c.on(partition, next, at)
	}
	if c.ends == nil {
		return
	}
	for p, e := range c.ends {
		if c.next[p] < e {
			return
		}
	}
	c.once.Do(func() { close(c.done) })
}

// runProcessor starts a processor of its own group on topic writing to st,
// and returns a function that stops it and returns its error.
func runProcessor(ctx context.Context, brokers []string, topic, prefix string, st *store.Store, c *committed) (*processor.Processor, func() error, error) {
	// Outputs of their own: the exactly-once publisher reads back what is
	// already in its topics when it starts, and an earlier run's records
	// would make each run slower than the one before.
	run := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
	p, err := processor.New(processor.Config{
		Brokers:  brokers,
		Topic:    topic,
		Group:    run,
		DLQTopic: run + ".dlq",
		Alerts: processor.AlertsConfig{
			Topic:              run + ".alerts",
			NotificationsTopic: run + ".notifications",
		},
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnCommit: c.commit,
	}, st)
	if err != nil {
		return nil, nil, err
	}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(pctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
			if errors.Is(runErr, context.Canceled) {
				runErr = nil
			}
		})
		return runErr
	}
	return p, stop, nil
}

// endToEnd runs a processor over topic into a new database, from its first
// message read to every offset committed and every shipment counted in
// ClickHouse. It returns events/s and the store, left open for queries.
func endToEnd(ctx context.Context, brokers []string, topic string, ends map[int]int64, base store.Config, db string, shipments int) (float64, *store.Store, error) {
	st, _, err := freshDB(ctx, base, db)
	if err != nil {
		return 0, nil, err
	}
	var total int64
	for _, e := range ends {
		total += e
	}
	c := newCommitted(ends)
	p, stop, err := runProcessor(ctx, brokers, topic, "bench-e2e", st, c)
	if err != nil {
		st.Close()
		return 0, nil, err
	}
	// The first message read: the processor's consumed count leaves zero.
	var first time.Time
	tick := time.NewTicker(time.Millisecond)
	for first.IsZero() {
		select {
		case <-ctx.Done():
			tick.Stop()
			stop()
			st.Close()
			return 0, nil, ctx.Err()
		case <-tick.C:
			if p.Metrics().Snapshot().Consumed > 0 {
				first = time.Now()
			}
		}
	}
	tick.Stop()
	wait, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	select {
	case <-c.done:
	case <-wait.Done():
		stop()
		st.Close()
		return 0, nil, fmt.Errorf("end to end: the processor did not commit every offset: %w", wait.Err())
	}
	var n uint64
	err = st.Conn().QueryRow(ctx, "SELECT uniqExact(tracking_number) FROM shipment_facts").Scan(&n)
	elapsed := since(first)
	if err == nil && int(n) != shipments {
		err = fmt.Errorf("end to end: ClickHouse holds %d shipments after all offsets were committed, want %d", n, shipments)
	}
	if e := stop(); err == nil {
		err = e
	}
	if err != nil {
		st.Close()
		return 0, nil, err
	}
	return float64(total) / elapsed, st, nil
}

// freshness offers events at rate per second for d to a processor and
// measures each event's latency from its produce call to the commit of its
// offset, which follows the insert that makes it queryable.
func freshness(ctx context.Context, brokers []string, base store.Config, rate int, d time.Duration, seed int64, partitions int) (Stage, error) {
	need := int(float64(rate) * d.Seconds())
	// Fresh shipments, ordered by event time as carriers send them; about
	// 12 events per shipment.
	g, err := gen.New(gen.Config{Shipments: need/10 + 100, Seed: seed + 1000})
	if err != nil {
		return Stage{}, err
	}
	events := g.Events()
	if len(events) > need {
		events = events[:need]
	}
	// A live stream: each event occurs when it is sent (set below), and a
	// promise keeps its distance from its shipment's first event. Replayed
	// history would instead cross a day of event time every few thousand
	// events, and owners replaying a backlog wait for each day's ETA model
	// (processor.ETAConfig.AlignWait): the latency of a replay, not of a
	// running pipeline, which crosses a day once a day.
	firstAt := map[string]time.Time{}
	for i := range events {
		if _, ok := firstAt[events[i].TrackingNumber]; !ok {
			firstAt[events[i].TrackingNumber] = events[i].OccurredAt
		}
	}
	topic := fmt.Sprintf("bench.fresh.%d", time.Now().UnixNano())
	if err := kafkaadmin.EnsureTopics(ctx, brokers, partitions, topic); err != nil {
		return Stage{}, err
	}
	st, _, err := freshDB(ctx, base, "bench_fresh")
	if err != nil {
		return Stage{}, err
	}
	defer st.Close()

	// Per partition, the batches sent: cumulative count and send time.
	type sent struct {
		upTo int64
		at   time.Time
	}
	var (
		mu        sync.Mutex
		batches   = make([][]sent, partitions)
		resolved  = make([]int64, partitions) // messages whose latency is known
		latencies []float64                   // one per message, seconds
	)
	c := newCommitted(nil)
	c.on = func(p int, next int64, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		for len(batches[p]) > 0 && batches[p][0].upTo <= next {
			b := batches[p][0]
			lat := at.Sub(b.at).Seconds()
			for range b.upTo - resolved[p] {
				latencies = append(latencies, lat)
			}
			resolved[p] = b.upTo
			batches[p] = batches[p][1:]
		}
	}
	proc, stop, err := runProcessor(ctx, brokers, topic, "bench-fresh", st, c)
	if err != nil {
		return Stage{}, err
	}
	defer stop()
	// Offer events once the processor owns every partition: the latency of
	// a running pipeline, not of its start.
	joined, cancelJoin := context.WithTimeout(ctx, time.Minute)
	defer cancelJoin()
	for proc.Metrics().Snapshot().Owners < int64(partitions) {
		select {
		case <-joined.Done():
			return Stage{}, fmt.Errorf("freshness: the processor owns %d of %d partitions after a minute", proc.Metrics().Snapshot().Owners, partitions)
		case <-time.After(10 * time.Millisecond):
		}
	}

	prod, err := ingest.NewProducer(ingest.ProducerConfig{Brokers: brokers, Topic: topic})
	if err != nil {
		return Stage{}, err
	}
	defer prod.Close()
	parts := make([]int, partitions)
	for i := range parts {
		parts[i] = i
	}
	var bal kafka.Murmur2Balancer
	counts := make([]int64, partitions)
	began := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	i := 0
	for i < len(events) {
		select {
		case <-ctx.Done():
			return Stage{}, ctx.Err()
		case <-tick.C:
		}
		due := min(len(events), int(since(began)*float64(rate)))
		if due <= i {
			continue
		}
		at := time.Now()
		touched := map[int]bool{}
		for ; i < due; i++ {
			e := &events[i]
			if !e.PromisedAt.IsZero() {
				e.PromisedAt = at.Add(e.PromisedAt.Sub(firstAt[e.TrackingNumber]))
			}
			e.OccurredAt = at
			if err := prod.Add(&events[i]); err != nil {
				return Stage{}, err
			}
			p := bal.Balance(kafka.Message{Key: []byte(events[i].TrackingNumber)}, parts...)
			counts[p]++
			touched[p] = true
		}
		mu.Lock()
		for p := range touched {
			batches[p] = append(batches[p], sent{upTo: counts[p], at: at})
		}
		mu.Unlock()
		if err := prod.Flush(ctx); err != nil {
			return Stage{}, err
		}
	}
	offered := float64(len(events)) / since(began)
	// Wait for the last commits.
	wait, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		mu.Lock()
		n := len(latencies)
		mu.Unlock()
		if n >= len(events) {
			break
		}
		select {
		case <-wait.Done():
			return Stage{}, fmt.Errorf("freshness: %d of %d events committed: %w", n, len(events), wait.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := stop(); err != nil {
		return Stage{}, err
	}
	mu.Lock()
	lat := slices.Clone(latencies)
	mu.Unlock()
	slices.Sort(lat)
	q := func(f float64) float64 { return lat[min(len(lat)-1, int(f*float64(len(lat))))] }
	elapsed := since(began)
	return Stage{
		EventsPerS: statOf([]float64{float64(len(events)) / elapsed}),
		Events:     int64(len(events)),
		Seconds:    statOf([]float64{elapsed}),
		Latency:    &Latency{P50: q(0.5), P99: q(0.99), Max: lat[len(lat)-1], OfferedPerS: offered},
		Note:       fmt.Sprintf("one run of %s at a fixed offered rate; latency from the produce call to the commit that follows the insert", d),
	}, nil
}
