package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/store"
)

// ETAs answers prediction lookups by tracking number; *store.Store is one.
type ETAs interface {
	ETAs(ctx context.Context, trackingNumbers []string) (map[string]eta.Record, error)
}

var _ ETAs = (*store.Store)(nil)

// ModelSource gives the latest saved ETA model; *store.Store is one.
type ModelSource interface {
	LatestModel(ctx context.Context) (version uint32, blob []byte, ok bool, err error)
}

var _ ModelSource = (*store.Store)(nil)

// Models keeps the latest saved ETA model for requests, reading it again at
// most every Refresh. It is safe for concurrent use.
type Models struct {
	Source  ModelSource
	Refresh time.Duration // defaults to a minute

	mu      sync.Mutex
	model   *eta.Model
	pred    *eta.Predictor // guarded by mu: predictors are not concurrent
	checked time.Time
}

// With calls fn with a predictor of the current model, or nil when none
// was ever saved. A model that cannot be read again keeps the last one.
func (m *Models) With(ctx context.Context, fn func(*eta.Predictor)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	every := m.Refresh
	if every <= 0 {
		every = time.Minute
	}
	if m.checked.IsZero() || time.Since(m.checked) >= every {
		v, blob, ok, err := m.Source.LatestModel(ctx)
		switch {
		case err != nil && m.model == nil:
			return err
		case err == nil && ok && (m.model == nil || m.model.Version() != v):
			if md, err := eta.Unmarshal(blob); err == nil {
				m.model, m.pred = md, md.NewPredictor()
			}
		}
		if err == nil {
			m.checked = time.Now()
		}
	}
	fn(m.pred)
	return nil
}

// ParseLanguage returns the language code v names, "en" when v is empty, or
// an error naming the languages served.
func ParseLanguage(v string) (string, error) {
	if v == "" {
		return "en", nil
	}
	v = strings.ToLower(v)
	if !slices.Contains(schemas.Languages, v) {
		return "", fmt.Errorf("unknown lang %q: want one of %s", v, strings.Join(schemas.Languages, ", "))
	}
	return v, nil
}

// etaLookup serves GET /v1/eta/{tracking_number}?lang=: the shipment's
// prediction (eta.Answer), predicted again as of the stream's clock when
// the model is at hand; 404 for a number no prediction exists for.
func etaLookup(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cfg.ETAs == nil {
			Error(w, http.StatusNotImplemented, "this server has no ClickHouse to query: start it with a ClickHouse address")
			return
		}
		tn := r.PathValue("tracking_number")
		lang, err := ParseLanguage(r.URL.Query().Get("lang"))
		if err != nil {
			Error(w, http.StatusBadRequest, err.Error())
			return
		}
		if tn == "" || len(tn) > 64 {
			Error(w, http.StatusBadRequest, "a tracking number has 1 to 64 characters")
			return
		}
		recs, err := cfg.ETAs.ETAs(r.Context(), []string{tn})
		if err != nil {
			cfg.Log.Error("ETA lookup failed", "err", err)
			Error(w, http.StatusServiceUnavailable, "cannot query ClickHouse; retry later")
			return
		}
		rec, ok := recs[tn]
		if !ok {
			Error(w, http.StatusNotFound, fmt.Sprintf("no shipment %q is known", tn))
			return
		}
		var a eta.Answer
		answer := func(p *eta.Predictor) {
			var m *eta.Model
			if p != nil {
				m = p.Model()
			}
			a = eta.NewAnswer(rec, p, eta.Clock(&rec, m, time.Now()), lang)
		}
		if cfg.Models == nil {
			answer(nil)
		} else if err := cfg.Models.With(r.Context(), answer); err != nil {
			cfg.Log.Warn("cannot read the ETA model; answering the stored prediction", "err", err)
			answer(nil)
		}
		writeJSON(w, cfg, a)
	})
}

// etaQuote serves GET /v1/eta/quote?lane=CN-US[&carrier=][&service=]
// [&shipped_at=][&deadline=]: a what-if prediction for a parcel not yet
// shipped, ranked over the carriers seen on the lane (eta.QuoteResponse).
// shipped_at defaults to now; times are RFC 3339 or YYYY-MM-DD (a deadline
// day means its end, UTC).
func etaQuote(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cfg.Models == nil {
			Error(w, http.StatusNotImplemented, "this server has no ClickHouse to read the ETA model from: start it with a ClickHouse address")
			return
		}
		v := r.URL.Query()
		q, err := ParseQuote(v.Get("lane"), v.Get("carrier"), v.Get("service"), v.Get("shipped_at"), v.Get("deadline"), time.Now())
		if err != nil {
			Error(w, http.StatusBadRequest, err.Error())
			return
		}
		var resp eta.QuoteResponse
		found := false
		if err := cfg.Models.With(r.Context(), func(p *eta.Predictor) {
			if p == nil {
				return
			}
			found = true
			resp = eta.NewQuoteResponse(p, q.Lane, q.Carrier, q.Service, q.ShippedAt, q.Deadline)
		}); err != nil {
			cfg.Log.Error("cannot read the ETA model", "err", err)
			Error(w, http.StatusServiceUnavailable, "cannot query ClickHouse; retry later")
			return
		}
		if !found {
			Error(w, http.StatusServiceUnavailable, "no ETA model has been learned yet: run the processor on some deliveries first")
			return
		}
		writeJSON(w, cfg, resp)
	})
}

// Quote is a parsed what-if query.
type Quote struct {
	Lane, Carrier, Service string
	ShippedAt, Deadline    uint32 // Unix seconds; Deadline 0: none
}

// ParseQuote reads the parameters of a quote; its errors name them as the
// HTTP API does.
func ParseQuote(lane, carrier, service, shippedAt, deadline string, now time.Time) (Quote, error) {
	q := Quote{Lane: strings.ToUpper(lane), Carrier: strings.ToLower(carrier), Service: service, ShippedAt: uint32(now.Unix())}
	if len(q.Lane) != 5 || q.Lane[2] != '-' {
		return q, fmt.Errorf("invalid lane %q: want ORIGIN-DESTINATION country codes, e.g. CN-US", lane)
	}
	if shippedAt != "" {
		t, err := parseTime(shippedAt, false)
		if err != nil {
			return q, fmt.Errorf("invalid shipped_at %q: %v", shippedAt, err)
		}
		q.ShippedAt = uint32(t.Unix())
	}
	if deadline != "" {
		t, err := parseTime(deadline, true)
		if err != nil {
			return q, fmt.Errorf("invalid deadline %q: %v", deadline, err)
		}
		if !t.After(time.Unix(int64(q.ShippedAt), 0)) {
			return q, fmt.Errorf("deadline %s is not after shipped_at %s", t.Format(time.RFC3339), time.Unix(int64(q.ShippedAt), 0).UTC().Format(time.RFC3339))
		}
		q.Deadline = uint32(t.Unix())
	}
	return q, nil
}

// parseTime reads RFC 3339 or a day; a day as a deadline is its last second.
func parseTime(s string, endOfDay bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, validTime(t)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return t, fmt.Errorf("want RFC 3339 (2026-11-05T10:00:00Z) or YYYY-MM-DD")
	}
	if endOfDay {
		t = t.Add(24*time.Hour - time.Second)
	}
	return t, validTime(t)
}

func validTime(t time.Time) error {
	if t.Year() < 2000 || t.Year() > 2100 {
		return fmt.Errorf("%s is out of range (2000 to 2100)", t.Format(time.RFC3339))
	}
	return nil
}

func writeJSON(w http.ResponseWriter, cfg Config, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		cfg.Log.Warn("cannot write response", "err", err)
	}
}
