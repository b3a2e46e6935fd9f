package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const healthSynopsis = "health [--timeout D] URL"

// runHealth is the health check of the container image, which has no shell
// and no curl: it exits 0 when GET URL answers 200 within the timeout, and 1
// with the reason otherwise. docker-compose.yml checks the long-running
// services with it, on the /healthz of their --metrics-listen or --listen.
func runHealth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("health", healthSynopsis, stderr)
	timeout := f.Duration("timeout", 3*time.Second, "give up after this long")
	if err := f.parse(args); err != nil {
		return err
	}
	if f.NArg() != 1 {
		return errUsage{"give one URL, e.g. http://127.0.0.1:9464/healthz"}
	}
	u, err := url.Parse(f.Arg(0))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errUsage{fmt.Sprintf("invalid URL %q: want http://host:port/path", f.Arg(0))}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: %s answered %s: %s", u, res.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(stdout, "healthy: %s\n", u)
	return nil
}
