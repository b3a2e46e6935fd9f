package ingest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shiplens/shiplens/dlq"
	"github.com/shiplens/shiplens/schemas"
)

// memPublisher keeps what the receiver publishes, for the fuzzer, which
// cannot afford a broker per input.
type memPublisher struct {
	mu      sync.Mutex
	events  []schemas.Event
	letters []dlq.Letter
}

func (m *memPublisher) Publish(_ context.Context, e []schemas.Event) error {
	m.mu.Lock()
	m.events = append(m.events, e...)
	m.mu.Unlock()
	return nil
}

func (m *memPublisher) DeadLetter(_ context.Context, d []dlq.Letter) error {
	m.mu.Lock()
	m.letters = append(m.letters, d...)
	m.mu.Unlock()
	return nil
}

// FuzzWebhook sends correctly signed arbitrary bodies to every webhook
// source: the handler must never fail with a 5xx or panic, must answer JSON,
// and must account for every record it read: accepted ones published, each
// rejected one dead-lettered.
func FuzzWebhook(f *testing.F) {
	sources := []string{"aftership", "17track", "dhl", "fedex", "ups", "usps", "csv", "jsonl"}
	for i, s := range sources {
		files, _ := filepath.Glob(filepath.Join("carriers", "testdata", s, "*"))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil && len(b) < 64<<10 {
				f.Add(uint8(i), b)
			}
		}
	}
	f.Add(uint8(0), []byte(`{}`))
	f.Add(uint8(7), []byte("{\"event_id\":1}\n\n"))
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	secrets := map[string][]byte{}
	for _, s := range sources {
		secrets[s] = []byte("k")
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		source := sources[int(which)%len(sources)]
		pub := &memPublisher{}
		rc := NewReceiver(ReceiverConfig{Secrets: secrets, RatePerSec: 1e9, Burst: 1 << 30, Now: func() time.Time { return now }}, pub)
		mux := http.NewServeMux()
		rc.Register(mux)
		req := httptest.NewRequest(http.MethodPost, "/v1/webhooks/"+source, bytes.NewReader(body))
		ts := now.Unix()
		req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(HeaderSignature, "sha256="+hex.EncodeToString(Sign([]byte("k"), ts, body)))
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s: status %d: %s", source, w.Code, w.Body.String())
		}
		var a Answer
		if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
			t.Fatalf("%s: answer is not JSON: %q", source, w.Body.String())
		}
		if a.Accepted != len(pub.events) {
			t.Fatalf("%s: answered %d accepted, published %d", source, a.Accepted, len(pub.events))
		}
		if len(a.Rejected) != len(pub.letters) {
			t.Fatalf("%s: answered %d rejected, dead-lettered %d", source, len(a.Rejected), len(pub.letters))
		}
		for _, e := range pub.events {
			if err := e.Validate(now); err != nil {
				t.Fatalf("%s: published an invalid event: %v", source, err)
			}
		}
		switch w.Code {
		case http.StatusAccepted, http.StatusUnprocessableEntity, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("%s: unexpected status %d: %s", source, w.Code, w.Body.String())
		}
	})
}
