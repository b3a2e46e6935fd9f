package api

import (
	"context"
	"fmt"
	"net"
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

// NewServer returns a server for h on addr with t's timeouts and a 64 KiB
// header limit.
func NewServer(addr string, h http.Handler, t Timeouts) *http.Server {
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

// Serve serves srv on ln until ctx ends, then shuts down gracefully, giving
// requests in flight up to grace (30s when 0) to finish. It returns nil after a
// clean shutdown.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	if grace <= 0 {
		grace = 30 * time.Second
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("cannot serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("cannot shut down the server on %s: %w", ln.Addr(), err)
	}
	<-errc
	return nil
}
