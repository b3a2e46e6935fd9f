package plugin

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/shiplens/shiplens/internal/testenv"
)

// The packaging: plugin.json as Grafana reads it, module.js as its SystemJS
// loader runs it, and the backend binary as Grafana starts it.

// TestPluginJSON checks the fields Grafana needs to load a backend data
// source with streaming and alerting.
func TestPluginJSON(t *testing.T) {
	b, err := os.ReadFile("plugin.json")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Type       string `json:"type"`
		Name       string `json:"name"`
		ID         string `json:"id"`
		Backend    bool   `json:"backend"`
		Executable string `json:"executable"`
		Streaming  bool   `json:"streaming"`
		Alerting   bool   `json:"alerting"`
		Metrics    bool   `json:"metrics"`
		Info       struct {
			Description string `json:"description"`
			Author      struct {
				Name string `json:"name"`
			} `json:"author"`
			Logos struct {
				Small string `json:"small"`
				Large string `json:"large"`
			} `json:"logos"`
			Version string `json:"version"`
			Updated string `json:"updated"`
		} `json:"info"`
		Dependencies struct {
			GrafanaDependency string `json:"grafanaDependency"`
		} `json:"dependencies"`
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	if err := d.Decode(&p); err != nil {
		t.Fatalf("plugin.json: %v", err)
	}
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("plugin.json %s = %v, want %v", name, got, want)
		}
	}
	check("type", p.Type, "datasource")
	check("id", p.ID, ID)
	check("backend", p.Backend, true)
	check("executable", p.Executable, "gpx_shiplens_analytics_datasource")
	check("streaming", p.Streaming, true)
	check("alerting", p.Alerting, true)
	check("metrics", p.Metrics, true)
	check("dependencies.grafanaDependency", p.Dependencies.GrafanaDependency, ">=10.4.0")
	// Grafana's id convention: organisation-name-type.
	if !regexp.MustCompile(`^[a-z0-9]+-[a-z0-9-]+-datasource$`).MatchString(p.ID) {
		t.Errorf("id %q does not follow <org>-<name>-datasource", p.ID)
	}
	if _, err := os.Stat(filepath.Join("cmd", p.Executable, "main.go")); err != nil {
		t.Errorf("executable %s has no cmd/%s: %v", p.Executable, p.Executable, err)
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(p.Info.Version) {
		t.Errorf("info.version %q is not semantic", p.Info.Version)
	}
	if _, err := time.Parse(time.DateOnly, p.Info.Updated); err != nil {
		t.Errorf("info.updated %q: %v", p.Info.Updated, err)
	}
	if p.Name == "" || p.Info.Description == "" || p.Info.Author.Name == "" {
		t.Errorf("name, description and author are required: %+v", p)
	}
	for _, logo := range []string{p.Info.Logos.Small, p.Info.Logos.Large} {
		if _, err := os.Stat(logo); err != nil {
			t.Errorf("logo: %v", err)
		}
	}
	// build.sh names the binaries as Grafana looks them up.
	sh, err := os.ReadFile("build.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sh), "exe="+p.Executable) || !strings.Contains(string(sh), `${exe}_linux_${arch}`) {
		t.Errorf("build.sh does not build %s_linux_<arch>", p.Executable)
	}
}

// node returns the node binary, skipping the test without one (failing
// under CI=true).
func node(t *testing.T) string {
	t.Helper()
	n, err := exec.LookPath("node")
	if err != nil {
		if testenv.InCI() {
			t.Fatal("node is needed to check module.js: apt-get install nodejs")
		}
		t.Skip("skipping: no node to check module.js (apt-get install nodejs)")
	}
	return n
}

// TestModuleJS parses module.js with node, then loads it through an AMD
// define as Grafana does and drives its editors (testdata/check_module.js);
// the query types and fields it edits must be the backend's.
func TestModuleJS(t *testing.T) {
	n := node(t)
	if out, err := exec.Command(n, "--check", "module.js").CombinedOutput(); err != nil {
		t.Fatalf("node --check module.js: %v\n%s", err, out)
	}
	cmd := exec.Command(n, "testdata/check_module.js", "module.js")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("check_module.js: %v\n%s", err, stderr.String())
	}
	var got struct {
		QueryTypes []string            `json:"queryTypes"`
		Fields     map[string][]string `json:"fields"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("check_module.js printed %q: %v", out, err)
	}
	if !slices.Equal(got.QueryTypes, QueryTypes) {
		t.Errorf("module.js query types %v, the backend's %v", got.QueryTypes, QueryTypes)
	}
	tags := map[string]bool{}
	qt := reflect.TypeFor[Query]()
	for i := range qt.NumField() {
		tags[strings.Split(qt.Field(i).Tag.Get("json"), ",")[0]] = true
	}
	for typ, fields := range got.Fields {
		for _, f := range fields {
			if !tags[f] {
				t.Errorf("module.js edits %s.%s, which the backend's Query does not read", typ, f)
			}
		}
	}
}

// TestBinary builds the backend, starts it as Grafana does (the plugin
// handshake on stdout, gRPC on the address it names) and asks it for its
// health over that connection.
func TestBinary(t *testing.T) {
	h := newHarness(t)
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("skipping: no go tool to build the binary")
	}
	bin := filepath.Join(t.TempDir(), "gpx_shiplens_analytics_datasource")
	build := exec.Command(goTool, "build", "-o", bin, "./cmd/gpx_shiplens_analytics_datasource")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(), "grafana_plugin_type=datasource", "PLUGIN_PROTOCOL_VERSIONS=2", "GF_PLUGIN_LOG_LEVEL=warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no handshake: %v", err)
	}
	// CORE-PROTOCOL|APP-PROTOCOL|NETWORK|ADDRESS|PROTOCOL
	parts := strings.Split(strings.TrimSpace(line), "|")
	if len(parts) < 5 || parts[1] != "2" || parts[4] != "grpc" {
		t.Fatalf("handshake %q, want protocol 2 over grpc", line)
	}
	target := parts[3]
	if parts[2] == "unix" {
		target = "unix://" + parts[3]
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := pluginv2.NewDiagnosticsClient(conn).CheckHealth(ctx, &pluginv2.CheckHealthRequest{
		PluginContext: backend.ToProto().PluginContext(pluginContext(h.good())),
	})
	if err != nil {
		t.Fatalf("CheckHealth over the binary's gRPC: %v", err)
	}
	if resp.Status != pluginv2.CheckHealthResponse_OK || !strings.Contains(resp.Message, "schema version") {
		t.Errorf("health %v %q", resp.Status, resp.Message)
	}
}
