package notify

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sourcegraph/conc"
	"golang.org/x/time/rate"

	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/dlq"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/internal/retry"
	"github.com/shiplens/shiplens/schemas"
)

// Channel is how a destination is reached.
type Channel string

// The channels.
const (
	ChannelWebhook Channel = "webhook"
	ChannelEmail   Channel = "email"
)

// Reasons of the dead letters the notifier writes, besides those of
// records that do not parse (schemas.ReasonMalformed, schemas.ReasonMissingField).
const (
	ReasonUndeliverable schemas.Reason = "undeliverable" // every attempt failed (network, 5xx, 408, 429, SMTP 4xx)
	ReasonRefused       schemas.Reason = "refused"       // refused for good: HTTP 4xx other than 408 and 429, 3xx, SMTP 5xx
)

// SourcePrefix starts the source of the notifier's dead letters:
// notify/<channel>/<destination>, or notify for a record that no
// destination could parse.
const SourcePrefix = "notify"

func (c Config) withDefaults() Config {
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.AlertsTopic == "" {
		c.AlertsTopic = alerts.AlertsTopic
	}
	if c.NotificationsTopic == "" {
		c.NotificationsTopic = alerts.NotificationsTopic
	}
	if c.DeadTopic == "" {
		c.DeadTopic = alerts.DeadTopic
	}
	c.Delivery = c.Delivery.withDefaults()
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.HTTPClient == nil {
		c.HTTPClient = defaultHTTPClient()
	}
	c.Webhooks = append([]Webhook(nil), c.Webhooks...)
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		if w.Rate <= 0 {
			w.Rate = 10
		}
		if w.Burst <= 0 {
			w.Burst = 10
		}
	}
	if c.Email != nil {
		e := *c.Email
		if e.TLS == "" {
			e.TLS = TLSAuto
		}
		if e.Rate <= 0 {
			e.Rate = 10
		}
		if e.Burst <= 0 {
			e.Burst = 10
		}
		if e.MessageIDDomain == "" {
			_, e.MessageIDDomain, _ = strings.Cut(e.From.Address, "@")
		}
		c.Email = &e
	}
	return c
}

// Validate reports the first problem of a configuration built in code;
// LoadConfig checks the same with file lines.
func (c Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("invalid notify config: no Kafka brokers")
	}
	if len(c.Webhooks) == 0 && c.Email == nil {
		return errors.New("invalid notify config: no destination: configure at least one webhook or email")
	}
	d := c.withDefaults()
	if d.DeadTopic == d.AlertsTopic || d.DeadTopic == d.NotificationsTopic || d.AlertsTopic == d.NotificationsTopic {
		return fmt.Errorf("invalid notify config: the alerts (%s), notifications (%s) and dead-letter (%s) topics must differ", d.AlertsTopic, d.NotificationsTopic, d.DeadTopic)
	}
	names := map[string]bool{}
	for _, w := range c.Webhooks {
		if !namePattern.MatchString(w.Name) || names[w.Name] {
			return fmt.Errorf("invalid notify config: webhook name %q is empty, used twice or not lower-case letters, digits, '.', '_' or '-'", w.Name)
		}
		names[w.Name] = true
		if w.Merchant == "" {
			return fmt.Errorf("invalid notify config: webhook %s has no merchant (a merchant id, or \"*\")", w.Name)
		}
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("invalid notify config: webhook %s: url %q is not an absolute http or https URL", w.Name, w.URL)
		}
		if len(w.Secret) == 0 {
			return fmt.Errorf("invalid notify config: webhook %s has no secret", w.Name)
		}
	}
	if e := c.Email; e != nil {
		if e.Addr == "" || e.From.Address == "" {
			return errors.New("invalid notify config: email needs the SMTP relay's host:port and a From address")
		}
		if len(e.AlertsTo) == 0 && len(e.MerchantAlert) == 0 && e.Contacts == nil {
			return errors.New("invalid notify config: email has nothing to send: give alert recipients or contacts")
		}
	}
	return nil
}

// target is what a destination does: which records it takes and how one
// attempt sends one. skip, when a record is not taken, names a reason worth
// counting (a customer without an address).
type target interface {
	accepts(r *record) (ok bool, skip string)
	send(ctx context.Context, r *record) error
}

// dest is one destination with its rate limit and its workers' queues.
type dest struct {
	channel Channel
	name    string
	source  string // of its dead letters
	target  target
	limit   *rate.Limiter // may be shared with another destination
	lanes   []chan *job
}

// job is one record for one destination.
type job struct {
	rec   *record
	entry *entry
	t     *tracker
	// ctx ends when the partition gave the record up (revoked and drained):
	// the job is dropped, neither delivered nor finished.
	ctx context.Context
}

// Notifier consumes alerts and notifications as one member of a consumer
// group and delivers them (see the package documentation).
type Notifier struct {
	cfg     Config
	dests   []*dest
	dead    *dlq.Writer
	seen    *seen
	metrics *Metrics
	log     *slog.Logger

	failOnce sync.Once
	failErr  error
	cancel   context.CancelFunc
}

// New returns a notifier for cfg; Run starts it.
func New(cfg Config) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	n := &Notifier{cfg: cfg, metrics: newMetrics(), seen: newSeen(cfg.Delivery.DedupSize), log: cfg.Log,
		dead: dlq.NewWriter(cfg.Brokers, cfg.DeadTopic)}
	for _, w := range cfg.Webhooks {
		n.add(ChannelWebhook, w.Name, newWebhook(w, cfg.HTTPClient), rate.NewLimiter(rate.Limit(w.Rate), w.Burst))
	}
	if e := cfg.Email; e != nil {
		m := newMailer(e)
		limit := rate.NewLimiter(rate.Limit(e.Rate), e.Burst)
		if len(e.AlertsTo) > 0 || len(e.MerchantAlert) > 0 {
			n.add(ChannelEmail, "alerts", alertMail{m}, limit)
		}
		if e.Contacts != nil {
			e.Contacts.log = cfg.Log
			n.add(ChannelEmail, "customers", customerMail{m}, limit)
		}
	}
	return n, nil
}

func (n *Notifier) add(c Channel, name string, t target, limit *rate.Limiter) {
	d := &dest{channel: c, name: name, source: SourcePrefix + "/" + string(c) + "/" + name, target: t, limit: limit}
	for range n.cfg.Delivery.Workers {
		d.lanes = append(d.lanes, make(chan *job, n.cfg.Delivery.Queue))
	}
	n.dests = append(n.dests, d)
}

// Metrics returns the notifier's counters.
func (n *Notifier) Metrics() *Metrics { return n.metrics }

// Destinations returns the destinations' names, as channel/name.
func (n *Notifier) Destinations() []string {
	out := make([]string, len(n.dests))
	for i, d := range n.dests {
		out[i] = string(d.channel) + "/" + d.name
	}
	return out
}

// Run consumes until ctx is cancelled or a fatal error, then lets the
// records in flight finish (up to Delivery.DrainTimeout), commits and leaves
// the group. It returns nil after a clean stop. Call it once.
func (n *Notifier) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n.cancel = cancel
	defer n.dead.Close()
	if err := n.ensureTopics(ctx); err != nil {
		return err
	}
	start := kafka.FirstOffset
	if n.cfg.StartAtEnd {
		start = kafka.LastOffset
	}
	const session = 10 * time.Second
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                     n.cfg.Group,
		Brokers:                n.cfg.Brokers,
		Topics:                 []string{n.cfg.AlertsTopic, n.cfg.NotificationsTopic},
		StartOffset:            start,
		HeartbeatInterval:      session / 5,
		SessionTimeout:         session,
		RebalanceTimeout:       n.cfg.Delivery.DrainTimeout + session,
		JoinGroupBackoff:       500 * time.Millisecond,
		WatchPartitionChanges:  true,
		PartitionWatchInterval: 5 * time.Second,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			n.log.Debug("kafka consumer group: " + strings.TrimSpace(fmt.Sprintf(msg, args...)))
		}),
	})
	if err != nil {
		return fmt.Errorf("cannot join consumer group %s: %w", n.cfg.Group, err)
	}
	var workers conc.WaitGroup
	for _, d := range n.dests {
		for _, lane := range d.lanes {
			workers.Go(func() {
				for j := range lane {
					n.handle(d, j)
				}
			})
		}
	}
	// Closing the group ends the current generation and waits for its
	// owners, which drain and commit first.
	stop := context.AfterFunc(ctx, func() { group.Close() })
	for {
		gen, err := group.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				break
			}
			n.log.Warn("consumer group generation failed; rejoining", "group", n.cfg.Group, "err", err)
			continue
		}
		for _, topic := range []string{n.cfg.AlertsTopic, n.cfg.NotificationsTopic} {
			kind := AlertRecord
			if topic == n.cfg.NotificationsTopic {
				kind = NotificationRecord
			}
			ids := make([]int, 0, len(gen.Assignments[topic]))
			for _, a := range gen.Assignments[topic] {
				ids = append(ids, a.ID)
				gen.Start(func(gctx context.Context) { n.own(ctx, gctx, gen, kind, topic, a.ID, a.Offset) })
			}
			n.log.Info("partitions assigned", "group", n.cfg.Group, "generation", gen.ID, "topic", topic, "partitions", ids)
		}
	}
	stop()
	group.Close()
	// No owner is left to queue jobs; what is queued was given up.
	for _, d := range n.dests {
		for _, lane := range d.lanes {
			close(lane)
		}
	}
	workers.Wait()
	return n.failErr
}

// ensureTopics creates the topics that do not exist yet, so that joining
// the group does not leave it to the broker's auto-creation: the inputs with
// as many partitions as the events topic, as the processor creates them, so
// whichever starts first makes them alike; the dead-letter topic with the
// default count.
func (n *Notifier) ensureTopics(ctx context.Context) error {
	parts := kafkaadmin.DefaultPartitions
	if ids, err := kafkaadmin.Partitions(ctx, n.cfg.Brokers, schemas.EventsTopic); err == nil && len(ids) > 0 {
		parts = len(ids)
	}
	if err := kafkaadmin.EnsureTopics(ctx, n.cfg.Brokers, parts, n.cfg.AlertsTopic, n.cfg.NotificationsTopic); err != nil {
		return err
	}
	return kafkaadmin.EnsureTopics(ctx, n.cfg.Brokers, 0, n.cfg.DeadTopic)
}

// fail stops the notifier with err; the first error wins.
func (n *Notifier) fail(err error) {
	n.failOnce.Do(func() {
		n.failErr = err
		n.log.Error("notifier stopping", "err", err)
		if n.cancel != nil {
			n.cancel()
		}
	})
}

// own reads one partition for one generation: it hands each record to the
// destinations that take it and commits the offsets of the records that
// every one of them has finished with, in order. When the generation ends it
// waits up to DrainTimeout for the records in flight, commits, and gives up
// the rest, which the partition's next owner reads again.
func (n *Notifier) own(ctx, gctx context.Context, gen *kafka.Generation, kind Kind, topic string, partition int, offset int64) {
	jctx, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()
	t := newTracker()
	defer func() { n.metrics.inFlight.Add(-int64(t.len())) }()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        n.cfg.Brokers,
		Topic:          topic,
		Partition:      partition,
		MinBytes:       1,
		MaxBytes:       1 << 20,
		MaxWait:        500 * time.Millisecond,
		ReadBackoffMin: 50 * time.Millisecond,
		ReadBackoffMax: time.Second,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			if gctx.Err() == nil {
				n.log.Warn("kafka reader error; it retries the fetch", "topic", topic, "partition", partition, "err", strings.TrimSpace(fmt.Sprintf(msg, args...)))
			}
		}),
	})
	defer r.Close()
	if err := r.SetOffset(offset); err != nil {
		n.fail(fmt.Errorf("cannot seek %s/%d to %d: %w", topic, partition, offset, err))
		return
	}
	msgs := make(chan kafka.Message, 64)
	fetchCtx, stopFetch := context.WithCancel(gctx)
	fetchDone := make(chan struct{})
	go func() {
		defer close(fetchDone)
		defer close(msgs)
		for {
			m, err := r.FetchMessage(fetchCtx)
			if err != nil {
				if fetchCtx.Err() == nil {
					n.fail(fmt.Errorf("cannot read %s/%d: %w", topic, partition, err))
				}
				return
			}
			select {
			case msgs <- m:
			case <-fetchCtx.Done():
				return
			}
		}
	}()

	next, committed := int64(-1), int64(-1)
	commit := func() {
		if next <= committed {
			return
		}
		if err := gen.CommitOffsets(map[string]map[int]int64{topic: {partition: next}}); err != nil {
			// A lost commit only means the records are read again, and
			// the destinations that had them skip them as duplicates.
			n.metrics.commitErrors.Add(1)
			n.log.Warn("cannot commit offset; the records will be read again", "topic", topic, "partition", partition, "offset", next, "err", err)
			return
		}
		committed = next
	}
	advance := func() {
		if o, popped := t.advance(); popped > 0 {
			next = o
			n.metrics.inFlight.Add(-int64(popped))
		}
	}
	tick := time.NewTicker(n.cfg.Delivery.CommitInterval)
	defer tick.Stop()
read:
	for {
		in := msgs
		if t.len() >= n.cfg.Delivery.MaxInFlight {
			in = nil // wait for deliveries before reading more
		}
		select {
		case m, ok := <-in:
			if !ok || !n.dispatch(gctx, jctx, kind, &m, t) {
				break read
			}
		case <-t.wake:
			advance()
		case <-tick.C:
			advance()
			commit()
		case <-gctx.Done():
			break read
		}
	}
	stopFetch()
	<-fetchDone
	drain := time.NewTimer(n.cfg.Delivery.DrainTimeout)
	defer drain.Stop()
	for advance(); t.len() > 0; advance() {
		select {
		case <-t.wake:
		case <-tick.C:
			commit()
		case <-drain.C:
			n.log.Warn("partition released with records still in flight; its next owner delivers them again", "topic", topic, "partition", partition, "records", t.len())
			commit()
			return
		}
	}
	commit()
}

// dispatch hands a record to the destinations that take it. It returns false
// when the generation ended first.
func (n *Notifier) dispatch(gctx, jctx context.Context, kind Kind, m *kafka.Message, t *tracker) bool {
	n.metrics.read(m.Topic)
	rec, err := decode(kind, m)
	if err != nil {
		e := t.add(m.Offset, 1)
		n.metrics.inFlight.Add(1)
		letter := dlq.FromMessage(m, m.Topic, SourcePrefix, err)
		n.log.Warn("record does not parse; dead-lettered", "topic", m.Topic, "partition", m.Partition, "offset", m.Offset, "err", err)
		if err := retry.Do(gctx, retry.Policy{Initial: 100 * time.Millisecond, Max: 10 * time.Second}, func(ctx context.Context) error {
			return n.dead.Write(ctx, letter)
		}); err != nil {
			return false
		}
		n.metrics.add3(n.metrics.dead, "none", "none", string(letter.Reason))
		t.finish(e)
		return true
	}
	var to []*dest
	for _, d := range n.dests {
		ok, skip := d.target.accepts(rec)
		switch {
		case ok:
			to = append(to, d)
		case skip != "":
			n.metrics.add3(n.metrics.skipped, string(d.channel), d.name, skip)
		}
	}
	e := t.add(m.Offset, len(to))
	n.metrics.inFlight.Add(1)
	for _, d := range to {
		lane := d.lanes[laneOf(rec.TrackingNumber, len(d.lanes))]
		select {
		case lane <- &job{rec: rec, entry: e, t: t, ctx: jctx}:
		case <-gctx.Done():
			return false
		}
	}
	return true
}

// laneOf picks a destination's worker for a shipment: one shipment, one
// worker, so its records reach the destination in order.
func laneOf(trackingNumber string, lanes int) int {
	h := fnv.New32a()
	h.Write([]byte(trackingNumber))
	return int(h.Sum32() % uint32(lanes))
}

// handle delivers one record to one destination with retries, or puts it on
// the dead-letter topic, and then marks it finished there.
func (n *Notifier) handle(d *dest, j *job) {
	if j.ctx.Err() != nil {
		return
	}
	rec := j.rec
	key := d.source + "\x00" + string(rec.Kind) + "\x00" + rec.ID
	if n.seen.has(key) {
		n.metrics.add2(n.metrics.duplicates, d)
		j.t.finish(j.entry)
		return
	}
	p := retry.Policy{
		Initial: n.cfg.Delivery.InitialBackoff, Max: n.cfg.Delivery.MaxBackoff, MaxAttempts: n.cfg.Delivery.MaxAttempts,
		Jitter: 1, // full jitter: each wait is uniform in [0, backoff]
		OnRetry: func(attempt int, wait time.Duration, err error) {
			n.metrics.add2(n.metrics.retried, d)
			n.log.Debug("delivery failed; retrying", "destination", d.source, "id", rec.ID, "attempt", attempt, "wait", wait, "err", err)
		},
	}
	err := retry.Do(j.ctx, p, func(ctx context.Context) error {
		began := time.Now()
		if err := d.limit.Wait(ctx); err != nil {
			return err
		}
		if w := time.Since(began); w > time.Millisecond {
			n.metrics.waited(d, w)
		}
		actx, cancel := context.WithTimeout(ctx, n.cfg.Delivery.Timeout)
		defer cancel()
		return d.target.send(actx, rec)
	})
	if err == nil {
		n.metrics.add2(n.metrics.delivered, d)
		n.seen.add(key)
		j.t.finish(j.entry)
		return
	}
	if j.ctx.Err() != nil {
		return // given up to the partition's next owner
	}
	reason := ReasonUndeliverable
	if retry.IsPermanent(err) {
		reason = ReasonRefused
	}
	letter := dlq.Letter{Key: rec.Key, Value: rec.Raw, Reason: reason, Error: err.Error(), Source: d.source,
		Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, At: time.Now().UTC()}
	if err := retry.Do(j.ctx, retry.Policy{Initial: 100 * time.Millisecond, Max: 10 * time.Second}, func(ctx context.Context) error {
		return n.dead.Write(ctx, letter)
	}); err != nil {
		return
	}
	n.metrics.add3(n.metrics.dead, string(d.channel), d.name, string(reason))
	n.log.Warn("record dead-lettered", "destination", d.source, "kind", rec.Kind, "id", rec.ID, "reason", reason, "err", err)
	n.seen.add(key)
	j.t.finish(j.entry)
}

// tracker holds a partition's records in flight, in offset order, and says
// up to where they are finished.
type tracker struct {
	mu      sync.Mutex
	entries []*entry
	wake    chan struct{} // signalled when a record finishes
}

// entry is one record in flight: left counts the destinations that have
// not finished with it.
type entry struct {
	offset int64
	left   int
}

func newTracker() *tracker { return &tracker{wake: make(chan struct{}, 1)} }

// add appends the record at offset, expected by n destinations.
func (t *tracker) add(offset int64, n int) *entry {
	e := &entry{offset: offset, left: n}
	t.mu.Lock()
	t.entries = append(t.entries, e)
	t.mu.Unlock()
	if n == 0 {
		t.signal()
	}
	return e
}

// finish records that one destination finished with e.
func (t *tracker) finish(e *entry) {
	t.mu.Lock()
	e.left--
	done := e.left == 0
	t.mu.Unlock()
	if done {
		t.signal()
	}
}

func (t *tracker) signal() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// advance drops the finished records at the front and returns the offset to
// commit (the one after the last dropped) and how many it dropped.
func (t *tracker) advance() (next int64, popped int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for popped < len(t.entries) && t.entries[popped].left == 0 {
		next = t.entries[popped].offset + 1
		popped++
	}
	if popped > 0 {
		clear(t.entries[:popped])
		t.entries = t.entries[popped:]
	}
	return next, popped
}

func (t *tracker) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}
