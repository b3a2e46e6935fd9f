package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/conc/pool"
	"golang.org/x/time/rate"

	"github.com/shiplens/shiplens/dlq"
	"github.com/shiplens/shiplens/ingest/carriers"
	"github.com/shiplens/shiplens/internal/retry"
)

// PollConfig configures a Poller.
type PollConfig struct {
	Source      string        // ups, fedex, usps or dhl
	BaseURL     string        // the carrier API root, e.g. https://onlinetools.ups.com
	Token       string        // bearer token (ups, fedex, usps) or API key (dhl); never logged
	Interval    time.Duration // between rounds; defaults to 15m
	RatePerSec  float64       // requests per second to the carrier; defaults to 5
	Concurrency int           // requests in flight; defaults to 4
	MaxAttempts int           // per tracking number and round, on 429 and 5xx; defaults to 5
	MaxBackoff  time.Duration // defaults to 30s
	Client      *http.Client  // defaults to one with a 30s timeout
	Log         *slog.Logger
}

// OpenShipments lists the tracking numbers still worth polling.
type OpenShipments func(ctx context.Context) ([]string, error)

// Poller re-reads open tracking numbers from a carrier API on a schedule and
// publishes what the carrier reports; event ids are deterministic, so
// scans seen before are deduplicated downstream.
type Poller struct {
	cfg     PollConfig
	adapter carriers.Adapter
	open    OpenShipments
	pub     Publisher
	limiter *rate.Limiter
	Metrics *Metrics
}

// PollSources lists the sources a Poller can request.
func PollSources() []string { return []string{"dhl", "fedex", "ups", "usps"} }

// NewPoller returns a poller of cfg.Source.
func NewPoller(cfg PollConfig, open OpenShipments, pub Publisher) (*Poller, error) {
	if !containsString(PollSources(), cfg.Source) {
		return nil, fmt.Errorf("cannot poll %q: want one of %s", cfg.Source, strings.Join(PollSources(), ", "))
	}
	if _, err := url.ParseRequestURI(cfg.BaseURL); err != nil || cfg.BaseURL == "" {
		return nil, fmt.Errorf("invalid base URL %q for %s: want e.g. https://api.example.com", cfg.BaseURL, cfg.Source)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 15 * time.Minute
	}
	if cfg.RatePerSec <= 0 {
		cfg.RatePerSec = 5
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	a, err := carriers.Lookup(cfg.Source)
	if err != nil {
		return nil, err
	}
	return &Poller{cfg: cfg, adapter: a, open: open, pub: pub, Metrics: NewMetrics(),
		limiter: rate.NewLimiter(rate.Limit(cfg.RatePerSec), 1)}, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Round is what one polling round did.
type Round struct {
	Polled, Events, Problems, Failed int
}

// Run polls a round every Interval until ctx ends.
func (p *Poller) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		r, err := p.Poll(ctx)
		if err != nil && ctx.Err() == nil {
			p.cfg.Log.Error("polling round failed", "source", p.cfg.Source, "err", err)
		} else {
			p.cfg.Log.Info("polling round done", "source", p.cfg.Source, "polled", r.Polled, "events", r.Events, "problems", r.Problems, "failed", r.Failed)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Poll runs one round: every open tracking number once, rate-limited and
// with bounded concurrency. A tracking number whose requests keep failing is
// counted and left for the next round; only a failure to publish stops it.
func (p *Poller) Poll(ctx context.Context) (Round, error) {
	numbers, err := p.open(ctx)
	if err != nil {
		return Round{}, fmt.Errorf("cannot list open shipments: %w", err)
	}
	var (
		mu    sync.Mutex
		round Round
	)
	source := "poll/" + p.cfg.Source
	pl := pool.New().WithContext(ctx).WithMaxGoroutines(p.cfg.Concurrency).WithCancelOnError()
	for _, tn := range numbers {
		pl.Go(func(ctx context.Context) error {
			body, err := p.fetch(ctx, tn)
			mu.Lock()
			round.Polled++
			mu.Unlock()
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				p.cfg.Log.Warn("cannot poll tracking number", "source", p.cfg.Source, "tracking_number", tn, "err", err)
				p.Metrics.refused(source, "fetch_failed")
				mu.Lock()
				round.Failed++
				mu.Unlock()
				return nil
			}
			res, err := p.adapter.Parse(body, time.Now())
			letters := dlq.FromResult(source, []byte(tn), body, res, err)
			if len(letters) > 0 {
				if err := p.pub.DeadLetter(ctx, letters); err != nil {
					return err
				}
				for _, l := range letters {
					p.Metrics.rejected(source, l.Reason)
				}
			}
			if len(res.Events) > 0 {
				if err := p.pub.Publish(ctx, res.Events); err != nil {
					return err
				}
				p.Metrics.accepted(source, len(res.Events))
			}
			mu.Lock()
			round.Events += len(res.Events)
			round.Problems += len(letters)
			mu.Unlock()
			return nil
		})
	}
	err = pl.Wait()
	return round, err
}

// request builds the carrier's tracking request for tn.
func (p *Poller) request(ctx context.Context, tn string) (*http.Request, error) {
	base := strings.TrimRight(p.cfg.BaseURL, "/")
	var (
		req *http.Request
		err error
	)
	switch p.cfg.Source {
	case "ups":
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/track/v1/details/"+url.PathEscape(tn)+"?locale=en_US", nil)
		if err == nil {
			req.Header.Set("transId", tn)
			req.Header.Set("transactionSrc", "shiplens")
		}
	case "fedex":
		body, _ := json.Marshal(map[string]any{"includeDetailedScans": true,
			"trackingInfo": []any{map[string]any{"trackingNumberInfo": map[string]string{"trackingNumber": tn}}}})
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, base+"/track/v1/trackingnumbers", bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	case "usps":
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, base+"/tracking/v3/tracking/"+url.PathEscape(tn)+"?expand=DETAIL", nil)
	case "dhl":
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, base+"/track/shipments?trackingNumber="+url.QueryEscape(tn), nil)
	}
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if p.cfg.Token != "" {
		if p.cfg.Source == "dhl" {
			req.Header.Set("DHL-API-Key", p.cfg.Token)
		} else {
			req.Header.Set("Authorization", "Bearer "+p.cfg.Token)
		}
	}
	return req, nil
}

// fetch requests tn, retrying 429 and 5xx answers and network errors with
// jittered exponential backoff (or the carrier's Retry-After); any other
// answer of 300 or more is final.
func (p *Poller) fetch(ctx context.Context, tn string) ([]byte, error) {
	var body []byte
	err := retry.Do(ctx, retry.Policy{Initial: 200 * time.Millisecond, Max: p.cfg.MaxBackoff, MaxAttempts: p.cfg.MaxAttempts},
		func(ctx context.Context) error {
			if err := p.limiter.Wait(ctx); err != nil {
				return retry.Permanent(err)
			}
			var err error
			body, err = p.once(ctx, tn)
			return err
		})
	return body, err
}

// statusError is a carrier's answer of 300 or more.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string {
	if e.body == "" {
		return fmt.Sprintf("carrier answered %d", e.status)
	}
	return fmt.Sprintf("carrier answered %d: %s", e.status, e.body)
}

func (p *Poller) once(ctx context.Context, tn string) ([]byte, error) {
	req, err := p.request(ctx, tn)
	if err != nil {
		return nil, err
	}
	res, err := p.cfg.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, carriers.MaxPayload+1))
	if err != nil {
		return nil, err
	}
	switch {
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		err := error(&statusError{status: res.StatusCode})
		if s, perr := strconv.Atoi(res.Header.Get("Retry-After")); perr == nil {
			err = retry.After(err, time.Duration(s)*time.Second)
		}
		return nil, err
	case res.StatusCode == http.StatusNotFound:
		// Carriers answer 404 with a body that says "not found"; the adapter
		// turns it into a problem, which is what the operator needs to see.
		return body, nil
	case res.StatusCode >= 300:
		snippet := string(body)
		if len(snippet) > 200 {
			snippet = snippet[:200]
		}
		return nil, retry.Permanent(&statusError{status: res.StatusCode, body: snippet})
	}
	return body, nil
}
