package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/store"
)

// TestSlowLoris opens a connection that sends its headers too slowly and
// expects the server to cut it off.
func TestSlowLoris(t *testing.T) {
	srv := NewServer("127.0.0.1:0", http.NotFoundHandler(), Timeouts{ReadHeader: 200 * time.Millisecond, Read: time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("POST /v1/events HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	// Never finish the headers; the server must close the connection.
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	rd := bufio.NewReader(c)
	_, err = io.ReadAll(rd)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept a slow client's connection open for 30s")
	}
}

// fakeScorecards answers with fixed rows and records the query.
type fakeScorecards struct {
	got  store.ScorecardQuery
	rows []analytics.ScoreRow
	err  error
}

func (f *fakeScorecards) Scorecard(_ context.Context, q store.ScorecardQuery) ([]analytics.ScoreRow, error) {
	f.got = q
	return f.rows, f.err
}

func get(t *testing.T, h http.Handler, url string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
	return rec.Code, rec.Body.String()
}

func TestCarriers(t *testing.T) {
	sc := &fakeScorecards{}
	h := Handler(Config{Scorecards: sc, Gatherer: prometheus.NewRegistry()})
	f := func(url string, wantCode int, wantBody string) {
		t.Helper()
		code, body := get(t, h, url)
		if code != wantCode || !strings.Contains(body, wantBody) {
			t.Fatalf("GET %s = %d %s; want %d containing %q", url, code, body, wantCode, wantBody)
		}
		if strings.Contains(body, "--") {
			t.Fatalf("GET %s answers with CLI wording: %s", url, body)
		}
	}
	f("/v1/carriers", 400, `"both from and to are required (YYYY-MM-DD)"`)
	f("/v1/carriers?from=2026-01-01&to=yesterday", 400, `invalid to \"yesterday\"`)
	f("/v1/carriers?from=2026-02-01&to=2026-01-01", 400, "is before")
	f("/v1/carriers?from=2026-01-01&to=2026-01-31", 200, "[]")
	query := func(url string, want store.ScorecardQuery) {
		t.Helper()
		sc.got = store.ScorecardQuery{}
		f(url, 200, "[]")
		want.From, want.To = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
		if sc.got != want {
			t.Fatalf("GET %s passed on %+v, want %+v", url, sc.got, want)
		}
	}
	query("/v1/carriers?from=2026-01-01&to=2026-01-31", store.ScorecardQuery{})
	query("/v1/carriers?from=2026-01-01&to=2026-01-31&carrier=ups&lane=CN-US", store.ScorecardQuery{Carrier: "ups", Lane: "CN-US"})
	query("/v1/carriers?from=2026-01-01&to=2026-01-31&service=express", store.ScorecardQuery{Service: "express"})
	query("/v1/carriers?from=2026-01-01&to=2026-01-31&merchant=Shop%20%27A%27", store.ScorecardQuery{Merchant: "Shop 'A'"})
	query("/v1/carriers?merchant=m1&service=economy&lane=CN-BR&carrier=chinapost&to=2026-01-31&from=2026-01-01",
		store.ScorecardQuery{Carrier: "chinapost", Lane: "CN-BR", Service: "economy", Merchant: "m1"})
	sc.err = errors.New("connection refused")
	f("/v1/carriers?from=2026-01-01&to=2026-01-31", 503, "cannot query ClickHouse")

	none := Handler(Config{Gatherer: prometheus.NewRegistry()})
	if code, _ := get(t, none, "/v1/carriers?from=2026-01-01&to=2026-01-31"); code != http.StatusNotImplemented {
		t.Fatalf("without a store: %d, want 501", code)
	}
}

func TestHealthz(t *testing.T) {
	var down error
	h := Handler(Config{Health: func(context.Context) error { return down }, Gatherer: prometheus.NewRegistry()})
	if code, body := get(t, h, "/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("healthy: %d %q", code, body)
	}
	down = errors.New("cannot reach Kafka at k:9092")
	code, body := get(t, h, "/healthz")
	var e struct{ Error string }
	if code != 503 || json.Unmarshal([]byte(body), &e) != nil || e.Error != "cannot reach Kafka at k:9092" {
		t.Fatalf("unhealthy: %d %q", code, body)
	}
}
