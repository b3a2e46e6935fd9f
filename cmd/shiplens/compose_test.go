package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
)

// service is what docker-compose.yml says about one shiplens service.
type service struct {
	name    string
	build   bool
	command []string
	env     map[string]string
}

// composeServices reads the subset of YAML that docker-compose.yml uses:
// two-space nesting, `command:` as a JSON-style array, `environment:` as a map.
func composeServices(t *testing.T) map[string]*service {
	t.Helper()
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*service{}
	var cur *service
	inServices, inEnv := false, false
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case indent == 0:
			inServices = trimmed == "services:"
			cur = nil
		case inServices && indent == 2:
			cur = &service{name: strings.TrimSuffix(trimmed, ":"), env: map[string]string{}}
			out[cur.name] = cur
			inEnv = false
		case cur != nil && indent == 4:
			inEnv = trimmed == "environment:"
			if trimmed == "build: ." {
				cur.build = true
			}
			if rest, ok := strings.CutPrefix(trimmed, "command: "); ok {
				if err := json.Unmarshal([]byte(rest), &cur.command); err != nil {
					t.Fatalf("service %s: command %s: %v", cur.name, rest, err)
				}
			}
		case cur != nil && inEnv && indent == 6:
			k, v, _ := strings.Cut(trimmed, ":")
			cur.env[k] = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return out
}

// TestComposeCommands runs every shiplens command of docker-compose.yml, with
// its environment, against an embedded Kafka and the test ClickHouse standing
// in for the kafka and clickhouse services: migrate, generate, the processor
// and, through the tools service, a report.
func TestComposeCommands(t *testing.T) {
	svcs := composeServices(t)
	for _, name := range []string{"kafka", "clickhouse", "migrate", "processor", "serve", "generate", "shiplens"} {
		if svcs[name] == nil {
			t.Fatalf("docker-compose.yml has no service %s", name)
		}
	}
	addr, db := chtest.DB(t)
	emb, err := broker.Start(broker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	hosts := strings.NewReplacer("kafka:9092", emb.Addrs()[0], "clickhouse:9000", "clickhouse://"+addr+"/"+db)
	setEnv := func(s *service) {
		for k, v := range s.env {
			if !strings.HasPrefix(k, "SHIPLENS_") {
				t.Fatalf("service %s sets %s, which shiplens does not read", s.name, k)
			}
			if inner, ok := strings.CutPrefix(v, "${"); ok { // ${VAR:-default}: compose interpolation
				_, def, _ := strings.Cut(strings.TrimSuffix(inner, "}"), ":-")
				v = def
			}
			t.Setenv(k, hosts.Replace(v))
		}
	}
	runService := func(s *service, extra ...string) (int, string, string) {
		if !s.build || len(s.command) == 0 && len(extra) == 0 {
			t.Fatalf("service %s does not run the shiplens image with a command", s.name)
		}
		setEnv(s)
		return cli(t, append(append([]string(nil), s.command...), extra...)...)
	}

	if code, out, errs := runService(svcs["migrate"]); code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errs)
	}
	gen := svcs["generate"]
	gen.command = append(gen.command, "--shipments", "1000") // the compose value is a full-size run
	if code, _, errs := runService(gen); code != 0 {
		t.Fatalf("generate: exit %d\n%s", code, errs)
	}

	proc := svcs["processor"]
	setEnv(proc)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var code int
	var perr strings.Builder
	wg.Add(1)
	go func() {
		defer wg.Done()
		code = run(ctx, proc.command, &strings.Builder{}, &perr)
	}()
	group := hosts.Replace(proc.env["SHIPLENS_GROUP"])
	deadline := time.Now().Add(2 * time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	for range tick.C {
		lag, total, err := broker.Lag(context.Background(), emb.Addrs(), group, broker.EventsTopic)
		if err == nil && total > 0 && lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processor did not catch up: lag %d of %d (%v)", lag, total, err)
		}
	}
	tick.Stop()
	cancel()
	wg.Wait()
	if code != 0 {
		t.Fatalf("processor: exit %d\n%s", code, perr.String())
	}

	// The ingestion API starts with its compose command and answers /healthz.
	serve := svcs["serve"]
	setEnv(serve)
	listen := freeAddr(t)
	cmdline := append([]string(nil), serve.command...)
	for i, a := range cmdline {
		if a == "0.0.0.0:8080" {
			cmdline[i] = listen
		}
	}
	stopServe := background(t, cmdline...)
	waitFor(t, "serve to answer /healthz", func() bool {
		res, err := http.Get("http://" + listen + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	if code, errs := stopServe(); code != 0 {
		t.Fatalf("serve: exit %d: %s", code, errs)
	}

	code, out, errs := runService(svcs["shiplens"], "report", "carriers", "--from", "2026-09-01", "--to", "2027-03-01", "--format", "json")
	if code != 0 {
		t.Fatalf("report: exit %d\n%s", code, errs)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) == 0 {
		t.Fatalf("report JSON %q: %v", out, err)
	}
	for _, k := range []string{"carrier", "lane", "delivered", "with_promise", "on_time", "on_time_rate", "transit_hours_p50",
		"transit_hours_p90", "customs_dwell_hours_p50", "customs_dwell_hours_p90", "exceptions"} {
		if _, ok := rows[0][k]; !ok {
			t.Errorf("report row lacks %q: %v", k, rows[0])
		}
	}
}
