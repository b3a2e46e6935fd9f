package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/dashboards"
	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/notify/mailpit"
	"github.com/shiplens/shiplens/schemas"
)

// service is what docker-compose.yml says about one service.
type service struct {
	name        string
	image       string
	build       bool
	command     []string
	env         map[string]string
	volumes     []string
	healthcheck []string
	dependsOn   map[string]string // service: condition
	restart     string
	profiles    []string
}

// composeFile is the part of the Compose file format the test reads.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		DependsOn map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Restart  string   `yaml:"restart"`
		Profiles []string `yaml:"profiles"`
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
		deps := map[string]string{}
		for d, c := range s.DependsOn {
			deps[d] = c.Condition
		}
		out[name] = &service{name: name, image: s.Image, build: s.Build != nil, command: s.Command, env: env,
			volumes: s.Volumes, healthcheck: s.Healthcheck.Test, dependsOn: deps, restart: s.Restart, profiles: s.Profiles}
	}
	return out
}

// mount is one bind mount of a service: a path of the repository, and where
// the container sees it.
type mount struct{ source, target string }

// mounts returns s's bind mounts (./path:/target[:ro]) with sources relative
// to the repository root; named volumes are left out.
func (s *service) mounts(t *testing.T) []mount {
	t.Helper()
	var out []mount
	for _, v := range s.volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || len(parts) > 3 {
			t.Fatalf("service %s: volume %q is not source:target[:mode]", s.name, v)
		}
		if !strings.HasPrefix(parts[0], "./") {
			continue // a named volume
		}
		out = append(out, mount{source: filepath.Clean(parts[0]), target: parts[1]})
	}
	return out
}

// sourceOf returns the repository path mounted at target in s, or "".
func (s *service) sourceOf(t *testing.T, target string) string {
	for _, m := range s.mounts(t) {
		if m.target == target {
			return m.source
		}
	}
	return ""
}

// The Dockerfile's entry point, which the health checks run.
const entrypoint = "/usr/local/bin/shiplens"

// TestComposeWiring checks what Docker would only find out when the stack
// starts: the files it mounts exist, the dependencies it waits for can
// happen, and Grafana gets exactly the dashboards package dashboards
// generates, the datasources they reference and the plugin `make plugin`
// builds.
func TestComposeWiring(t *testing.T) {
	svcs := composeServices(t)
	root := "../.."
	for _, s := range svcs {
		for d, cond := range s.dependsOn {
			dep := svcs[d]
			switch {
			case dep == nil:
				t.Errorf("%s depends on %s, which is not a service", s.name, d)
			case cond == "service_healthy" && len(dep.healthcheck) == 0:
				t.Errorf("%s waits for %s to be healthy, which has no health check", s.name, d)
			case cond == "service_completed_successfully" && dep.restart != "":
				t.Errorf("%s waits for %s to complete, which restarts (%s)", s.name, d, dep.restart)
			case cond != "service_healthy" && cond != "service_completed_successfully" && cond != "service_started":
				t.Errorf("%s depends on %s with condition %q", s.name, d, cond)
			}
			if len(dep.profiles) > 0 && len(s.profiles) == 0 {
				t.Errorf("%s, always started, depends on %s, started only with profile %v", s.name, d, dep.profiles)
			}
		}
		for _, m := range s.mounts(t) {
			if m.source == "dashboards/plugin/dist" {
				continue // built by `make plugin`, checked below
			}
			if _, err := os.Stat(filepath.Join(root, m.source)); err != nil {
				t.Errorf("service %s mounts %s, which does not exist: %v", s.name, m.source, err)
			}
		}
		// Every long-running shiplens service is checked with `shiplens
		// health` on the port its command listens on.
		if s.build && s.restart != "" {
			hc := s.healthcheck
			if len(hc) != 4 || hc[0] != "CMD" || hc[1] != entrypoint || hc[2] != "health" {
				t.Errorf("service %s: health check %q, want [CMD %s health URL]", s.name, hc, entrypoint)
				continue
			}
			u, err := url.Parse(hc[3])
			if err != nil {
				t.Errorf("service %s: health check URL %q: %v", s.name, hc[3], err)
				continue
			}
			if !slices.ContainsFunc(s.command, func(a string) bool { return a == "0.0.0.0:"+u.Port() }) {
				t.Errorf("service %s checks port %s, but its command %q does not listen there", s.name, u.Port(), s.command)
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "Dockerfile")); err != nil || !strings.Contains(string(b), `ENTRYPOINT ["`+entrypoint+`"]`) {
		t.Errorf("the Dockerfile's entry point is not %s (%v)", entrypoint, err)
	}

	g := svcs["grafana"]
	if g == nil {
		t.Fatal("docker-compose.yml has no service grafana")
	}
	prov := g.sourceOf(t, "/etc/grafana/provisioning")
	if prov != "dashboards/provisioning" {
		t.Fatalf("grafana mounts %q at /etc/grafana/provisioning, want dashboards/provisioning", prov)
	}

	// The dashboard provider's folder holds exactly the generated files.
	var providers struct {
		Providers []struct {
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, filepath.Join(root, prov, "dashboards", "shiplens.yaml"), &providers)
	if len(providers.Providers) != 1 || providers.Providers[0].Type != "file" {
		t.Fatalf("dashboard providers %+v, want one of type file", providers.Providers)
	}
	dir := g.sourceOf(t, providers.Providers[0].Options.Path)
	if dir == "" {
		t.Fatalf("grafana mounts nothing at %s, the dashboard provider's path", providers.Providers[0].Options.Path)
	}
	ds, err := dashboards.Build()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range ds {
		want = append(want, d.File)
	}
	entries, err := os.ReadDir(filepath.Join(root, dir))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name()) // Grafana scans every .json below the path, so nothing else belongs there
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("grafana provisions %s = %v, want exactly the generated dashboards %v", dir, got, want)
	}

	// The plugin: mounted where Grafana looks for its id, allowed unsigned,
	// from the folder the Makefile's plugin target (a prerequisite of up)
	// builds.
	var plugin struct {
		ID         string `json:"id"`
		Executable string `json:"executable"`
	}
	pj, err := os.ReadFile(filepath.Join(root, "dashboards/plugin/plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(pj, &plugin); err != nil {
		t.Fatal(err)
	}
	if src := g.sourceOf(t, "/var/lib/grafana/plugins/"+plugin.ID); src != "dashboards/plugin/dist" {
		t.Errorf("grafana mounts %q at /var/lib/grafana/plugins/%s, want dashboards/plugin/dist", src, plugin.ID)
	}
	if !slices.Contains(strings.Split(g.env["GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"], ","), plugin.ID) {
		t.Errorf("grafana does not allow the unsigned plugin %s: GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=%q", plugin.ID, g.env["GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"])
	}
	mk := exec.Command("make", "-n", "-C", root, "up")
	mk.Env = append(os.Environ(), "MAKEFLAGS=")
	plan, err := mk.Output()
	if err != nil {
		t.Fatalf("make -n up: %v", err)
	}
	if !regexp.MustCompile(`(?m)^bash dashboards/plugin/build\.sh\s*$`).Match(plan) {
		t.Errorf("make up does not first build the plugin into its default folder (dashboards/plugin/dist) with build.sh:\n%s", plan)
	}
	if sh, err := os.ReadFile(filepath.Join(root, "dashboards/plugin/build.sh")); err != nil || !strings.Contains(string(sh), `dist="${1:-$here/dist}"`) {
		t.Errorf("build.sh does not build into dashboards/plugin/dist by default (%v)", err)
	}

	// The datasources: every plugin type Grafana needs is installed or
	// mounted, they point at the clickhouse service, and every variable
	// they read is in Grafana's environment.
	raw, err := os.ReadFile(filepath.Join(root, prov, "datasources", "shiplens.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var sources struct {
		Datasources []struct {
			UID      string         `yaml:"uid"`
			Type     string         `yaml:"type"`
			JSONData map[string]any `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal(raw, &sources); err != nil {
		t.Fatal(err)
	}
	installed := strings.Split(g.env["GF_INSTALL_PLUGINS"], ",")
	for _, d := range sources.Datasources {
		if d.Type != plugin.ID && !slices.Contains(installed, d.Type) {
			t.Errorf("datasource %s has type %s, which GF_INSTALL_PLUGINS=%q does not install", d.UID, d.Type, g.env["GF_INSTALL_PLUGINS"])
		}
		host := fmt.Sprint(d.JSONData["host"], ":", d.JSONData["port"])
		if d.JSONData["host"] == nil {
			host = fmt.Sprint(d.JSONData["clickhouse"])
		}
		if h, _, _ := strings.Cut(host, ":"); svcs[h] == nil || svcs[h].image == "" || !strings.HasPrefix(svcs[h].image, "clickhouse/") {
			t.Errorf("datasource %s reaches %s, not the clickhouse service", d.UID, host)
		}
	}
	for _, m := range regexp.MustCompile(`\$\{?([A-Z_][A-Z0-9_]*)`).FindAllStringSubmatch(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(string(raw), ""), -1) {
		if _, ok := g.env[m[1]]; !ok {
			t.Errorf("the datasources read $%s, which grafana's environment does not set", m[1])
		}
	}
	if g.dependsOn["clickhouse"] != "service_healthy" {
		t.Errorf("grafana does not wait for clickhouse to be healthy: depends_on %v", g.dependsOn)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestComposeCommands runs every shiplens command of docker-compose.yml, with
// its environment, against an embedded Kafka and the test ClickHouse standing
// in for the kafka and clickhouse services, and a mailpit for mailpit:
// migrate, generate, the processor, serve, notify with the mounted
// deploy/notify.yaml, the services' health checks and, through the tools
// service, a report.
func TestComposeCommands(t *testing.T) {
	svcs := composeServices(t)
	for _, name := range []string{"kafka", "clickhouse", "migrate", "processor", "serve", "notify", "mailpit", "generate", "shiplens"} {
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
	// Each service sees only its own environment, as in its container.
	var set []string
	setEnv := func(s *service) {
		for _, k := range set {
			t.Setenv(k, "") // restored when the test ends
			os.Unsetenv(k)
		}
		set = set[:0]
		for k, v := range s.env {
			set = append(set, k)
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
	healthCheck(t, proc, metricsAddr)
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
	healthCheck(t, serve, listen)
	if code, errs := stopServe(); code != 0 {
		t.Fatalf("serve: exit %d: %s", code, errs)
	}

	composeNotify(t, svcs["notify"], setEnv, emb.Addrs())

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

// healthCheck runs s's health check command, `shiplens health URL`, against
// the address s listens on in the test.
func healthCheck(t *testing.T, s *service, addr string) {
	t.Helper()
	args := slices.Clone(s.healthcheck[2:]) // after CMD and the entry point
	u, err := url.Parse(args[len(args)-1])
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	args[len(args)-1] = u.String()
	if code, out, errs := cli(t, args...); code != 0 || !strings.HasPrefix(out, "healthy") {
		t.Fatalf("%s's health check %v: exit %d\n%s%s", s.name, args, code, out, errs)
	}
}

// composeNotify runs the notify service's command with the files compose
// mounts into it, its SMTP server mailpit:1025 being a test mailpit, over
// the alerts the compose processor published: they must reach the
// customer-service address of deploy/notify.yaml by e-mail. notify sends at
// most 10 e-mails a second by default, so the test reads the first 50.
func composeNotify(t *testing.T, s *service, setEnv func(*service), brokers []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ends, err := kafkaadmin.EndOffsets(ctx, brokers, alerts.AlertsTopic)
	if err != nil {
		t.Fatal(err)
	}
	var published int
	for _, n := range ends {
		published += int(n)
	}
	if published == 0 {
		t.Fatal("the compose processor published no alert; the test needs some")
	}

	mp := mailpit.Start(t)
	dir := t.TempDir()
	args := slices.Clone(s.command)
	var alertsTo []string
	for _, m := range s.mounts(t) {
		b, err := os.ReadFile(filepath.Join("../..", m.source))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(m.target, ".yaml") {
			if !bytes.Contains(b, []byte("mailpit:1025")) {
				t.Fatalf("%s does not send mail to the mailpit service (mailpit:1025)", m.source)
			}
			b = bytes.ReplaceAll(b, []byte("mailpit:1025"), []byte(mp.SMTPAddr))
			var cfg struct {
				Email struct {
					AlertsTo []string `yaml:"alerts_to"`
				} `yaml:"email"`
			}
			if err := yaml.Unmarshal(b, &cfg); err != nil {
				t.Fatalf("%s: %v", m.source, err)
			}
			alertsTo = cfg.Email.AlertsTo
		}
		local := filepath.Join(dir, strings.TrimPrefix(m.target, "/"))
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(local, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for i, a := range args {
			if a == m.target {
				args[i] = local
			}
		}
	}
	if len(alertsTo) == 0 {
		t.Fatal("the notify service's config sends alerts to nobody")
	}
	metricsAddr := freeAddr(t)
	for i, a := range args {
		if a == "0.0.0.0:9465" {
			args[i] = metricsAddr
		}
	}
	setEnv(s)
	stop := background(t, args...)
	want := min(published, 50)
	msgs, err := mp.WaitMessages(ctx, want)
	if err != nil {
		_, errs := stop()
		t.Fatalf("notify with the compose config: %v\n%s", err, errs)
	}
	healthCheck(t, s, metricsAddr)
	if code, errs := stop(); code != 0 {
		t.Fatalf("notify: exit %d\n%s", code, errs)
	}
	for _, m := range msgs {
		if got := m.Recipients(); !slices.Equal(got, alertsTo) {
			t.Errorf("alert e-mail %q went to %v, want %v", m.Subject, got, alertsTo)
		}
	}
	if len(msgs) > published {
		t.Errorf("%d e-mails for %d alert transitions", len(msgs), published)
	}
}
