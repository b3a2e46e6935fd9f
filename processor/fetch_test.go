package processor_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/processor"
	"github.com/shiplens/shiplens/schemas"
)

// These tests need no ClickHouse: the processor writes to memSink.

// liveness bounds how long a test waits for an event that must happen. It is
// a deadlock guard, not a speed requirement: the tests pass in a few seconds.
const liveness = time.Minute

// TestFetchProgressesOnSlowBroker runs the processor against a broker that
// builds a whole fetch response before it sends its first byte, and slowly,
// like kfake under the race detector. kafka-go gives that first byte at most
// MaxWait; a reader whose MaxBytes response cannot start within it fails
// every fetch of the same offset and never delivers a message (the readers
// used to ask for 16 MiB within 100ms, and stalled at offset 0 with nothing
// logged). The partition must be consumed to its end.
func TestFetchProgressesOnSlowBroker(t *testing.T) {
	// At 4 MiB/s a 1 MiB response starts after 250ms, and the whole
	// partition in one response after more than 1.5s: a reader must bound
	// its fetches (MaxBytes) and give the broker time for them (MaxWait).
	const rate = 4 << 20
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.SeedTopics(1, schemas.EventsTopic, schemas.DLQTopic),
		kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			ln, err := net.Listen(network, addr)
			if err != nil {
				return nil, err
			}
			return slowListener{ln, rate}, nil
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	_, msgs := workload(t, 1500, 23)
	if size := payload(msgs); size < 3*rate/2 {
		t.Fatalf("the workload holds %d bytes, want a partition that takes the broker over 1.5s to send", size)
	}
	p := &pipeline{t: t, brokers: c.ListenAddrs()}
	p.publish(msgs)
	logs := &logRecorder{}
	d := newDone(p.ends)
	proc := startProcessor(t, p.brokers, logs, d, 0)
	select {
	case <-d.ch:
	case <-time.After(liveness):
		t.Fatalf("the partition was not consumed to its end %v in %v (%d commits, %+v); reader errors:\n%s",
			p.ends, liveness, d.commits(), proc.Metrics().Snapshot(), logs.matching("kafka reader error"))
	}
	if s := proc.Metrics().Snapshot(); s.Consumed < int64(len(msgs)) {
		t.Errorf("consumed %d messages, want %d", s.Consumed, len(msgs))
	}
}

// TestFetchStallIsReported makes the broker drop every fetch until the
// processor has both logged and counted the failed fetch (an i/o timeout that
// kafka-go reports only to its ErrorLogger and retries by itself), and
// reported the partition as stalled: waiting for messages that are there.
// Then the broker answers again and the partition must be consumed to its end.
func TestFetchStallIsReported(t *testing.T) {
	emb, err := broker.Start(broker.Options{Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	_, msgs := workload(t, 200, 29)
	p := &pipeline{t: t, brokers: emb.Addrs()}
	p.publish(msgs)

	c := emb.Cluster()
	release := make(chan struct{})
	c.ControlKey(int16(kmsg.Fetch), func(kmsg.Request) (kmsg.Response, error, bool) {
		select {
		case <-release:
			c.DropControl()
			return nil, nil, false // answer as usual from now on
		default:
			c.KeepControl()
			return nil, nil, true // no response: the client times out
		}
	})

	logs := &logRecorder{}
	fetchFailed := logs.await(slog.LevelWarn, "kafka reader error", "partition=0", "i/o timeout")
	stalled := logs.await(slog.LevelWarn, "partition makes no progress", "partition=0", "lag=")
	d := newDone(p.ends)
	proc := startProcessor(t, p.brokers, logs, d, 100*time.Millisecond)
	for name, ch := range map[string]<-chan struct{}{"the failed fetch": fetchFailed, "the stall": stalled} {
		select {
		case <-ch:
		case <-time.After(liveness):
			t.Fatalf("%s was not logged in %v; logged:\n%s", name, liveness, logs.matching(""))
		}
	}
	s := proc.Metrics().Snapshot()
	if s.Consumed != 0 {
		t.Fatalf("consumed %d messages while the broker dropped every fetch", s.Consumed)
	}
	if s.FetchErrors == 0 || s.FetchStalls == 0 {
		t.Errorf("fetch errors %d, stalls %d: want both counted", s.FetchErrors, s.FetchStalls)
	}
	close(release)
	select {
	case <-d.ch:
	case <-time.After(liveness):
		t.Fatalf("the partition was not consumed to its end %v in %v after the broker answered again (%d commits)", p.ends, liveness, d.commits())
	}
	if s := proc.Metrics().Snapshot(); s.Consumed < int64(len(msgs)) {
		t.Errorf("consumed %d messages, want %d", s.Consumed, len(msgs))
	}
}

// startProcessor runs a processor on brokers that writes to memory, logs to
// logs and reports commits to d; it is stopped when the test ends.
func startProcessor(t *testing.T, brokers []string, logs *logRecorder, d *done, stallTimeout time.Duration) *processor.Processor {
	t.Helper()
	proc, err := processor.New(processor.Config{
		Brokers: brokers, Group: "fetch", FlushInterval: 100 * time.Millisecond, SessionTimeout: 6 * time.Second,
		StallTimeout: stallTimeout, Log: slog.New(logs), OnCommit: d.commit,
	}, memSink{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- proc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("processor: %v", err)
		}
	})
	return proc
}

func payload(msgs []kafka.Message) (n int) {
	for i := range msgs {
		n += len(msgs[i].Key) + len(msgs[i].Value)
	}
	return n
}

// memSink stores nothing and restores nothing.
type memSink struct{}

func (memSink) WriteFacts(context.Context, []processor.Fact) error { return nil }
func (memSink) WriteDays(context.Context, *analytics.Days, []analytics.Advance, bool) error {
	return nil
}
func (memSink) Position(context.Context, int) (int64, error) { return 0, nil }
func (memSink) Restore(context.Context, int, analytics.Retention, func(string, analytics.Shipment)) error {
	return nil
}
func (memSink) Lookup(context.Context, int, []string, func(string, analytics.Shipment)) error {
	return nil
}

// slowListener's connections hold each write back for its size at rate bytes
// a second: kfake writes each response with one Write, so this is a broker
// whose first byte of a response leaves in proportion to the response size.
type slowListener struct {
	net.Listener
	rate int
}

func (l slowListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return slowConn{c, l.rate}, nil
}

type slowConn struct {
	net.Conn
	rate int
}

func (c slowConn) Write(b []byte) (int, error) {
	time.Sleep(time.Duration(len(b)) * time.Second / time.Duration(c.rate))
	return c.Conn.Write(b)
}

// logRecorder is a slog.Handler that keeps Info and above as text lines and
// signals when a line with given words is logged.
type logRecorder struct {
	mu      sync.Mutex
	lines   []string
	waiters []logWaiter
}

type logWaiter struct {
	level slog.Level
	words []string
	ch    chan struct{}
}

func (l *logRecorder) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelInfo
}

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	line := b.String()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	kept := l.waiters[:0]
	for _, w := range l.waiters {
		if r.Level == w.level && containsAll(line, w.words) {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	l.waiters = kept
	return nil
}

func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// await returns a channel that is closed once a record of level whose line
// holds every word is logged.
func (l *logRecorder) await(level slog.Level, words ...string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := logWaiter{level: level, words: words, ch: make(chan struct{})}
	l.waiters = append(l.waiters, w)
	return w.ch
}

// matching returns the lines logged so far that contain s.
func (l *logRecorder) matching(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func containsAll(s string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}
