package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/schemas"
)

// service is what docker-compose.yml says about one shiplens service.
type service struct {
	name    string
	build   bool
	command []string
	env     map[string]string
}

// composeFile is the part of the Compose file format the test reads.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
	} `yaml:"services"`
}

// composeServices parses docker-compose.yml with a YAML library, so that any
// valid Compose syntax the file uses is read as Compose would read it.
func composeServices(t *testing.T) map[string]*service {
	t.Helper()
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	out := map[string]*service{}
	for name, s := range f.Services {
		if s.Image == "" && s.Build == nil {
			t.Fatalf("service %s has neither image nor build", name)
		}
		env := s.Environment
		if env == nil {
			env = map[string]string{}
		}
		out[name] = &service{name: name, build: s.Build != nil, command: s.Command, env: env}
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
	metricsAddr := freeAddr(t)
	for i, a := range proc.command {
		if a == "0.0.0.0:9464" {
			proc.command[i] = metricsAddr
		}
	}
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
	wctx, wcancel := context.WithTimeout(context.Background(), 2*time.Minute)
	err = kafkaadmin.WaitCaughtUp(wctx, emb.Addrs(), group, schemas.EventsTopic, kafkaadmin.WaitOptions{})
	wcancel()
	if err != nil {
		t.Fatalf("the compose processor did not catch up: %v", err)
	}
	// Its --metrics-listen serves Prometheus metrics that count every event.
	_, total, err := kafkaadmin.Lag(context.Background(), emb.Addrs(), group, schemas.EventsTopic)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatalf("the compose processor does not serve /metrics: %v", err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("shiplens_processor_consumed_total %d\n", total); !strings.Contains(string(body), want) {
		t.Fatalf("/metrics lacks %q:\n%s", want, body)
	}
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
