package ingest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/shiplens/shiplens/dlq"
	"github.com/shiplens/shiplens/ingest/carriers"
	"github.com/shiplens/shiplens/schemas"
)

// Signature headers. The shiplens scheme signs "<timestamp>.<body>" so a
// captured request cannot be replayed after the window; AfterShip's own
// scheme signs the body alone, so a repeated body inside the window is
// refused instead.
const (
	HeaderSignature = "X-Shiplens-Signature"  // "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
	HeaderTimestamp = "X-Shiplens-Timestamp"  // Unix seconds
	HeaderAfterShip = "Aftership-Hmac-Sha256" // base64 HMAC-SHA256(secret, body)
)

// Publisher sends accepted events to the events topic and rejected records
// to the DLQ, returning only once both are acknowledged.
type Publisher interface {
	Publish(ctx context.Context, events []schemas.Event) error
	DeadLetter(ctx context.Context, letters []dlq.Letter) error
}

// ReceiverConfig configures a Receiver.
type ReceiverConfig struct {
	// Secrets holds the webhook secret of each source (aftership, 17track,
	// dhl, ...); a source without one is refused. Read from SHIPLENS_WEBHOOK_SECRET_<SOURCE>.
	Secrets map[string][]byte
	// APIToken, if set, is required as "Authorization: Bearer <token>" on POST /v1/events.
	APIToken     string
	MaxBodyBytes int64         // defaults to 10 MiB
	ReplayWindow time.Duration // how far a signed timestamp may be from now; defaults to 5m
	RatePerSec   float64       // requests per second per source; defaults to 50
	Burst        int           // defaults to 100
	Now          func() time.Time
	Log          *slog.Logger
}

func (c ReceiverConfig) withDefaults() ReceiverConfig {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 10 << 20
	}
	if c.ReplayWindow <= 0 {
		c.ReplayWindow = 5 * time.Minute
	}
	if c.RatePerSec <= 0 {
		c.RatePerSec = 50
	}
	if c.Burst <= 0 {
		c.Burst = 100
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Receiver is the HTTP ingestion API: POST /v1/events and
// POST /v1/webhooks/{source}. It answers only after Kafka acknowledged what it
// accepted; every record it refuses goes to the DLQ with its reason.
type Receiver struct {
	cfg     ReceiverConfig
	pub     Publisher
	Metrics *Metrics

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	seen     map[string]time.Time // signatures (or AfterShip body MACs) accepted within the window
}

// NewReceiver returns a receiver that publishes through pub.
func NewReceiver(cfg ReceiverConfig, pub Publisher) *Receiver {
	return &Receiver{cfg: cfg.withDefaults(), pub: pub, Metrics: NewMetrics(), limiters: map[string]*rate.Limiter{}, seen: map[string]time.Time{}}
}

// Register adds the receiver's routes to mux.
func (rc *Receiver) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/events", rc.handleEvents)
	mux.HandleFunc("POST /v1/webhooks/{source}", rc.handleWebhook)
}

// Answer is the JSON body of every ingestion response.
type Answer struct {
	Accepted int       `json:"accepted"`
	Rejected []Problem `json:"rejected,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// Problem is one refused record of a request.
type Problem struct {
	Record int            `json:"record"` // 0-based line or record index; -1 for the whole request
	Field  string         `json:"field,omitempty"`
	Reason schemas.Reason `json:"reason"`
	Error  string         `json:"error"`
}

func reply(w http.ResponseWriter, code int, a Answer) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(a)
}

func fail(w http.ResponseWriter, code int, format string, args ...any) {
	reply(w, code, Answer{Error: fmt.Sprintf(format, args...)})
}

// readBody reads at most MaxBodyBytes; it answers 413 itself when the body is
// larger and 408 when the client is too slow.
func (rc *Receiver) readBody(w http.ResponseWriter, r *http.Request, source string) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rc.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			rc.Metrics.refused(source, "oversize")
			fail(w, http.StatusRequestEntityTooLarge, "body larger than %d bytes", rc.cfg.MaxBodyBytes)
			return nil, false
		}
		rc.Metrics.refused(source, "read_error")
		fail(w, http.StatusRequestTimeout, "cannot read body: %v", err)
		return nil, false
	}
	return body, true
}

func (rc *Receiver) allow(source string) bool {
	rc.mu.Lock()
	l := rc.limiters[source]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(rc.cfg.RatePerSec), rc.cfg.Burst)
		rc.limiters[source] = l
	}
	rc.mu.Unlock()
	return l.Allow()
}

// handleEvents takes canonical events: one JSON object, or JSON lines.
func (rc *Receiver) handleEvents(w http.ResponseWriter, r *http.Request) {
	const source = "http"
	if rc.cfg.APIToken != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !hmac.Equal([]byte(got), []byte(rc.cfg.APIToken)) {
			rc.Metrics.refused(source, "unauthorized")
			fail(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
	}
	if !rc.allow(source) {
		rc.Metrics.refused(source, "rate_limited")
		w.Header().Set("Retry-After", "1")
		fail(w, http.StatusTooManyRequests, "rate limit of %g requests/s exceeded", rc.cfg.RatePerSec)
		return
	}
	body, ok := rc.readBody(w, r, source)
	if !ok {
		return
	}
	now := rc.cfg.Now()
	var (
		events  []schemas.Event
		letters []dlq.Letter
		ans     Answer
	)
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), int(rc.cfg.MaxBodyBytes)+1)
	line := -1
	for sc.Scan() {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		line++
		e, err := schemas.Decode(raw, now)
		if err != nil {
			ie := &schemas.InvalidError{}
			errors.As(err, &ie)
			ans.Rejected = append(ans.Rejected, Problem{Record: line, Field: ie.Field, Reason: schemas.ReasonOf(err), Error: err.Error()})
			letters = append(letters, dlq.New(source, nil, bytes.Clone(raw), err))
			continue
		}
		events = append(events, e)
	}
	if line < 0 {
		rc.Metrics.refused(source, "empty")
		fail(w, http.StatusBadRequest, "empty body: want one canonical event as JSON, or JSON lines")
		return
	}
	rc.finish(w, r.Context(), source, events, letters, ans)
}

// finish publishes events and dead letters and answers: 202 when everything
// was accepted, 422 when some records were refused (the others are in
// Kafka), 503 when Kafka did not acknowledge (nothing may be assumed stored).
func (rc *Receiver) finish(w http.ResponseWriter, ctx context.Context, source string, events []schemas.Event, letters []dlq.Letter, ans Answer) {
	if len(letters) > 0 {
		if err := rc.pub.DeadLetter(ctx, letters); err != nil {
			rc.cfg.Log.Error("cannot write dead letters", "source", source, "err", err)
			fail(w, http.StatusServiceUnavailable, "cannot store rejected records; retry later")
			return
		}
		for _, l := range letters {
			rc.Metrics.rejected(source, l.Reason)
		}
	}
	if len(events) > 0 {
		if err := rc.pub.Publish(ctx, events); err != nil {
			rc.cfg.Log.Error("cannot publish events", "source", source, "err", err)
			fail(w, http.StatusServiceUnavailable, "cannot publish events; retry later")
			return
		}
		rc.Metrics.accepted(source, len(events))
	}
	ans.Accepted = len(events)
	code := http.StatusAccepted
	if len(ans.Rejected) > 0 {
		code = http.StatusUnprocessableEntity
	}
	reply(w, code, ans)
}

// handleWebhook authenticates a carrier or aggregator webhook and turns its
// payload into canonical events with the source's adapter.
func (rc *Receiver) handleWebhook(w http.ResponseWriter, r *http.Request) {
	name := strings.ToLower(r.PathValue("source"))
	adapter, err := carriers.Lookup(name)
	if err != nil {
		rc.Metrics.refused("webhook/unknown", "unknown_source")
		fail(w, http.StatusNotFound, "unknown webhook source %q: want one of %s", name, strings.Join(carriers.Sources(), ", "))
		return
	}
	source := "webhook/" + name
	secret := rc.cfg.Secrets[name]
	if len(secret) == 0 {
		rc.Metrics.refused(source, "not_configured")
		fail(w, http.StatusForbidden, "webhook source %s has no secret configured (set SHIPLENS_WEBHOOK_SECRET_%s)", name, strings.ToUpper(name))
		return
	}
	if !rc.allow(source) {
		rc.Metrics.refused(source, "rate_limited")
		w.Header().Set("Retry-After", "1")
		fail(w, http.StatusTooManyRequests, "rate limit of %g requests/s exceeded for %s", rc.cfg.RatePerSec, name)
		return
	}
	body, ok := rc.readBody(w, r, source)
	if !ok {
		return
	}
	replayKey, code, msg := rc.verify(r, name, secret, body)
	if code != 0 {
		rc.Metrics.refused(source, msg)
		fail(w, code, "%s", authText[msg])
		return
	}
	now := rc.cfg.Now()
	res, err := adapter.Parse(body, now)
	if err != nil {
		letter := dlq.FromPayload(source, nil, body, err)
		if derr := rc.pub.DeadLetter(r.Context(), []dlq.Letter{letter}); derr != nil {
			fail(w, http.StatusServiceUnavailable, "cannot store rejected payload; retry later")
			return
		}
		rc.Metrics.rejected(source, letter.Reason)
		rc.remember(replayKey)
		reply(w, http.StatusBadRequest, Answer{Error: err.Error(), Rejected: []Problem{{Record: -1, Reason: letter.Reason, Error: err.Error()}}})
		return
	}
	var ans Answer
	for _, p := range res.Problems {
		ans.Rejected = append(ans.Rejected, Problem{Record: p.Index, Field: p.Field, Reason: p.Reason, Error: p.Error()})
	}
	letters := dlq.FromResult(source, nil, body, res, nil)
	rc.finish(&rememberWriter{ResponseWriter: w, ok: func() { rc.remember(replayKey) }}, r.Context(), source, res.Events, letters, ans)
}

var authText = map[string]string{
	"missing_signature": "missing signature: send " + HeaderSignature + " and " + HeaderTimestamp,
	"bad_signature":     "signature does not match the body",
	"stale_timestamp":   "timestamp missing, malformed or outside the replay window",
	"replayed":          "this signed request was already accepted",
}

// verify checks the request's signature; it returns the key that identifies
// the request for replay protection, or an HTTP status and a reason.
func (rc *Receiver) verify(r *http.Request, source string, secret, body []byte) (key string, code int, reason string) {
	if source == "aftership" && r.Header.Get(HeaderAfterShip) != "" {
		got, err := base64.StdEncoding.DecodeString(r.Header.Get(HeaderAfterShip))
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
			return "", http.StatusUnauthorized, "bad_signature"
		}
		key = "aftership:" + hex.EncodeToString(got)
	} else {
		sig, ok := strings.CutPrefix(r.Header.Get(HeaderSignature), "sha256=")
		if !ok {
			return "", http.StatusUnauthorized, "missing_signature"
		}
		ts, err := strconv.ParseInt(r.Header.Get(HeaderTimestamp), 10, 64)
		if err != nil {
			return "", http.StatusUnauthorized, "stale_timestamp"
		}
		got, err := hex.DecodeString(sig)
		if err != nil || !hmac.Equal(got, Sign(secret, ts, body)) {
			return "", http.StatusUnauthorized, "bad_signature"
		}
		if d := rc.cfg.Now().Sub(time.Unix(ts, 0)); d > rc.cfg.ReplayWindow || d < -rc.cfg.ReplayWindow {
			return "", http.StatusUnauthorized, "stale_timestamp"
		}
		key = source + ":" + sig
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if exp, ok := rc.seen[key]; ok && rc.cfg.Now().Before(exp) {
		return "", http.StatusConflict, "replayed"
	}
	return key, 0, ""
}

// remember records an accepted request for replay protection, dropping
// entries whose window has passed.
func (rc *Receiver) remember(key string) {
	if key == "" {
		return
	}
	now := rc.cfg.Now()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.seen) > 1024 {
		for k, exp := range rc.seen {
			if now.After(exp) {
				delete(rc.seen, k)
			}
		}
	}
	// Body-only signatures never expire on their own: keep them a day.
	window := 2 * rc.cfg.ReplayWindow
	if strings.HasPrefix(key, "aftership:") {
		window = 24 * time.Hour
	}
	rc.seen[key] = now.Add(window)
}

// rememberWriter calls ok when a 2xx or 422 answer is written: the request's
// good records are stored, so a replay of it must be refused.
type rememberWriter struct {
	http.ResponseWriter
	ok func()
}

func (w *rememberWriter) WriteHeader(code int) {
	if code < 300 || code == http.StatusUnprocessableEntity {
		w.ok()
	}
	w.ResponseWriter.WriteHeader(code)
}

// Sign returns the shiplens webhook signature of body at Unix time ts:
// HMAC-SHA256(secret, "<ts>.<body>"). Send it hex-encoded as
// "X-Shiplens-Signature: sha256=<hex>" with "X-Shiplens-Timestamp: <ts>".
func Sign(secret []byte, ts int64, body []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}
