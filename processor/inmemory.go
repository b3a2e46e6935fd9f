package processor

import (
	"context"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/schemas"
)

// InMemory is one partition owner's work without Kafka and ClickHouse:
// decode, shipment state, daily aggregates, predictions and alert timers,
// exactly as a partition owner does them, with flushes that build the
// records of a write and then drop them. It is for the benchmark suite
// (shiplens bench) and Go benchmarks, not for production: it is not safe
// for concurrent use, and what it computes goes nowhere.
type InMemory struct {
	o         *owner
	flushSize int
	since     int // events since the last flush
	ctx       context.Context
}

// InMemoryConfig says which parts of the work an InMemory does.
type InMemoryConfig struct {
	// Model is the ETA model predictions come from; nil turns predictions
	// off. TrainModel learns one from a workload.
	Model *eta.Model
	// Alerts turns the alert engine (rules, timers, notifications) on.
	Alerts bool
	// Rules are the alert rules; nil: the default rules.
	Rules *alerts.Rules
	// FlushSize is the number of changed shipments, or of events, after
	// which a flush builds the write; the default is the processor's.
	FlushSize int
	// Now is the wall clock (default time.Now), for the freshness checks
	// of the events.
	Now func() time.Time
}

// NewInMemory returns an owner of one partition, holding no shipment.
func NewInMemory(c InMemoryConfig) *InMemory {
	cfg := Config{Now: c.Now, Alerts: AlertsConfig{Rules: c.Rules}}.withDefaults()
	p := &Processor{cfg: cfg, metrics: newMetrics()}
	if c.Model != nil {
		p.learner = newLearner(p, nil, p.cfg.ETA)
		p.learner.set(c.Model, true)
	}
	if c.Alerts {
		p.alertSink = discardAlerts{}
	}
	o := newOwner(p, nil, 0, 0)
	o.alerts = newAlertOwner(o)
	size := c.FlushSize
	if size <= 0 {
		size = cfg.FlushSize
	}
	return &InMemory{o: o, flushSize: size, ctx: context.Background()}
}

// Handle processes one Kafka message of the events topic, and flushes when
// FlushSize shipments changed or FlushSize events arrived since the last.
func (m *InMemory) Handle(msg *kafka.Message) {
	m.o.handle(m.ctx, msg)
	m.since++
	if m.o.part.Changed() >= m.flushSize || m.since >= m.flushSize {
		m.Flush()
	}
}

// Flush builds what a flush would write (facts, aggregates, predictions,
// alerts and notifications) and forgets it.
func (m *InMemory) Flush() {
	o := m.o
	m.since = 0
	o.part.Pending(0)
	o.part.Written()
	if o.eta != nil {
		o.eta.take(&writeReq{}, o.part.Watermark())
	}
	if o.alerts != nil {
		o.alerts.e.Take()
	}
}

// Partition is the state the owner holds.
func (m *InMemory) Partition() *analytics.Partition { return m.o.part }

// Processed returns the number of messages handled and of them the number
// that changed a shipment.
func (m *InMemory) Processed() (consumed, applied int64) {
	s := m.o.p.metrics.Snapshot()
	return s.Consumed, s.Applied
}

// TrainModel returns an ETA model that learned every delivery of events, so
// that predictions take the learned path, not the cold start.
func TrainModel(events []schemas.Event) *eta.Model {
	byTN := map[string][]schemas.Event{}
	for _, e := range events {
		byTN[e.TrackingNumber] = append(byTN[e.TrackingNumber], e)
	}
	var ds []eta.Delivery
	last := uint32(0)
	for tn, evs := range byTN {
		slices.SortFunc(evs, func(a, b schemas.Event) int { return a.OccurredAt.Compare(b.OccurredAt) })
		var s analytics.Shipment
		var visits []eta.Visit
		for i := range evs {
			s.Apply(&evs[i])
			if s.Delivered() {
				ds = append(ds, eta.Delivery{TrackingNumber: tn, Carrier: s.Carrier(), Service: s.Service(), Lane: s.Lane(),
					Start: s.Start(), DeliveredAt: s.DeliveredAt, Visits: visits})
				last = max(last, s.DeliveredAt)
				break
			}
			visits = append(visits, eta.Visit{At: s.LastAt, Milestone: eta.MilestoneOf(&s)})
		}
	}
	m := eta.New(eta.Config{})
	m.Learn(ds, nil, last-last%86400+86400)
	return m
}

// discardAlerts is the alert sink of an InMemory: it stores nothing and
// restores nothing.
type discardAlerts struct{}

func (discardAlerts) WriteAlerts(context.Context, []alerts.Alert) error               { return nil }
func (discardAlerts) WriteNotifications(context.Context, []alerts.Notification) error { return nil }
func (discardAlerts) OpenAlerts(context.Context, int, func(alerts.Alert)) error       { return nil }
func (discardAlerts) Notified(context.Context, int, time.Time, func(alerts.Notification)) error {
	return nil
}
