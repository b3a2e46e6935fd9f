package notify_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/notify"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

var exampleEnv = env(map[string]string{
	"SHIPLENS_WEBHOOK_SECRET_ACME": "acme-secret",
	"SHIPLENS_WEBHOOK_SECRET_OPS":  "ops-secret",
	"SHIPLENS_SMTP_USERNAME":       "mailer",
	"SHIPLENS_SMTP_PASSWORD":       "hunter2",
})

// TestExampleConfig loads the documented example (testdata/notify.yaml) and
// checks every value against what the file says.
func TestExampleConfig(t *testing.T) {
	cfg, err := notify.LoadConfig("testdata/notify.yaml", exampleEnv)
	if err != nil {
		t.Fatal(err)
	}
	wantDelivery := notify.Delivery{MaxAttempts: 8, InitialBackoff: time.Second, MaxBackoff: 5 * time.Minute, Timeout: 10 * time.Second,
		Workers: 4, Queue: 256, MaxInFlight: 1024, CommitInterval: time.Second, DrainTimeout: 30 * time.Second, DedupSize: 100000}
	if cfg.Delivery != wantDelivery {
		t.Errorf("delivery %+v, want %+v", cfg.Delivery, wantDelivery)
	}
	if cfg.StartAtEnd {
		t.Error("start_at earliest read as latest")
	}
	wantHooks := []notify.Webhook{
		{Name: "acme", Merchant: "acme", URL: "https://hooks.acme.example/shiplens", Secret: []byte("acme-secret"),
			Alerts: true, Notifications: true, MinTier: alerts.Warning, Rate: 5, Burst: 1},
		{Name: "ops", Merchant: "*", URL: "https://ops.example/hooks/shiplens?team=cs", Secret: []byte("ops-secret"),
			Alerts: true, Rate: 10, Burst: 10},
	}
	if !reflect.DeepEqual(cfg.Webhooks, wantHooks) {
		t.Errorf("webhooks\n%+v\nwant\n%+v", cfg.Webhooks, wantHooks)
	}
	e := cfg.Email
	if e == nil {
		t.Fatal("no email")
	}
	if e.Addr != "smtp.example.com:587" || e.From.Name != "Shiplens" || e.From.Address != "alerts@shiplens.example" ||
		e.Username != "mailer" || e.Password != "hunter2" || e.TLS != notify.TLSAlways || e.MessageIDDomain != "shiplens.example" || e.HelloName != "notify.shiplens.example" ||
		e.AlertsMinTier != alerts.Warning || e.Rate != 10 || e.Burst != 10 {
		t.Errorf("email %+v", e)
	}
	if !reflect.DeepEqual(e.AlertsTo, []string{"cs@shop.example"}) ||
		!reflect.DeepEqual(e.MerchantAlert, map[string][]string{"acme": {"support@acme.example", "logistics@acme.example"}}) {
		t.Errorf("alert recipients %v, %v", e.AlertsTo, e.MerchantAlert)
	}
	if e.Contacts == nil || e.Contacts.Len() != 2 {
		t.Fatalf("contacts not loaded from testdata/contacts.csv")
	}
	if got := e.Contacts.Lookup("LX100CN"); !reflect.DeepEqual(got, []string{"li.wei@example.cn", "wei@example.com"}) {
		t.Errorf("contacts of LX100CN: %v", got)
	}
	if got := e.Contacts.Lookup("UNKNOWN"); got != nil {
		t.Errorf("contacts of an unknown shipment: %v", got)
	}
}

// TestConfigErrors: every refusal is one line that names the file, the line
// and what to fix.
func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	f := func(name, yaml string, vars map[string]string, want ...string) {
		t.Helper()
		path := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := notify.LoadConfig(path, env(vars))
		if err == nil {
			t.Errorf("%s: accepted", name)
			return
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") {
			t.Errorf("%s: error spans lines: %q", name, msg)
		}
		for _, w := range append(want, path) {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: error %q lacks %q", name, msg, w)
			}
		}
	}
	secret := map[string]string{"S": "x"}
	f("unknown-field", "webhooks:\n  - merchant: acme\n    url: https://h.example/\n    secret_env: S\n    retries: 3\n",
		secret, "line 5", `unknown field "retries"`)
	f("unknown-top", "webhook:\n  - merchant: acme\n", secret, "line 1", `unknown field "webhook"`)
	f("unknown-email", "email:\n  smtp: h:25\n  from: a@b.example\n  alerts_to: [c@d.example]\n  tls: on\n", nil, "line 5", `unknown field "tls"`)
	f("missing-secret", "webhooks:\n  - merchant: acme\n    url: https://h.example/\n    secret_env: SHIPLENS_WEBHOOK_SECRET_ACME\n",
		nil, "line 4", "SHIPLENS_WEBHOOK_SECRET_ACME", "not set")
	f("empty-secret", "webhooks:\n  - merchant: acme\n    url: https://h.example/\n    secret_env: S\n",
		map[string]string{"S": ""}, "line 4", "environment variable S")
	f("no-secret-env", "webhooks:\n  - merchant: acme\n    url: https://h.example/\n", nil, "line 2", "secret_env is required")
	f("missing-password", "email:\n  smtp: h:25\n  from: a@b.example\n  alerts_to: [c@d.example]\n  username_env: U\n  password_env: SHIPLENS_SMTP_PASSWORD\n",
		map[string]string{"U": "u"}, "line 6", "SHIPLENS_SMTP_PASSWORD")
	f("no-merchant", "webhooks:\n  - url: https://h.example/\n    secret_env: S\n", secret, "line 2", "merchant is required")
	f("bad-url", "webhooks:\n  - merchant: a\n    url: h.example/hook\n    secret_env: S\n", secret, "line 3", "absolute http or https URL")
	f("bad-records", "webhooks:\n  - merchant: a\n    url: https://h.example/\n    secret_env: S\n    records: [alerts, orders]\n", secret, "line 5", `"orders"`)
	f("bad-tier", "webhooks:\n  - merchant: a\n    url: https://h.example/\n    secret_env: S\n    min_tier: urgent\n", secret, "line 5", "want info, warning or critical")
	f("bad-rate", "webhooks:\n  - merchant: a\n    url: https://h.example/\n    secret_env: S\n    rate: 0\n", secret, "line 5", "rate must be positive")
	f("duplicate-name", "webhooks:\n  - merchant: a\n    url: https://h.example/\n    secret_env: S\n  - merchant: a\n    url: https://i.example/\n    secret_env: S\n",
		secret, "line 5", `"a" is used twice`)
	f("bad-duration", "delivery:\n  timeout: 10\n", nil, "line 2")
	f("negative", "delivery:\n  max_attempts: -1\nwebhooks: []\n", nil, "line 2", "max_attempts")
	f("bad-address", "email:\n  smtp: h:25\n  from: a@b.example\n  alerts_to: [not-an-address]\n", nil, "line 4", "not-an-address")
	f("no-port", "email:\n  smtp: smtp.example.com\n  from: a@b.example\n  alerts_to: [c@d.example]\n", nil, "line 2", "host:port")
	f("clear-password", "email:\n  smtp: smtp.example.com:25\n  from: a@b.example\n  alerts_to: [c@d.example]\n  username_env: U\n  password_env: P\n  starttls: never\n",
		map[string]string{"U": "u", "P": "p"}, "line 7", "clear text")
	f("no-destination", "delivery:\n  workers: 2\n", nil, "no destination")
	f("empty", "", nil, "empty notify config")
	f("two-documents", "webhooks: []\n---\nwebhooks: []\n", nil, "line 2", "second YAML document")
	f("duplicate-key", "start_at: earliest\nstart_at: latest\n", nil, "line 2", "already defined")
	f("bad-start", "start_at: yesterday\n", nil, "line 1", "earliest or latest")
	f("missing-contacts", "email:\n  smtp: h:25\n  from: a@b.example\n  contacts: nowhere.csv\n", nil, "line 4", "nowhere.csv")

	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("tracking_number,email\nLX1,a@b.example\nLX2,broken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f("bad-contacts", "email:\n  smtp: h:25\n  from: a@b.example\n  contacts: bad.csv\n", nil, "line 4", "bad.csv line 3", `"broken"`)
}

func TestContactsFile(t *testing.T) {
	dir := t.TempDir()
	f := func(name, csv string, want map[string][]string, wantErr string) {
		t.Helper()
		path := filepath.Join(dir, name+".csv")
		if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := notify.LoadContacts(path, -1)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("%s: error %v, want %q", name, err, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Len() != len(want) {
			t.Errorf("%s: %d tracking numbers, want %d", name, c.Len(), len(want))
		}
		for num, addrs := range want {
			if got := c.Lookup(num); !reflect.DeepEqual(got, addrs) {
				t.Errorf("%s: %s has %v, want %v", name, num, got, addrs)
			}
		}
	}
	f("plain", "tracking_number,email\nA1,a@x.example\nB2,b@x.example\n", map[string][]string{"A1": {"a@x.example"}, "B2": {"b@x.example"}}, "")
	f("bom-and-case", "\ufeffTracking_Number, Email\r\nA1, a@x.example\r\n", map[string][]string{"A1": {"a@x.example"}}, "")
	f("repeated", "tracking_number,email\nA1,a@x.example\nA1,a@x.example\nA1,c@x.example\n", map[string][]string{"A1": {"a@x.example", "c@x.example"}}, "")
	f("header-only", "tracking_number,email\n", map[string][]string{}, "")
	f("wrong-header", "number,mail\nA1,a@x.example\n", nil, "line 1")
	f("empty", "", nil, "line 1")
	f("three-columns", "tracking_number,email\nA1,a@x.example,extra\n", nil, "line 2")
	f("no-number", "tracking_number,email\n,a@x.example\n", nil, "line 2: empty tracking_number")
}

// TestContactsReload: a running notifier sees addresses added to the file.
func TestContactsReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(path, []byte("tracking_number,email\nA1,a@x.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := notify.LoadContacts(path, time.Nanosecond)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Lookup("B2"); got != nil {
		t.Fatalf("B2 before the change: %v", got)
	}
	if err := os.WriteFile(path, []byte("tracking_number,email\nA1,a@x.example\nB2,b@x.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := c.Lookup("B2"); !reflect.DeepEqual(got, []string{"b@x.example"}) {
		t.Fatalf("B2 after the change: %v", got)
	}
	// A broken file keeps what was read before.
	if err := os.WriteFile(path, []byte("tracking_number,email\nA1,broken,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := c.Lookup("A1"); !reflect.DeepEqual(got, []string{"a@x.example"}) {
		t.Fatalf("A1 after a broken change: %v", got)
	}
}

// TestDocExample keeps the example in the package documentation the same as
// testdata/notify.yaml, which TestExampleConfig loads.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile("testdata/notify.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var example []string
	in := false
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "//\tstart_at:") {
			in = true
		}
		if in && !strings.HasPrefix(line, "//\t") && line != "//" {
			break
		}
		if in {
			example = append(example, strings.TrimPrefix(strings.TrimPrefix(line, "//"), "\t"))
		}
	}
	_, want, _ := strings.Cut(string(file), "start_at:")
	if got := strings.TrimSpace(strings.Join(example, "\n")); got != strings.TrimSpace("start_at:"+want) {
		t.Errorf("the example in doc.go differs from testdata/notify.yaml:\n%s", got)
	}
}
