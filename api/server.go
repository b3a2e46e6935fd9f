package ingest

import (
	"net/http"
	"time"
)

// Timeouts bound every connection of the HTTP API, so that a slow or stuck
// client (slow-loris) cannot hold a connection open.
type Timeouts struct {
	ReadHeader time.Duration // defaults to 5s
	Read       time.Duration // whole request including the body; defaults to 30s
	Write      time.Duration // defaults to 30s
	Idle       time.Duration // keep-alive; defaults to 60s
}

// NewHTTPServer returns a server for h on addr with t's timeouts and a 64 KiB
// header limit.
func NewHTTPServer(addr string, h http.Handler, t Timeouts) *http.Server {
	if t.ReadHeader <= 0 {
		t.ReadHeader = 5 * time.Second
	}
	if t.Read <= 0 {
		t.Read = 30 * time.Second
	}
	if t.Write <= 0 {
		t.Write = 30 * time.Second
	}
	if t.Idle <= 0 {
		t.Idle = 60 * time.Second
	}
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    64 << 10,
	}
}
