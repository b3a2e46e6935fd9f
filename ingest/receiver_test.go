package ingest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/dlq"
	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/schemas"
)

const secret = "s3cr3t-value-never-logged"

// rig is a receiver publishing to an embedded broker, served by httptest.
type rig struct {
	t       *testing.T
	brokers []string
	rc      *Receiver
	srv     *httptest.Server
	logs    *bytes.Buffer
	now     time.Time
}

func newRig(t *testing.T, cfg ReceiverConfig) *rig {
	t.Helper()
	e, err := broker.Start(broker.Options{Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	p, err := NewProducer(ProducerConfig{Brokers: e.Addrs()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	r := &rig{t: t, brokers: e.Addrs(), logs: &bytes.Buffer{}, now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	cfg.Log = slog.New(slog.NewTextHandler(r.logs, nil))
	cfg.Now = func() time.Time { return r.now }
	if cfg.Secrets == nil {
		cfg.Secrets = map[string][]byte{"aftership": []byte(secret), "jsonl": []byte(secret)}
	}
	r.rc = NewReceiver(cfg, p)
	mux := http.NewServeMux()
	r.rc.Register(mux)
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	t.Cleanup(func() {
		if strings.Contains(r.logs.String(), secret) {
			t.Errorf("a secret appears in the logs:\n%s", r.logs.String())
		}
	})
	return r
}

func (r *rig) post(path string, body []byte, header map[string]string) (int, Answer) {
	r.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL+path, bytes.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if strings.Contains(string(raw), secret) {
		r.t.Errorf("a secret appears in a response: %s", raw)
	}
	var a Answer
	if err := json.Unmarshal(raw, &a); err != nil {
		r.t.Fatalf("%s answered %d with non-JSON %q", path, res.StatusCode, raw)
	}
	return res.StatusCode, a
}

// signed returns the shiplens signature headers for body at r.now.
func (r *rig) signed(body []byte, key string) map[string]string {
	ts := r.now.Unix()
	return map[string]string{
		HeaderTimestamp: strconv.FormatInt(ts, 10),
		HeaderSignature: "sha256=" + hex.EncodeToString(Sign([]byte(key), ts, body)),
	}
}

// topic returns every message of topic.
func (r *rig) topic(name string) []kafka.Message {
	r.t.Helper()
	var out []kafka.Message
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := kafkaadmin.ReadAll(ctx, r.brokers, name, func(m *kafka.Message) error { out = append(out, *m); return nil }); err != nil {
		r.t.Fatal(err)
	}
	return out
}

func event(id string) string {
	return `{"event_id":"` + id + `","tracking_number":"LX1CN","carrier":"chinapost","status":"in_transit","occurred_at":"2026-11-20T10:00:00Z","origin_country":"CN","destination_country":"US"}`
}

func TestPostEvents(t *testing.T) {
	r := newRig(t, ReceiverConfig{})
	code, a := r.post("/v1/events", []byte(event("e1")), nil)
	if code != http.StatusAccepted || a.Accepted != 1 {
		t.Fatalf("single event: %d %+v", code, a)
	}
	lines := event("e2") + "\n\n" + `{"event_id":"e3","tracking_number":"LX1CN","carrier":"chinapost","status":"lost","occurred_at":"2026-11-20T10:00:00Z"}` + "\n" + event("e4") + "\n{not json\n"
	code, a = r.post("/v1/events", []byte(lines), nil)
	if code != http.StatusUnprocessableEntity || a.Accepted != 2 || len(a.Rejected) != 2 {
		t.Fatalf("mixed batch: %d %+v", code, a)
	}
	if a.Rejected[0].Record != 1 || a.Rejected[0].Field != "status" || a.Rejected[0].Reason != schemas.ReasonUnknownStatus {
		t.Fatalf("first problem %+v", a.Rejected[0])
	}
	if a.Rejected[1].Record != 3 || a.Rejected[1].Reason != schemas.ReasonMalformed {
		t.Fatalf("second problem %+v", a.Rejected[1])
	}
	if n := len(r.topic(schemas.EventsTopic)); n != 3 {
		t.Fatalf("%d events in Kafka, want 3", n)
	}
	dead := r.topic(schemas.DLQTopic)
	if len(dead) != 2 {
		t.Fatalf("%d dead letters, want 2", len(dead))
	}
	d, err := dlq.Parse(&dead[0])
	if err != nil || d.Source != "http" || !strings.Contains(string(d.Value), `"lost"`) && !strings.Contains(string(d.Value), "not json") {
		t.Fatalf("dead letter %+v %v", d, err)
	}
	if got := r.rc.Metrics.Rejected("http", schemas.ReasonUnknownStatus); got != 1 {
		t.Fatalf("rejected metric = %d", got)
	}
	if code, _ := r.post("/v1/events", []byte("  \n"), nil); code != http.StatusBadRequest {
		t.Fatalf("empty body: %d", code)
	}
}

func TestPostEventsToken(t *testing.T) {
	r := newRig(t, ReceiverConfig{APIToken: "tok"})
	if code, _ := r.post("/v1/events", []byte(event("e1")), nil); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", code)
	}
	if code, _ := r.post("/v1/events", []byte(event("e1")), map[string]string{"Authorization": "Bearer nope"}); code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", code)
	}
	if code, _ := r.post("/v1/events", []byte(event("e1")), map[string]string{"Authorization": "Bearer tok"}); code != http.StatusAccepted {
		t.Fatalf("right token: %d", code)
	}
}

func aftershipPayload(t *testing.T) []byte {
	b, err := os.ReadFile("carriers/testdata/aftership/cn_us_customs_hold.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWebhookSignatures(t *testing.T) {
	r := newRig(t, ReceiverConfig{})
	body := aftershipPayload(t)
	f := func(name string, hdr map[string]string, want int, why string) {
		t.Helper()
		code, a := r.post("/v1/webhooks/aftership", body, hdr)
		if code != want {
			t.Fatalf("%s: %d %+v, want %d", name, code, a, want)
		}
		if why != "" && r.rc.Metrics.Refused("webhook/aftership", why) == 0 {
			t.Fatalf("%s: no refusal counted for %s", name, why)
		}
	}
	f("missing", nil, http.StatusUnauthorized, "missing_signature")
	f("wrong key", r.signed(body, "other"), http.StatusUnauthorized, "bad_signature")
	stale := r.signed(body, secret)
	r.now = r.now.Add(10 * time.Minute)
	f("stale", stale, http.StatusUnauthorized, "stale_timestamp")
	good := r.signed(body, secret)
	f("good", good, http.StatusAccepted, "")
	f("replayed", good, http.StatusConflict, "replayed")
	tampered := r.signed(body, secret)
	body = append(bytes.Clone(body[:len(body)-2]), ' ', '}')
	f("body changed after signing", tampered, http.StatusUnauthorized, "bad_signature")

	// AfterShip's own scheme: base64 HMAC of the body.
	body = aftershipPayload(t)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	native := map[string]string{HeaderAfterShip: base64.StdEncoding.EncodeToString(mac.Sum(nil))}
	f("aftership native", native, http.StatusAccepted, "")
	f("aftership native replayed", native, http.StatusConflict, "replayed")

	events := r.topic(schemas.EventsTopic)
	if len(events) == 0 {
		t.Fatal("no events published from the webhooks")
	}
	if got := r.rc.Metrics.Accepted("webhook/aftership"); got != int64(len(events)) {
		t.Fatalf("accepted metric %d, events %d", got, len(events))
	}
}

func TestWebhookSources(t *testing.T) {
	r := newRig(t, ReceiverConfig{})
	if code, a := r.post("/v1/webhooks/pigeonpost", []byte("{}"), nil); code != http.StatusNotFound || !strings.Contains(a.Error, "aftership") {
		t.Fatalf("unknown source: %d %+v", code, a)
	}
	if code, a := r.post("/v1/webhooks/ups", []byte("{}"), nil); code != http.StatusForbidden || !strings.Contains(a.Error, "SHIPLENS_WEBHOOK_SECRET_UPS") {
		t.Fatalf("unconfigured source: %d %+v", code, a)
	}
	// A signed payload that cannot be read is refused and dead-lettered.
	body := []byte(`{"event":"tracking_update","msg":"oops"}`)
	code, a := r.post("/v1/webhooks/aftership", body, r.signed(body, secret))
	if code != http.StatusBadRequest || a.Error == "" {
		t.Fatalf("unreadable payload: %d %+v", code, a)
	}
	dead := r.topic(schemas.DLQTopic)
	if len(dead) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dead))
	}
	d, _ := dlq.Parse(&dead[0])
	if d.Source != "webhook/aftership" || !bytes.Equal(d.Value, body) {
		t.Fatalf("dead letter %+v", d)
	}
}

func TestWebhookLimits(t *testing.T) {
	r := newRig(t, ReceiverConfig{MaxBodyBytes: 1 << 10, RatePerSec: 0.001, Burst: 2})
	big := bytes.Repeat([]byte("x"), 2<<10)
	if code, _ := r.post("/v1/webhooks/aftership", big, r.signed(big, secret)); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize: %d", code)
	}
	small := []byte("{}")
	if code, _ := r.post("/v1/webhooks/aftership", small, nil); code != http.StatusUnauthorized {
		t.Fatalf("second request within burst: %d", code)
	}
	if code, _ := r.post("/v1/webhooks/aftership", small, nil); code != http.StatusTooManyRequests {
		t.Fatalf("third request over the rate: %d", code)
	}
}
