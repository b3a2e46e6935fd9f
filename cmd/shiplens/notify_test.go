package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/notify/mailpit"
)

// notifyHook is a webhook receiver that checks the shiplens signature on its
// own: "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body). It
// answers 503 to the first attempt of each record and 200 afterwards.
type notifyHook struct {
	secret string
	mu     sync.Mutex
	tries  map[string]int
	got    map[string][]string // idempotency key: X-Shiplens-Record and body of each success
	bad    []string
}

func (h *notifyHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts, sig := r.Header.Get("X-Shiplens-Timestamp"), r.Header.Get("X-Shiplens-Signature")
	mac := hmac.New(sha256.New, []byte(h.secret))
	mac.Write([]byte(ts + "." + string(body)))
	key := r.Header.Get("Idempotency-Key")
	h.mu.Lock()
	defer h.mu.Unlock()
	if !hmac.Equal([]byte(sig), []byte("sha256="+hex.EncodeToString(mac.Sum(nil)))) || key == "" {
		h.bad = append(h.bad, fmt.Sprintf("key %q signature %q timestamp %q", key, sig, ts))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	h.tries[key]++
	if h.tries[key] == 1 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	h.got[key] = append(h.got[key], r.Header.Get("X-Shiplens-Record")+" "+string(body))
	w.WriteHeader(http.StatusOK)
}

func notifyFreeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestNotifyEndToEnd produces alerts and notifications into an embedded
// broker and runs `shiplens notify` against a webhook receiver and a real
// SMTP server (mailpit).
func TestNotifyEndToEnd(t *testing.T) {
	mp := mailpit.Start(t)
	emb, err := broker.Start(broker.Options{Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	brokers := emb.Addrs()
	hook := &notifyHook{secret: "whsec-e2e-acme", tries: map[string]int{}, got: map[string][]string{}}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	t.Setenv("SHIPLENS_TEST_NOTIFY_SECRET", hook.secret)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte("tracking_number,email\nLX100CN,li.wei@example.cn\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "notify.yaml")
	if err := os.WriteFile(config, []byte(`
delivery:
  initial_backoff: 5ms
  max_backoff: 50ms
  commit_interval: 50ms
webhooks:
  - merchant: acme
    url: `+srv.URL+`/shiplens
    secret_env: SHIPLENS_TEST_NOTIFY_SECRET
email:
  smtp: `+mp.SMTPAddr+`
  from: "Shiplens <alerts@shiplens.example>"
  alerts_to: [cs@shop.example]
  contacts: contacts.csv
`), 0o644); err != nil {
		t.Fatal(err)
	}

	const (
		alertA = `{"alert_id":"a1","transition_id":"a1:1:opened","change":"opened","seq":1,"type":"customs_held","rule":"customs-held","tier":"critical","state":"open","tracking_number":"LX100CN","partition":0,"carrier":"chinapost","lane":"CN-US","merchant":"acme","status":"customs_held","last_event_at":"2026-11-05T10:00:00Z","opened_at":"2026-11-05T10:00:00Z","at":"2026-11-05T10:00:00Z","detail":"held by US customs: documents"}`
		alertB = `{"alert_id":"b1","transition_id":"b1:1:opened","change":"opened","seq":1,"type":"stalled","rule":"stalled","tier":"warning","state":"open","tracking_number":"LX200CN","partition":1,"carrier":"yunexpress","lane":"CN-DE","merchant":"globex","status":"in_transit","last_event_at":"2026-11-01T10:00:00Z","opened_at":"2026-11-04T10:00:00Z","at":"2026-11-04T10:00:00Z","limit_hours":72,"detail":"no scan for 72 hours"}`
		noteZH = `{"notification_id":"n-zh","kind":"exception","exception_type":"customs_held","tracking_number":"LX100CN","partition":0,"carrier":"chinapost","lane":"CN-US","merchant":"acme","status":"customs_held","locale":"zh","locale_source":"shipment","subject":"您的包裹被海关扣留","body":"您好，您的包裹 LX100CN 被美国海关扣留，需要补充文件。\n我们会尽快与您联系。","occurred_at":"2026-11-05T10:00:00Z"}`
		noteEN = `{"notification_id":"n-en","kind":"shipped","tracking_number":"LX300CN","partition":1,"carrier":"chinapost","lane":"CN-US","merchant":"acme","status":"picked_up","locale":"en","locale_source":"merchant","subject":"Your order has shipped","body":"Your parcel LX300CN is on its way.","occurred_at":"2026-11-03T10:00:00Z"}`
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, m := range []struct{ topic, key, value string }{
		{"shiplens.alerts", "LX100CN", alertA}, {"shiplens.alerts", "LX200CN", alertB},
		{"shiplens.notifications", "LX100CN", noteZH}, {"shiplens.notifications", "LX300CN", noteEN},
	} {
		w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: m.topic, Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
		if err := w.WriteMessages(ctx, kafka.Message{Key: []byte(m.key), Value: []byte(m.value)}); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}

	metricsAddr := notifyFreeAddr(t)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- runNotify(runCtx, []string{"--config", config, "--brokers", strings.Join(brokers, ","), "--group", "g-e2e", "--metrics-addr", metricsAddr}, io.Discard, &stderr)
	}()
	for _, topic := range []string{"shiplens.alerts", "shiplens.notifications"} {
		if err := kafkaadmin.WaitCaughtUp(ctx, brokers, "g-e2e", topic, kafkaadmin.WaitOptions{Poll: 50 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	exposition, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, series := range []string{
		`shiplens_notify_delivered_total{channel="webhook",destination="acme"} 3`,
		`shiplens_notify_delivered_total{channel="email",destination="alerts"} 2`,
		`shiplens_notify_delivered_total{channel="email",destination="customers"} 1`,
		`shiplens_notify_retried_total{channel="webhook",destination="acme"} 3`,
		`shiplens_notify_skipped_total{channel="email",destination="customers",why="no_address"} 1`,
	} {
		if !strings.Contains(string(exposition), series) {
			t.Errorf("GET /metrics lacks %s", series)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("notify: %v\n%s", err, stderr.String())
	}
	if want := "stopped: 4 records read, 6 deliveries, 3 retries, 0 dead-lettered to shiplens.notify.dlq, 0 duplicates skipped, 1 without a known address"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}

	hook.mu.Lock()
	if len(hook.bad) > 0 {
		t.Errorf("requests with a bad signature: %v", hook.bad)
	}
	wantHook := map[string][]string{"a1:1:opened": {"alert " + alertA}, "n-zh": {"notification " + noteZH}, "n-en": {"notification " + noteEN}}
	for key, want := range wantHook {
		if !slices.Equal(hook.got[key], want) {
			t.Errorf("webhook got %q for %s, want %q", hook.got[key], key, want)
		}
	}
	if len(hook.got) != len(wantHook) {
		t.Errorf("webhook got %d records, want %d (globex's alert is not acme's)", len(hook.got), len(wantHook))
	}
	hook.mu.Unlock()

	msgs, err := mp.WaitMessages(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range msgs {
		got[m.Subject] = strings.Join(m.Recipients(), ",") + " " + m.Headers["Content-Language"][0] + " " + strings.ReplaceAll(m.Text, "\r\n", "\n")
	}
	want := map[string]string{
		"[critical] customs_held: LX100CN (chinapost CN-US)": "cs@shop.example en ",
		"[warning] stalled: LX200CN (yunexpress CN-DE)":      "cs@shop.example en ",
		"您的包裹被海关扣留":                                          "li.wei@example.cn zh 您好，您的包裹 LX100CN 被美国海关扣留，需要补充文件。\n我们会尽快与您联系。\n",
	}
	if len(got) != len(want) {
		t.Errorf("%d messages, want %d: %q", len(got), len(want), got)
	}
	for subject, w := range want {
		g, ok := got[subject]
		if !ok || !strings.HasPrefix(g, w) {
			t.Errorf("message %q: got %q, want it to start with %q", subject, g, w)
		}
	}
}

// TestNotifyBadCommandLines: each refusal is one line; bad flags are usage
// errors, bad configuration and unreachable brokers are not.
func TestNotifyBadCommandLines(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", "webhooks:\n  - merchant: \"*\"\n    url: https://hooks.example/x\n    secret_env: SHIPLENS_TEST_NOTIFY_SECRET_BAD\n")
	unknown := write("unknown.yaml", "webhooks:\n  - merchant: \"*\"\n    url: https://hooks.example/x\n    secret: plain-text\n")
	t.Setenv("SHIPLENS_TEST_NOTIFY_SECRET_BAD", "x")
	noEnv := write("noenv.yaml", "webhooks:\n  - merchant: \"*\"\n    url: https://hooks.example/x\n    secret_env: SHIPLENS_TEST_NOTIFY_UNSET\n")
	f := func(usage bool, want string, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var stderr bytes.Buffer
		err := runNotify(ctx, args, io.Discard, &stderr)
		if err == nil {
			t.Errorf("%v: accepted", args)
			return
		}
		var ue errUsage
		if errors.As(err, &ue) != usage {
			t.Errorf("%v: usage error %v, want %v (%v)", args, !usage, usage, err)
		}
		if msg := err.Error(); !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
			t.Errorf("%v: error %q, want one line containing %q", args, msg, want)
		}
	}
	f(true, "--config FILE is required")
	f(true, "flag provided but not defined", "--config", good, "--nope")
	f(true, "want host:port", "--config", good, "--brokers", "nohost")
	f(true, "topics must differ", "--config", good, "--brokers", "127.0.0.1:1", "--dlq-topic", "shiplens.alerts")
	f(false, "cannot read notify config", "--config", filepath.Join(dir, "missing.yaml"))
	f(false, `line 4: unknown field "secret"`, "--config", unknown)
	f(false, "SHIPLENS_TEST_NOTIFY_UNSET", "--config", noEnv)
	f(false, "cannot reach Kafka at 127.0.0.1:1", "--config", good, "--brokers", "127.0.0.1:1")
	t.Setenv("SHIPLENS_CONFIG", unknown)
	f(false, `unknown field "secret"`) // --config from the environment
}
