package processor_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/internal/reference"
	"github.com/shiplens/shiplens/internal/retry"
	"github.com/shiplens/shiplens/processor"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/store"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// pipeline is one isolated run: an embedded broker and a fresh database.
type pipeline struct {
	t       *testing.T
	brokers []string
	store   *store.Store
	addr    string // ClickHouse native address
	db      string // and database
	ends    map[int]int64
	onRetry func(what string, attempt int, err error) // passed to every processor
	// predict turns ETA predictions on: the tests of the aggregates run
	// without them, which the ETA tests cover, to keep the suite short.
	predict bool
	// fromStorage makes the learner build every model version from
	// storage (processor.ETAConfig.FromStorage).
	fromStorage bool
	// alerts turns alerts and notifications on (alerts_test.go), with
	// these rules (nil: the default).
	alerts bool
	rules  *alerts.Rules
	// sink, when set, is what processors write to instead of store.
	sink processor.Sink
}

func newPipeline(t *testing.T, partitions int) *pipeline {
	t.Helper()
	emb, err := broker.Start(broker.Options{Partitions: partitions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	return newPipelineOn(t, emb)
}

// newPipelineOn is newPipeline on a broker the caller started.
func newPipelineOn(t *testing.T, emb *broker.Embedded) *pipeline {
	t.Helper()
	addr, db := chtest.DB(t)
	cfg := store.Config{Addr: addr, Database: db}
	if _, err := store.Migrate(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	store, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &pipeline{t: t, brokers: emb.Addrs(), store: store, addr: addr, db: db}
}

func portOf(t *testing.T, addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// publish sends raw messages keyed by tracking number, in order, and records
// the end offsets the processor must reach.
func (p *pipeline) publish(msgs []kafka.Message) {
	p.t.Helper()
	// A transport of its own: kafka-go's default one caches topic metadata
	// by address for seconds, and an earlier test's broker may have had
	// this port, with another partition count ("topic partition not
	// found").
	w := &kafka.Writer{Addr: kafka.TCP(p.brokers...), Topic: schemas.EventsTopic, Balancer: &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchSize: 5000, BatchTimeout: 5 * time.Millisecond, Transport: &kafka.Transport{}}
	defer w.Close()
	for i := 0; i < len(msgs); i += 20000 {
		if err := w.WriteMessages(context.Background(), msgs[i:min(i+20000, len(msgs))]...); err != nil {
			p.t.Fatal(kafkaadmin.CondenseWriteError(err))
		}
	}
	// A broker that just restarted (broker_restart_test.go) may refuse to
	// list offsets for a moment after it took the writes.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ends map[int]int64
	err := retry.Do(ctx, retry.Policy{Initial: 50 * time.Millisecond, Max: time.Second}, func(ctx context.Context) error {
		var err error
		ends, err = kafkaadmin.EndOffsets(ctx, p.brokers, schemas.EventsTopic)
		return err
	})
	if err != nil {
		p.t.Fatal(err)
	}
	p.ends = ends
}

// done tracks commits and closes its channel once every partition is
// committed up to its end offset.
type done struct {
	mu   sync.Mutex
	ends map[int]int64
	at   map[int]int64
	ch   chan struct{}
	n    int
}

func newDone(ends map[int]int64) *done {
	d := &done{ends: ends, at: map[int]int64{}, ch: make(chan struct{})}
	d.check()
	return d
}

func (d *done) commit(partition int, next int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	d.at[partition] = next
	d.check()
}

func (d *done) commits() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}

func (d *done) check() {
	select {
	case <-d.ch:
		return
	default:
	}
	for p, end := range d.ends {
		if end > 0 && d.at[p] < end {
			return
		}
	}
	close(d.ch)
}

// processor starts a processor of group that reports commits to d; stop
// cancels it and waits for its final flush.
func (p *pipeline) processor(group string, d *done) (stop func() processor.Snapshot) {
	_, stop = p.processorWith(group, d.commit)
	return stop
}

func (p *pipeline) wait(d *done, what string) {
	p.t.Helper()
	select {
	case <-d.ch:
	case <-time.After(3 * time.Minute):
		p.t.Fatalf("%s: processor did not commit every partition to its end in 3 minutes (%d commits)", what, d.commits())
	}
}

var (
	from = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	to   = time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
)

func (p *pipeline) report() []analytics.ScoreRow {
	p.t.Helper()
	rows, err := p.store.Scorecard(context.Background(), store.ScorecardQuery{From: from, To: to})
	if err != nil {
		p.t.Fatal(err)
	}
	return rows
}

// workload returns generated events as Kafka messages in arrival order.
func workload(t *testing.T, shipments int, seed int64) ([]schemas.Event, []kafka.Message) {
	t.Helper()
	g, err := gen.New(gen.Config{Shipments: shipments, Seed: seed, DisorderRate: 0.1, DuplicateRate: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	events := g.Events()
	msgs := make([]kafka.Message, len(events))
	for i := range events {
		b, err := events[i].Marshal()
		if err != nil {
			t.Fatal(err)
		}
		msgs[i] = kafka.Message{Key: []byte(events[i].TrackingNumber), Value: b}
	}
	return events, msgs
}

// badRecords are rejected inputs with the reason the DLQ must carry.
var badRecords = []struct {
	key, value string
	reason     schemas.Reason
}{
	{"BAD1", `{"event_id":`, schemas.ReasonMalformed},
	{"BAD2", `{"event_id":"x2","tracking_number":"BAD2","carrier":"dhl","status":"teleported","occurred_at":"2026-09-02T00:00:00Z"}`, schemas.ReasonUnknownStatus},
	{"BAD3", `{"event_id":"x3","tracking_number":"BAD3","carrier":"dhl","status":"delivered","occurred_at":"2099-01-01T00:00:00Z"}`, schemas.ReasonFutureTime},
	{"BAD4", `{"event_id":"x4","tracking_number":"BAD4","status":"delivered","occurred_at":"2026-09-02T00:00:00Z"}`, schemas.ReasonMissingField},
	{"BAD5", `{"event_id":"x5","tracking_number":"OTHER","carrier":"dhl","status":"delivered","occurred_at":"2026-09-02T00:00:00Z"}`, schemas.ReasonInvalidField},
}

// TestEndToEnd sends a generated workload with duplicates, disorder and bad
// records through kfake, the processor and ClickHouse, and checks the report
// against a reference computed here from the raw events.
func TestEndToEnd(t *testing.T) {
	events, msgs := workload(t, 5000, 7)
	if len(events) < 50000 {
		t.Fatalf("workload has %d events, want at least 50000", len(events))
	}
	for i, b := range badRecords {
		at := (i + 1) * len(msgs) / (len(badRecords) + 1)
		msgs = append(msgs[:at], append([]kafka.Message{{Key: []byte(b.key), Value: []byte(b.value)}}, msgs[at:]...)...)
	}
	p := newPipeline(t, 4)
	p.publish(msgs)
	d := newDone(p.ends)
	stop := p.processor("e2e", d)
	p.wait(d, "end to end")
	snap := stop()

	want := reference.Scorecard(events, from, to)
	reference.Compare(t, p.report(), want)
	if snap.Consumed < int64(len(msgs)) {
		t.Errorf("consumed %d messages, want %d", snap.Consumed, len(msgs))
	}
	if got := snap.RejectedTotal(); got != int64(len(badRecords)) {
		t.Errorf("rejected %d, want %d (%v)", got, len(badRecords), snap.Rejected)
	}
	if snap.Unchanged == 0 {
		t.Error("no duplicate was recognised as unchanged")
	}

	// The processor's own figures: its flushes cover every message once,
	// and the rejections by reason.
	var flushed, rejected uint64
	var reasons []string
	row := p.store.Conn().QueryRow(context.Background(),
		"SELECT sum(events), sum(rejected), arraySort(groupUniqArrayArray(reasons.reason)) FROM pipeline_stats")
	if err := row.Scan(&flushed, &rejected, &reasons); err != nil {
		t.Fatal(err)
	}
	if flushed != uint64(len(msgs)) || rejected != uint64(len(badRecords)) || len(reasons) != len(badRecords) {
		t.Errorf("pipeline_stats: %d events, %d rejected for %v; want %d, %d, one of each reason", flushed, rejected, reasons, len(msgs), len(badRecords))
	}

	// Every bad record is in the DLQ, once, with its reason and original bytes.
	dlq := readDLQ(t, p.brokers, len(badRecords))
	for _, b := range badRecords {
		m, ok := dlq[b.key]
		if !ok {
			t.Errorf("%s missing from the DLQ", b.key)
			continue
		}
		if string(m.Value) != b.value {
			t.Errorf("%s: DLQ value %q, want the original bytes %q", b.key, m.Value, b.value)
		}
		if r := header(m, "shiplens.reason"); r != string(b.reason) {
			t.Errorf("%s: DLQ reason %q, want %q (error %q)", b.key, r, b.reason, header(m, "shiplens.error"))
		}
	}
}

// TestArrivalOrderDoesNotMatter replays the same events shuffled and with
// more duplicates, and expects the very same report.
func TestArrivalOrderDoesNotMatter(t *testing.T) {
	events, msgs := workload(t, 1500, 11)
	r := rand.New(rand.NewPCG(5, 6))
	shuffled := append([]kafka.Message(nil), msgs...)
	for i := 0; i < len(msgs)/5; i++ {
		shuffled = append(shuffled, msgs[r.IntN(len(msgs))])
	}
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })

	var reports [2][]analytics.ScoreRow
	for i, in := range [][]kafka.Message{msgs, shuffled} {
		p := newPipeline(t, 3)
		p.publish(in)
		d := newDone(p.ends)
		stop := p.processor("order", d)
		p.wait(d, "order "+strconv.Itoa(i))
		stop()
		reports[i] = p.report()
	}
	reference.Compare(t, reports[0], reference.Scorecard(events, from, to))
	if fmt.Sprint(dump(reports[0])) != fmt.Sprint(dump(reports[1])) {
		t.Fatalf("reports differ between arrival orders:\n%v\n%v", dump(reports[0]), dump(reports[1]))
	}
}

// TestRestartMidStream stops a processor after the first half of the stream,
// then lets two new members of the same group (a restart and a rebalance)
// process the second half, whose shipments began in the first. They must
// restore state from ClickHouse to get the same final report, with no double
// counting.
func TestRestartMidStream(t *testing.T) {
	events, msgs := workload(t, 3000, 13)
	p := newPipeline(t, 6)
	half := len(msgs) / 2
	p.publish(msgs[:half])
	first := newDone(p.ends)
	stop1 := p.processor("restart", first)
	p.wait(first, "first half")
	s1 := stop1()

	p.publish(msgs[half:])
	d := newDone(p.ends)
	stop2 := p.processor("restart", d)
	stop3 := p.processor("restart", d)
	p.wait(d, "after restart")
	s2, s3 := stop2(), stop3()
	if s1.Consumed < int64(half) {
		t.Fatalf("first processor consumed %d of %d", s1.Consumed, half)
	}
	if s2.Restored+s3.Restored == 0 {
		t.Error("the restarted processors restored no state from ClickHouse")
	}
	if s2.Consumed+s3.Consumed < int64(len(msgs)-half) {
		t.Errorf("restarted processors consumed %d+%d, want at least the second half (%d)", s2.Consumed, s3.Consumed, len(msgs)-half)
	}
	t.Logf("first run consumed %d; after restart %d+%d consumed, %d+%d shipments restored", s1.Consumed, s2.Consumed, s3.Consumed, s2.Restored, s3.Restored)
	reference.Compare(t, p.report(), reference.Scorecard(events, from, to))
}

func (p *pipeline) processorWith(group string, hook func(int, int64)) (*processor.Processor, func() processor.Snapshot) {
	p.t.Helper()
	proc, err := processor.New(processor.Config{
		Brokers: p.brokers, Group: group, FlushInterval: 100 * time.Millisecond, SessionTimeout: 6 * time.Second,
		Log:      testLog(),
		OnCommit: hook,
		OnRetry:  p.onRetry,
		ETA:      processor.ETAConfig{Disabled: !p.predict, FromStorage: p.fromStorage},
		Alerts:   processor.AlertsConfig{Disabled: !p.alerts, Rules: p.rules},
	}, p.sinkOrStore())
	if err != nil {
		p.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- proc.Run(ctx) }()
	var once sync.Once
	var snap processor.Snapshot
	stop := func() processor.Snapshot {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				p.t.Errorf("processor %s: %v", group, err)
			}
			snap = proc.Metrics().Snapshot()
		})
		return snap
	}
	p.t.Cleanup(func() { stop() })
	return proc, stop
}

func readDLQ(t *testing.T, brokers []string, want int) map[string]kafka.Message {
	t.Helper()
	ends, err := kafkaadmin.EndOffsets(context.Background(), brokers, schemas.DLQTopic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]kafka.Message{}
	total := 0
	for part, end := range ends {
		if end == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: schemas.DLQTopic, Partition: part, MaxWait: 100 * time.Millisecond})
		for off := int64(0); off < end; off++ {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			m, err := r.ReadMessage(ctx)
			cancel()
			if err != nil {
				t.Fatalf("cannot read DLQ partition %d: %v", part, err)
			}
			if _, dup := out[string(m.Key)]; dup {
				t.Errorf("DLQ holds %s twice", m.Key)
			}
			out[string(m.Key)] = m
			total++
		}
		r.Close()
	}
	if total != want {
		t.Errorf("DLQ holds %d records, want %d", total, want)
	}
	return out
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func dump(rows []analytics.ScoreRow) []string {
	out := make([]string, len(rows))
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	for i, r := range rows {
		out[i] = fmt.Sprintf("%s %s %d %d %d %s %s %s %s %s %d", r.Carrier, r.Lane, r.Delivered, r.WithPromise, r.OnTime,
			f(r.OnTimeRate), f(r.TransitHoursP50), f(r.TransitHoursP90), f(r.CustomsDwellHoursP50), f(r.CustomsDwellHoursP90), r.Exceptions)
	}
	return out
}

// testLog discards the processors' logs, unless SHIPLENS_TEST_LOG is set.
func testLog() *slog.Logger {
	if os.Getenv("SHIPLENS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// sinkOrStore returns the sink processors write to.
func (p *pipeline) sinkOrStore() processor.Sink {
	if p.sink != nil {
		return p.sink
	}
	return p.store
}
