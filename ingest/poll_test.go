package ingest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/schemas"
)

// fakeUPS plays the UPS Track API: a known tracking number gets the fixture
// payload after one 429 and one 503, an unknown one UPS's "not found" answer.
type fakeUPS struct {
	mu       sync.Mutex
	calls    map[string]int
	auth     []string
	payload  []byte
	notFound []byte
}

func (f *fakeUPS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tn, ok := strings.CutPrefix(r.URL.Path, "/api/track/v1/details/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	f.calls[tn]++
	n := f.calls[tn]
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	switch {
	case tn == "1Z999AA10123456784" && n == 1:
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
	case tn == "1Z999AA10123456784" && n == 2:
		w.WriteHeader(http.StatusServiceUnavailable)
	case tn == "1Z999AA10123456784":
		w.Write(f.payload)
	case tn == "1ZDENIED":
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"response":{"errors":[{"code":"250002","message":"Invalid Authentication Information."}]}}`))
	default:
		w.WriteHeader(http.StatusNotFound)
		w.Write(f.notFound)
	}
}

func TestPollUPS(t *testing.T) {
	payload, err := os.ReadFile("carriers/testdata/ups/intl_two_packages.json")
	if err != nil {
		t.Fatal(err)
	}
	notFound, err := os.ReadFile("carriers/testdata/ups/not_found.json")
	if err != nil {
		t.Fatal(err)
	}
	ups := &fakeUPS{calls: map[string]int{}, payload: payload, notFound: notFound}
	srv := httptest.NewServer(ups)
	defer srv.Close()

	e, err := broker.Start(broker.Options{Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	pub, err := NewProducer(ProducerConfig{Brokers: e.Addrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	open := func(context.Context) ([]string, error) {
		return []string{"1Z999AA10123456784", "1Z000000000000000X", "1ZDENIED"}, nil
	}
	p, err := NewPoller(PollConfig{Source: "ups", BaseURL: srv.URL, Token: "tok-123", RatePerSec: 1000, MaxBackoff: 10 * time.Millisecond}, open, pub)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	round, err := p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if round.Polled != 3 || round.Failed != 1 || round.Events == 0 || round.Problems == 0 {
		t.Fatalf("round %+v: want 3 polled, 1 failed (401), events from the good one, a problem for the unknown one", round)
	}
	if ups.calls["1Z999AA10123456784"] != 3 {
		t.Fatalf("the throttled number was requested %d times, want 3 (429, 503, 200)", ups.calls["1Z999AA10123456784"])
	}
	if ups.calls["1ZDENIED"] != 1 {
		t.Fatalf("a 401 was retried %d times; it is final", ups.calls["1ZDENIED"]-1)
	}
	for _, a := range ups.auth {
		if a != "Bearer tok-123" {
			t.Fatalf("request carried Authorization %q", a)
		}
	}
	var events, letters int
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	if err := kafkaadmin.ReadAll(ctx2, e.Addrs(), schemas.EventsTopic, func(*kafka.Message) error { events++; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := kafkaadmin.ReadAll(ctx2, e.Addrs(), schemas.DLQTopic, func(*kafka.Message) error { letters++; return nil }); err != nil {
		t.Fatal(err)
	}
	if events != round.Events || letters != round.Problems {
		t.Fatalf("Kafka holds %d events and %d dead letters; the round reported %d and %d", events, letters, round.Events, round.Problems)
	}

	// A second round re-reads the same scans: same event ids, so the
	// processor will deduplicate them.
	round2, err := p.Poll(ctx)
	if err != nil || round2.Events != round.Events {
		t.Fatalf("second round %+v, %v", round2, err)
	}
}

func TestNewPollerValidates(t *testing.T) {
	if _, err := NewPoller(PollConfig{Source: "pigeon", BaseURL: "http://x"}, nil, nil); err == nil || !strings.Contains(err.Error(), "ups") {
		t.Fatalf("unknown source: %v", err)
	}
	if _, err := NewPoller(PollConfig{Source: "ups", BaseURL: "not a url"}, nil, nil); err == nil {
		t.Fatal("accepted a bad base URL")
	}
}
