package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/dlq"
	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/notify"
)

// Topics of these tests: the contract's names, spelled out here so that a
// change to the constants shows up as a failing test.
const (
	alertsTopic        = "shiplens.alerts"
	notificationsTopic = "shiplens.notifications"
	deadTopic          = "shiplens.notify.dlq"
)

func startBroker(t *testing.T) []string {
	t.Helper()
	e, err := broker.Start(broker.Options{Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e.Addrs()
}

type msg struct {
	topic, key, value string
}

// alertJSON is an alert record as the processor writes it.
func alertJSON(alertID, trackingNumber, merchant, tier string, seq int, change string) msg {
	return msg{alertsTopic, trackingNumber, fmt.Sprintf(`{"alert_id":%q,"transition_id":"%s:%d:%s","change":%q,"seq":%d,"type":"stalled",`+
		`"rule":"stalled","tier":%q,"state":"open","tracking_number":%q,"partition":0,"carrier":"chinapost","service":"economy",`+
		`"lane":"CN-US","merchant":%q,"status":"in_transit","milestone":"in_transit","last_event_at":"2026-11-01T08:00:00Z",`+
		`"opened_at":"2026-11-04T08:00:00Z","at":"2026-11-04T08:00:00Z","limit_hours":72,"detail":"no scan for 72 hours"}`,
		alertID, alertID, seq, change, change, seq, tier, trackingNumber, merchant)}
}

// notificationJSON is a notification record as the processor writes it.
func notificationJSON(id, trackingNumber, merchant, locale, subject, body string) msg {
	return msg{notificationsTopic, trackingNumber, fmt.Sprintf(`{"notification_id":%q,"kind":"arrived_destination","tracking_number":%q,`+
		`"partition":0,"carrier":"chinapost","lane":"CN-US","merchant":%q,"status":"arrived_destination","locale":%q,`+
		`"locale_source":"shipment","subject":%q,"body":%q,"occurred_at":"2026-11-05T09:30:00Z"}`,
		id, trackingNumber, merchant, locale, subject, body)}
}

func produce(t *testing.T, brokers []string, msgs ...msg) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, m := range msgs {
		w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: m.topic, Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
		err := w.WriteMessages(ctx, kafka.Message{Key: []byte(m.key), Value: []byte(m.value)})
		w.Close()
		if err != nil {
			t.Fatalf("cannot produce to %s: %v", m.topic, err)
		}
	}
}

// fastDelivery retries within milliseconds and commits often.
var fastDelivery = notify.Delivery{InitialBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond, Timeout: 5 * time.Second,
	CommitInterval: 20 * time.Millisecond, DrainTimeout: 5 * time.Second}

type testLog struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// run starts a notifier; the returned function stops it and fails the test
// if Run returned an error. It also stops at the end of the test.
func run(t *testing.T, cfg notify.Config) (*notify.Notifier, func()) {
	t.Helper()
	tl := &testLog{t: t}
	cfg.Log = slog.New(slog.NewTextHandler(tl, &slog.HandlerOptions{Level: slog.LevelWarn}))
	n, err := notify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("notifier: %v", err)
			}
			tl.mu.Lock()
			tl.done = true
			tl.mu.Unlock()
		})
	}
	t.Cleanup(stop)
	return n, stop
}

// waitCommitted returns once group has committed every record of topics.
func waitCommitted(t *testing.T, brokers []string, group string, topics ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for _, topic := range topics {
		if err := kafkaadmin.WaitCaughtUp(ctx, brokers, group, topic, kafkaadmin.WaitOptions{Poll: 20 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
}

func readDead(t *testing.T, brokers []string) []dlq.Letter {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	letters, err := dlq.ReadTopic(ctx, brokers, deadTopic, func(m *kafka.Message, err error) {
		t.Errorf("not a dead letter at %s/%d@%d: %v", deadTopic, m.Partition, m.Offset, err)
	})
	if err != nil {
		t.Fatal(err)
	}
	return letters
}

// hit is one request a hook received.
type hit struct {
	at                         time.Time
	key, record, ts, signature string
	contentType                string
	body                       string
	status                     int
	attempt                    int // per idempotency key, 1-based
}

// hook is a webhook receiver: respond says how to answer the n-th request
// (1-based) for an idempotency key.
type hook struct {
	*httptest.Server
	secret  string
	respond func(key string, n int) (int, http.Header)

	mu    sync.Mutex
	hits  []hit
	count map[string]int
}

func newHook(t *testing.T, secret string, respond func(key string, n int) (int, http.Header)) *hook {
	h := &hook{secret: secret, respond: respond, count: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		key := r.Header.Get("Idempotency-Key")
		h.mu.Lock()
		h.count[key]++
		n := h.count[key]
		h.mu.Unlock()
		status, header := respond(key, n)
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.WriteHeader(status)
		h.mu.Lock()
		h.hits = append(h.hits, hit{at: time.Now(), key: key, record: r.Header.Get("X-Shiplens-Record"), ts: r.Header.Get("X-Shiplens-Timestamp"),
			signature: r.Header.Get("X-Shiplens-Signature"), contentType: r.Header.Get("Content-Type"), body: string(body), status: status, attempt: n})
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) all() []hit {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hit(nil), h.hits...)
}

// successes returns the requests answered 2xx, in arrival order.
func (h *hook) successes() []hit {
	var out []hit
	for _, x := range h.all() {
		if x.status < 300 {
			out = append(out, x)
		}
	}
	return out
}

// validSignature checks the shiplens webhook signature as a receiver would:
// "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body), with a
// timestamp within five minutes.
func validSignature(secret, timestamp, signature, body string) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "." + body))
	return hmac.Equal([]byte(signature), []byte("sha256="+hex.EncodeToString(mac.Sum(nil))))
}

// closedURL returns an http URL where nothing listens.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/hook"
}

// metric returns the value of the series of name whose labels include
// labels, from the notifier's collector as Prometheus gathers it.
func metric(t *testing.T, n *notify.Notifier, name string, labels map[string]string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(n.Metrics())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue series
				}
			}
			if c := m.GetCounter(); c != nil {
				sum += c.GetValue()
			} else if g := m.GetGauge(); g != nil {
				sum += g.GetValue()
			}
		}
	}
	return sum
}
