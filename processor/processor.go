// Package processor turns the canonical event stream into shipment facts
// and daily aggregates. It joins a Kafka consumer group on shiplens.events
// and runs one owner per assigned partition. An owner restores its
// partition's shipments in flight from the Sink before it reads a single
// event, folds events into that state (see analytics.Shipment: duplicates
// and arrival order cannot change the result), writes the changed shipments
// and the change of the aggregates (analytics.Partition), sends rejected
// records to the dead-letter topic, and only then commits the offsets. A
// crash anywhere therefore means reprocessing, never loss or double
// counting; package store explains why the aggregates stay exact.
//
// State is bounded by what is in flight: a closed shipment leaves memory
// once the partition's watermark (the latest occurred_at seen) passes its
// last event plus Config.Retention, and is not restored again. An event for
// a shipment not in memory is looked up in the Sink before the next write
// and merged with what is stored.
//
// The package must not know ClickHouse: storage comes in through Sink.
package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/dlq"
	"github.com/shiplens/shiplens/schemas"
)

// Fact is one version of a shipment's state, ready to be written.
type Fact = analytics.Fact

// Sink stores facts and daily aggregates, and gives a partition's state
// back. Fact writes must be idempotent: the same facts may be written again
// after a crash. Aggregate writes are made idempotent by the positions they
// carry (see WriteDays). An error that retrying cannot fix (a schema
// mismatch, bad SQL) is marked with retry.Permanent, and the processor stops
// instead of retrying forever. *store.Store is the ClickHouse Sink.
type Sink interface {
	WriteFacts(ctx context.Context, facts []Fact) error
	// WriteDays adds days to the aggregates and moves the positions of the
	// advances' partitions, atomically. retried says that an earlier call
	// with the same arguments failed and may have landed: the sink must
	// then write only if the positions are still at the advances' starts.
	WriteDays(ctx context.Context, days *analytics.Days, advances []analytics.Advance, retried bool) error
	// Position returns the offset before which partition's events are in
	// the aggregates (0 if none).
	Position(ctx context.Context, partition int) (int64, error)
	// Restore calls fn with the latest state of every shipment of partition
	// that r keeps at the partition's watermark.
	Restore(ctx context.Context, partition int, r analytics.Retention, fn func(trackingNumber string, st analytics.Shipment)) error
	// Lookup calls fn with the latest state of each of trackingNumbers that
	// partition's facts hold.
	Lookup(ctx context.Context, partition int, trackingNumbers []string, fn func(trackingNumber string, st analytics.Shipment)) error
}

// Config configures a Processor.
type Config struct {
	Brokers       []string      // Kafka bootstrap addresses; required
	Topic         string        // defaults to schemas.EventsTopic
	Group         string        // consumer group id; defaults to "shiplens-processor"
	DLQTopic      string        // defaults to schemas.DLQTopic
	FlushInterval time.Duration // longest time a change waits before it is written; defaults to 500ms
	FlushSize     int           // changed shipments that force a write; defaults to 50000
	// WriteDelay is how long the shared writer waits after a partition's
	// request for the others', to merge them into one insert (less once every
	// owner of this process has sent one); defaults to 100ms.
	WriteDelay time.Duration
	MaxBackoff time.Duration // longest wait between retries of a failed write; defaults to 10s
	// SessionTimeout is how long the group waits for a silent member before
	// it moves its partitions; defaults to 10s.
	SessionTimeout time.Duration
	// StallTimeout is how long a partition with unread messages may get
	// none before it is logged at Warn and counted as stalled; defaults
	// to 1m, negative disables the check.
	StallTimeout time.Duration
	// Retention is how long, in event time, a shipment stays in memory after
	// its last event; defaults to analytics.DefaultRetention (30 days once
	// closed, 90 days otherwise).
	Retention analytics.Retention
	Now       func() time.Time // clock that bounds future timestamps; defaults to time.Now
	Log       *slog.Logger     // defaults to slog.Default()
	// OnCommit, if set, is called after offsets of a partition are committed,
	// with the next offset to read. It must not block.
	OnCommit func(partition int, next int64)
	// ETA configures the delivery predictions, made when the Sink is also
	// an ETASink.
	ETA ETAConfig
	// Alerts configures alert rules and customer notifications, made when
	// the Sink is also an AlertSink.
	Alerts AlertsConfig
	// OnRetry, if set, is called before each retry of a failed storage or
	// DLQ write, with what failed and the error. It must not block.
	OnRetry func(what string, attempt int, err error)
}

func (c Config) withDefaults() Config {
	if c.Topic == "" {
		c.Topic = schemas.EventsTopic
	}
	if c.Group == "" {
		c.Group = "shiplens-processor"
	}
	if c.DLQTopic == "" {
		c.DLQTopic = schemas.DLQTopic
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = 500 * time.Millisecond
	}
	if c.FlushSize <= 0 {
		c.FlushSize = 50000
	}
	if c.WriteDelay <= 0 {
		c.WriteDelay = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 10 * time.Second
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 10 * time.Second
	}
	if c.StallTimeout == 0 {
		c.StallTimeout = time.Minute
	}
	if c.Retention.Closed <= 0 {
		c.Retention.Closed = analytics.DefaultRetention.Closed
	}
	if c.Retention.Lost == 0 {
		c.Retention.Lost = analytics.DefaultRetention.Lost
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	c.ETA = c.ETA.withDefaults()
	if !c.Alerts.Disabled {
		c.Alerts = c.Alerts.withDefaults()
	}
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("invalid processor config: no Kafka brokers")
	}
	c = c.withDefaults()
	if c.Topic == c.DLQTopic {
		return fmt.Errorf("invalid processor config: the DLQ topic must differ from the input topic %s", c.Topic)
	}
	return nil
}

// Processor consumes the event stream as one member of a consumer group.
type Processor struct {
	cfg     Config
	sink    Sink
	dlq     *dlq.Writer
	writer  *writer
	metrics *Metrics
	etaSink ETASink  // nil: no predictions
	learner *learner // nil: no predictions

	alertSink               AlertSink // nil: no alerts
	statsSink               StatsSink // nil: no pipeline figures
	stats                   chan analytics.FlushStat
	name                    string
	alertWriter, noteWriter *kafka.Writer // nil: no alerts

	failOnce sync.Once
	failErr  error
	cancel   context.CancelFunc
}

// New returns a processor that writes to sink.
func New(cfg Config, sink Sink) (*Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	p := &Processor{
		cfg:     cfg,
		sink:    sink,
		metrics: newMetrics(),
		dlq:     dlq.NewWriter(cfg.Brokers, cfg.DLQTopic),
	}
	p.writer = &writer{p: p, reqs: make(chan *writeReq)}
	if es, ok := sink.(ETASink); ok && !cfg.ETA.Disabled {
		p.etaSink = es
		p.learner = newLearner(p, es, cfg.ETA)
	}
	if ss, ok := sink.(StatsSink); ok {
		p.statsSink, p.stats, p.name = ss, make(chan analytics.FlushStat, 4096), processName()
	}
	if as, ok := sink.(AlertSink); ok && !cfg.Alerts.Disabled {
		p.alertSink = as
		p.alertWriter = newRecordWriter(cfg.Brokers, cfg.Alerts.Topic)
		p.noteWriter = newRecordWriter(cfg.Brokers, cfg.Alerts.NotificationsTopic)
	}
	return p, nil
}

// Metrics returns the processor's counters.
func (p *Processor) Metrics() *Metrics { return p.metrics }

// Run consumes until ctx is cancelled, then flushes and commits what it holds
// and leaves the group. It returns nil after a clean stop, or the error that
// stopped it (e.g. a permanent sink error).
func (p *Processor) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p.cancel = cancel
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                     p.cfg.Group,
		Brokers:                p.cfg.Brokers,
		Topics:                 []string{p.cfg.Topic},
		StartOffset:            kafka.FirstOffset,
		HeartbeatInterval:      p.cfg.SessionTimeout / 5,
		SessionTimeout:         p.cfg.SessionTimeout,
		RebalanceTimeout:       p.cfg.SessionTimeout * 3,
		JoinGroupBackoff:       500 * time.Millisecond,
		WatchPartitionChanges:  true,
		PartitionWatchInterval: 5 * time.Second,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			p.cfg.Log.Debug("kafka consumer group: " + strings.TrimSpace(fmt.Sprintf(msg, args...)))
		}),
	})
	if err != nil {
		return fmt.Errorf("cannot join consumer group %s: %w", p.cfg.Group, err)
	}
	defer p.dlq.Close()
	if p.alertSink != nil {
		defer p.alertWriter.Close()
		defer p.noteWriter.Close()
		if err := p.ensureAlertTopics(ctx); err != nil {
			return fmt.Errorf("cannot start: %w", err)
		}
	}
	if p.learner != nil {
		// Before any owner predicts: a restarted processor predicts with the
		// version it stopped with.
		if err := p.learner.load(ctx); err != nil {
			return fmt.Errorf("cannot start: %w", err)
		}
		learnDone := make(chan struct{})
		go func() { defer close(learnDone); p.learner.run(ctx) }()
		defer func() { <-learnDone }()
	}
	if p.statsSink != nil {
		// Outlives the group too, to write the final flushes' figures.
		sctx, stopStats := context.WithCancel(context.WithoutCancel(ctx))
		statsDone := make(chan struct{})
		go func() { defer close(statsDone); p.runStats(sctx) }()
		defer func() { stopStats(); <-statsDone }()
	}
	// The writer outlives the group: owners' final flushes go through it.
	wctx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
	writerDone := make(chan struct{})
	go func() { defer close(writerDone); p.writer.run(wctx) }()
	defer func() { stopWriter(); <-writerDone }()
	// Closing the group ends the current generation, whose owners flush and
	// commit before Close returns.
	stop := context.AfterFunc(ctx, func() { group.Close() })
	defer stop()
	defer group.Close()
	for {
		gen, err := group.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				group.Close()
				return p.failErr
			}
			p.cfg.Log.Warn("consumer group generation failed; rejoining", "group", p.cfg.Group, "err", err)
			continue
		}
		assigned := gen.Assignments[p.cfg.Topic]
		ids := make([]int, 0, len(assigned))
		for _, a := range assigned {
			ids = append(ids, a.ID)
		}
		p.cfg.Log.Info("partitions assigned", "group", p.cfg.Group, "generation", gen.ID, "partitions", ids)
		for _, a := range assigned {
			o := newOwner(p, gen, a.ID, a.Offset)
			gen.Start(func(gctx context.Context) { o.run(ctx, gctx) })
		}
	}
}

// fail stops the processor with err; the first error wins.
func (p *Processor) fail(err error) {
	p.failOnce.Do(func() {
		p.failErr = err
		p.cfg.Log.Error("processor stopping", "err", err)
		if p.cancel != nil {
			p.cancel()
		}
	})
}
