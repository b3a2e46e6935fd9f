// Package api is shiplens' HTTP API (DESIGN section 7): it mounts the
// ingestion receiver's routes (POST /v1/events, POST /v1/webhooks/{source})
// beside the query endpoints (GET /v1/carriers, GET /v1/eta/{tracking_number},
// GET /v1/eta/quote), GET /metrics (Prometheus)
// and GET /healthz, and gives every server the same timeouts. Handlers only
// translate HTTP to calls of the packages that do the work (ingest, store)
// and errors to status codes; they hold no business logic.
package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/ingest"
	"github.com/shiplens/shiplens/store"
)

// Scorecards answers carrier scorecard queries; *store.Store is one.
type Scorecards interface {
	Scorecard(ctx context.Context, q store.ScorecardQuery) ([]analytics.ScoreRow, error)
}

var _ Scorecards = (*store.Store)(nil)

// Config says what a Handler serves; every part is optional.
type Config struct {
	Receiver   *ingest.Receiver // mounts POST /v1/events and /v1/webhooks/{source}; nil mounts neither
	Scorecards Scorecards       // answers GET /v1/carriers; nil answers it with 501
	ETAs       ETAs             // answers GET /v1/eta/{tracking_number}; nil answers it with 501
	Models     *Models          // the ETA model for lookups (time at milestone) and GET /v1/eta/quote; nil answers quotes with 501
	// Health reports whether the server can do its job (Kafka answers);
	// GET /healthz answers 503 with its error. Nil is always healthy.
	Health func(ctx context.Context) error
	// Gatherer serves GET /metrics; defaults to prometheus.DefaultGatherer.
	Gatherer prometheus.Gatherer
	Log      *slog.Logger // defaults to slog.Default()
}

// Handler returns the routes of cfg.
func Handler(cfg Config) http.Handler {
	if cfg.Gatherer == nil {
		cfg.Gatherer = prometheus.DefaultGatherer
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	mux := http.NewServeMux()
	if cfg.Receiver != nil {
		cfg.Receiver.Register(mux)
	}
	mux.Handle("GET /v1/carriers", carriers(cfg))
	mux.Handle("GET /v1/eta/quote", etaQuote(cfg))
	mux.Handle("GET /v1/eta/{tracking_number}", etaLookup(cfg))
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(cfg.Log.Handler(), slog.LevelError)}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if cfg.Health != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
			defer cancel()
			if err := cfg.Health(ctx); err != nil {
				Error(w, http.StatusServiceUnavailable, err.Error())
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	return mux
}

// carriers serves GET /v1/carriers?from=DAY&to=DAY[&carrier=C][&lane=L]
// [&service=S][&merchant=M]: the scorecard rows as a JSON array, the same as
// `report carriers --format json` with the same filters.
func carriers(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cfg.Scorecards == nil {
			Error(w, http.StatusNotImplemented, "this server has no ClickHouse to query: start it with a ClickHouse address")
			return
		}
		v := r.URL.Query()
		q, err := ParseDays(v.Get("from"), v.Get("to"))
		if err != nil {
			Error(w, http.StatusBadRequest, err.Error())
			return
		}
		q.Carrier, q.Lane, q.Service, q.Merchant = v.Get("carrier"), v.Get("lane"), v.Get("service"), v.Get("merchant")
		rows, err := cfg.Scorecards.Scorecard(r.Context(), q)
		if err != nil {
			cfg.Log.Error("scorecard query failed", "err", err)
			Error(w, http.StatusServiceUnavailable, "cannot query ClickHouse; retry later")
			return
		}
		if rows == nil {
			rows = []analytics.ScoreRow{}
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			cfg.Log.Warn("cannot write scorecard response", "err", err)
		}
	})
}

// ParseDays reads an inclusive range of UTC days given as YYYY-MM-DD, for
// the scorecard. Its errors name the parameters "from" and "to".
func ParseDays(from, to string) (store.ScorecardQuery, error) {
	var q store.ScorecardQuery
	if from == "" || to == "" {
		return q, fmt.Errorf("both from and to are required (YYYY-MM-DD)")
	}
	var err error
	if q.From, err = time.Parse(time.DateOnly, from); err != nil {
		return q, fmt.Errorf("invalid from %q: want YYYY-MM-DD", from)
	}
	if q.To, err = time.Parse(time.DateOnly, to); err != nil {
		return q, fmt.Errorf("invalid to %q: want YYYY-MM-DD", to)
	}
	if err := q.Validate(); err != nil {
		return q, err
	}
	return q, nil
}

// Error writes {"error": msg} with code.
func Error(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
