package processor

import (
	"context"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sourcegraph/conc/pool"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/schemas"
)

// AlertSink stores alert transitions and customer notifications, and gives
// back what a partition's owner must remember of them. A Sink that
// implements it turns alerts on (unless Config.Alerts.Disabled);
// *store.Store does.
type AlertSink interface {
	WriteAlerts(ctx context.Context, as []alerts.Alert) error
	WriteNotifications(ctx context.Context, ns []alerts.Notification) error
	// OpenAlerts calls fn with the latest transition of every alert of
	// partition that is open.
	OpenAlerts(ctx context.Context, partition int, fn func(alerts.Alert)) error
	// Notified calls fn with the notifications of partition that occurred
	// at or after since.
	Notified(ctx context.Context, partition int, since time.Time, fn func(alerts.Notification)) error
}

// AlertsConfig configures alerts and customer notifications.
type AlertsConfig struct {
	Disabled bool
	Rules    *alerts.Rules   // defaults to alerts.DefaultRules
	Render   alerts.Renderer // defaults to alerts.NewRenderer(Rules)
	// Topic and NotificationsTopic default to alerts.AlertsTopic and
	// alerts.NotificationsTopic.
	Topic, NotificationsTopic string
}

func (c AlertsConfig) withDefaults() AlertsConfig {
	if c.Rules == nil {
		r, err := alerts.ParseRules(alerts.DefaultRules)
		if err != nil {
			panic(err) // the embedded default is tested
		}
		c.Rules = r
	}
	if c.Render == nil {
		c.Render = alerts.NewRenderer(c.Rules)
	}
	if c.Topic == "" {
		c.Topic = alerts.AlertsTopic
	}
	if c.NotificationsTopic == "" {
		c.NotificationsTopic = alerts.NotificationsTopic
	}
	return c
}

func newRecordWriter(brokers []string, topic string) *kafka.Writer {
	return &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     partitionBalancer{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond,
		BatchSize:    1000,
		MaxAttempts:  3,
	}
}

// ensureAlertTopics creates the output topics with as many partitions as
// the events topic, so that each events partition has its own (see
// publisher).
func (p *Processor) ensureAlertTopics(ctx context.Context) error {
	n := kafkaadmin.DefaultPartitions
	if parts, err := kafkaadmin.Partitions(ctx, p.cfg.Brokers, p.cfg.Topic); err == nil && len(parts) > 0 {
		n = len(parts)
	}
	if err := kafkaadmin.EnsureTopics(ctx, p.cfg.Brokers, n, p.cfg.Alerts.Topic, p.cfg.Alerts.NotificationsTopic); err != nil {
		return err
	}
	for _, t := range []string{p.cfg.Alerts.Topic, p.cfg.Alerts.NotificationsTopic} {
		if parts, err := kafkaadmin.Partitions(ctx, p.cfg.Brokers, t); err == nil && len(parts) < n {
			p.cfg.Log.Warn("an output topic has fewer partitions than the events topic: partitions share one, and a restart reads further back to avoid publishing twice",
				"topic", t, "partitions", len(parts), "events_partitions", n)
		}
	}
	return nil
}

// alertOwner is an owner's side of alerts and notifications.
type alertOwner struct {
	e       *alerts.Engine
	pub     *publisher
	pending alerts.Out // taken from the engine; published by publish, then stored
	held    [2]int64   // open alerts and timers counted in the gauges
}

func newAlertOwner(o *owner) *alertOwner {
	if o.p.alertSink == nil {
		return nil
	}
	cfg := o.p.cfg.Alerts
	return &alertOwner{e: alerts.NewEngine(cfg.Rules, o.partition, o.part, cfg.Render), pub: newPublisher(o.p, o.partition, o.start)}
}

// restore puts back what the partition's alerts and notifications were
// when it was last written: the open alerts, what each customer was told,
// and every shipment's timer.
func (a *alertOwner) restore(ctx context.Context, o *owner) error {
	var open []alerts.Alert
	var told []alerts.Notification
	err := o.p.retry(ctx, "restore alerts", func(ctx context.Context) error {
		open, told = open[:0], told[:0]
		if err := o.p.alertSink.OpenAlerts(ctx, o.partition, func(al alerts.Alert) { open = append(open, al) }); err != nil {
			return err
		}
		since := time.Time{}
		if r := o.p.cfg.Retention.Lost; r > 0 {
			since = time.Unix(int64(o.part.Watermark()), 0).Add(-r)
		}
		return o.p.alertSink.Notified(ctx, o.partition, since, func(n alerts.Notification) { told = append(told, n) })
	})
	if err != nil {
		return err
	}
	w := o.part.Watermark()
	for _, al := range open {
		a.e.Restore(al, w)
	}
	slices.SortStableFunc(told, func(x, y alerts.Notification) int {
		if c := x.OccurredAt.Compare(y.OccurredAt); c != 0 {
			return c
		}
		return x.ETA.Compare(y.ETA)
	})
	for _, n := range told {
		a.e.RestoreNotified(n)
	}
	o.part.Each(func(tn string, _ *analytics.Shipment, _ *analytics.Memo) {
		a.e.MarkReached(tn)
		a.e.Schedule(tn, w)
	})
	a.gauges(o.p.metrics)
	return nil
}

// observe evaluates the rules after message offset changed shipment tn
// with ev; pred is the prediction made after it (nil: none), before and w
// the watermark before and after.
func (a *alertOwner) observe(o *owner, offset int64, tn string, ev *schemas.Event, pred *eta.Prediction, before, w uint32) {
	a.e.At(offset)
	if o.eta != nil {
		a.e.UseModel(o.eta.pred.Model())
	}
	a.e.Observe(tn, ev, pred, w)
	if w != before {
		a.e.Advance(w)
	}
}

// take moves what the engine made into the records waiting to be
// published.
func (a *alertOwner) take() {
	out := a.e.Take()
	p := &a.pending
	p.Alerts, p.AlertOffsets = append(p.Alerts, out.Alerts...), append(p.AlertOffsets, out.AlertOffsets...)
	p.Notes, p.NoteOffsets = append(p.Notes, out.Notes...), append(p.NoteOffsets, out.NoteOffsets...)
	p.Opened += out.Opened
}

// publish publishes the pending records; into then moves them into the
// write that stores them.
func (a *alertOwner) publish(ctx context.Context, o *owner) bool {
	a.take()
	if err := a.pub.publish(ctx, &a.pending); err != nil {
		return false
	}
	o.p.metrics.alertsOpened.Add(int64(a.pending.Opened))
	a.pending.Opened = 0
	a.gauges(o.p.metrics)
	return true
}

func (a *alertOwner) into(r *writeReq) {
	r.alerts, r.notes = a.pending.Alerts, a.pending.Notes
	a.pending = alerts.Out{}
}

func (a *alertOwner) gauges(m *Metrics) {
	n := [2]int64{int64(a.e.OpenAlerts()), int64(a.e.Timers())}
	m.openAlerts.Add(n[0] - a.held[0])
	m.timers.Add(n[1] - a.held[1])
	a.held = n
}

func (a *alertOwner) release(m *Metrics) {
	m.openAlerts.Add(-a.held[0])
	m.timers.Add(-a.held[1])
	a.held = [2]int64{}
}

// storeAlerts adds to g the writes of the alert transitions and
// notifications of merged requests.
func (w *writer) storeAlerts(ctx context.Context, g *pool.ErrorPool, reqs []*writeReq) {
	sink := w.p.alertSink
	if sink == nil {
		return
	}
	var as []alerts.Alert
	var ns []alerts.Notification
	for _, r := range reqs {
		as = append(as, r.alerts...)
		ns = append(ns, r.notes...)
	}
	if len(as) > 0 {
		g.Go(func() error {
			return w.p.retry(ctx, "write alerts", func(ctx context.Context) error { return sink.WriteAlerts(ctx, as) })
		})
	}
	if len(ns) > 0 {
		g.Go(func() error {
			return w.p.retry(ctx, "write notifications", func(ctx context.Context) error { return sink.WriteNotifications(ctx, ns) })
		})
	}
}
