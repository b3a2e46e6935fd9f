package dlq_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/dlq"
	"github.com/shiplens/shiplens/ingest/carriers"
	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/schemas"
)

func invalid(reason schemas.Reason, field, detail string) error {
	return &schemas.InvalidError{Reason: reason, Field: field, Detail: detail}
}

func TestMessageRoundTrip(t *testing.T) {
	d := dlq.New("processor", []byte("k"), []byte(`{"x"`), invalid(schemas.ReasonMalformed, "", "bad"))
	d.Topic, d.Partition, d.Offset = "shiplens.events", 3, 42
	m := d.Message()
	if string(m.Key) != "k" || string(m.Value) != `{"x"` {
		t.Fatalf("the original key and value must travel untouched: %q %q", m.Key, m.Value)
	}
	headers := map[string]string{}
	for _, h := range m.Headers {
		headers[h.Key] = string(h.Value)
	}
	want := map[string]string{
		"shiplens.reason": "malformed_json", "shiplens.source": "processor", "shiplens.error": d.Error,
		"shiplens.topic": "shiplens.events", "shiplens.partition": "3", "shiplens.offset": "42",
		"shiplens.rejected_at": d.At.Format(time.RFC3339Nano),
	}
	for k, v := range want {
		if headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, headers[k], v)
		}
	}
	got, err := dlq.Parse(&m)
	if err != nil {
		t.Fatal(err)
	}
	if got.Reason != d.Reason || got.Source != "processor" || got.Topic != d.Topic || got.Partition != 3 || got.Offset != 42 ||
		string(got.Value) != `{"x"` || string(got.Key) != "k" || !got.At.Equal(d.At) || got.Error != d.Error {
		t.Fatalf("round trip: %+v, want %+v", got, d)
	}
	if _, err := dlq.Parse(&kafka.Message{Value: []byte("x")}); err == nil {
		t.Fatal("a record without headers parsed as a dead letter")
	}
	bad := kafka.Message{Headers: []kafka.Header{{Key: "shiplens.reason", Value: []byte("x")}, {Key: "shiplens.source", Value: []byte("http")}, {Key: "shiplens.offset", Value: []byte("NaN")}}}
	if _, err := dlq.Parse(&bad); err == nil || !strings.Contains(err.Error(), "shiplens.offset") {
		t.Fatalf("a bad offset header: %v", err)
	}
}

func TestFromResult(t *testing.T) {
	payload := []byte(`{"whole":"payload"}`)
	res := carriers.Result{Problems: []carriers.Problem{
		{Index: 2, Field: "checkpoints[2].time", Reason: schemas.ReasonBadTimestamp, Detail: "not a time", Raw: []byte(`{"time":"x"}`)},
		{Index: -1, Field: "shipment", Reason: schemas.ReasonMissingField, Detail: "no tracking number"},
	}}
	got := dlq.FromResult("webhook/aftership", []byte("TN1"), payload, res, nil)
	if len(got) != 2 {
		t.Fatalf("%d letters, want 2", len(got))
	}
	if string(got[0].Value) != `{"time":"x"}` || got[0].Reason != schemas.ReasonBadTimestamp || got[0].Source != "webhook/aftership" ||
		string(got[0].Key) != "TN1" || !strings.Contains(got[0].Error, "checkpoints[2].time") {
		t.Fatalf("a problem with its raw record: %+v", got[0])
	}
	if !bytes.Equal(got[1].Value, payload) || got[1].Reason != schemas.ReasonMissingField {
		t.Fatalf("a problem without a raw record keeps the whole payload: %+v", got[1])
	}
	whole := dlq.FromResult("poll/ups", nil, payload, carriers.Result{}, &carriers.PayloadError{Source: "ups", Reason: schemas.ReasonOversize, Detail: "too big"})
	if len(whole) != 1 || whole[0].Reason != schemas.ReasonOversize || !bytes.Equal(whole[0].Value, payload) {
		t.Fatalf("a refused payload: %+v", whole)
	}
	other := dlq.FromPayload("poll/ups", nil, payload, errors.New("boom"))
	if other.Reason != schemas.ReasonMalformed {
		t.Fatalf("an error that is no PayloadError: reason %s, want %s", other.Reason, schemas.ReasonMalformed)
	}
}

func TestJSONLinesRoundTripAndFilter(t *testing.T) {
	letters := []dlq.Letter{
		dlq.New("http", nil, []byte(`{"status":"vanished"}`), invalid(schemas.ReasonUnknownStatus, "status", "vanished")),
		dlq.New("processor", []byte("k"), []byte{0xff, 0xfe, 0x00}, invalid(schemas.ReasonMalformed, "", "not UTF-8")),
		dlq.New("http", nil, []byte(`{}`), invalid(schemas.ReasonMissingField, "event_id", "missing")),
	}
	var buf bytes.Buffer
	if err := dlq.WriteJSONLines(&buf, letters); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"value":"{\"status\":\"vanished\"}"`) || !strings.Contains(lines[1], `"value_base64":"//4A"`) {
		t.Fatalf("export:\n%s", buf.String())
	}
	// A person edits the first line and leaves a blank line behind.
	edited := strings.Replace(buf.String(), `vanished\"}`, `delivered\"}`, 1) + "\n\n"
	back, err := dlq.ReadJSONLines(strings.NewReader(edited), "fixed.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 3 || string(back[0].Value) != `{"status":"delivered"}` || !bytes.Equal(back[1].Value, letters[1].Value) || !back[2].At.Equal(letters[2].At) {
		t.Fatalf("read back: %+v", back)
	}
	if _, err := dlq.ReadJSONLines(strings.NewReader("{}\n{broken\n"), "x.jsonl"); err == nil || !strings.Contains(err.Error(), "x.jsonl line 1") {
		t.Fatalf("a letter without a source: %v", err)
	}
	if _, err := dlq.ReadJSONLines(strings.NewReader(`{"source":"http"}`+"\n{broken\n"), "x.jsonl"); err == nil || !strings.Contains(err.Error(), "x.jsonl line 2") {
		t.Fatalf("a broken line: %v", err)
	}
	f := func(filter dlq.Filter, want int) {
		t.Helper()
		if got := len(filter.Apply(back)); got != want {
			t.Fatalf("%+v kept %d letters, want %d", filter, got, want)
		}
	}
	f(dlq.Filter{}, 3)
	f(dlq.Filter{Source: "http"}, 2)
	f(dlq.Filter{Source: "http", Reason: schemas.ReasonMissingField}, 1)
	f(dlq.Filter{Reason: schemas.ReasonMalformed}, 1)
	f(dlq.Filter{Source: "webhook/ups"}, 0)
}

func TestReplay(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	good := `{"event_id":"e1","tracking_number":"LX1CN","carrier":"chinapost","status":"delivered","occurred_at":"2026-11-20T10:00:00Z"}`
	letters := []dlq.Letter{
		{Source: "http", Reason: schemas.ReasonUnknownStatus, Value: []byte(good)},
		{Source: "processor", Reason: schemas.ReasonUnknownStatus, Topic: "shiplens.events", Partition: 1, Offset: 7, Value: []byte(`{"event_id":"e2"}`)},
		// A webhook payload is parsed again by its adapter; failing that it
		// may have been replaced by the canonical event it should have been.
		{Source: "webhook/aftership", Reason: schemas.ReasonUnknownStatus, Value: []byte(good)},
	}
	res := dlq.Replay(letters, now)
	if res.Fixed != 2 || len(res.Events) != 2 || len(res.StillBad) != 1 {
		t.Fatalf("replay: %+v", res)
	}
	if res.Events[0].EventID != "e1" || res.Events[0].Status != schemas.Delivered {
		t.Fatalf("replayed event %+v", res.Events[0])
	}
	if msg := res.StillBad[0].Error(); !strings.Contains(msg, "shiplens.events/1@7") {
		t.Fatalf("a still-bad letter must say where it came from: %s", msg)
	}
}

// TestWriterAndReadTopic writes letters through a real Kafka protocol and
// reads them back, skipping a record that is no dead letter.
func TestWriterAndReadTopic(t *testing.T) {
	e, err := broker.Start(broker.Options{Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := dlq.NewWriter(e.Addrs(), "")
	if w.Topic() != schemas.DLQTopic {
		t.Fatalf("default topic %s", w.Topic())
	}
	in := []dlq.Letter{
		dlq.New("http", []byte("a"), []byte("one"), invalid(schemas.ReasonMalformed, "", "x")),
		dlq.New("http", []byte("b"), []byte("two"), invalid(schemas.ReasonMissingField, "event_id", "y")),
	}
	if err := w.Write(ctx, in...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	stray := &kafka.Writer{Addr: kafka.TCP(e.Addrs()...), Topic: schemas.DLQTopic, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	if err := stray.WriteMessages(ctx, kafka.Message{Value: []byte("not a letter")}); err != nil {
		t.Fatal(err)
	}
	stray.Close()
	var skipped int
	got, err := dlq.ReadTopic(ctx, e.Addrs(), schemas.DLQTopic, func(*kafka.Message, error) { skipped++ })
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]schemas.Reason{}
	for _, d := range got {
		values[string(d.Value)] = d.Reason
	}
	if skipped != 1 || len(got) != 2 || values["one"] != schemas.ReasonMalformed || values["two"] != schemas.ReasonMissingField {
		t.Fatalf("read back %d letters (%v), skipped %d", len(got), values, skipped)
	}
	b, err := json.Marshal(got[0])
	if err != nil || !strings.Contains(string(b), `"source":"http"`) {
		t.Fatalf("export of a letter read from Kafka: %s %v", b, err)
	}
}
