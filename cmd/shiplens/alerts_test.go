package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/store"
)

// alertsCLI runs `shiplens alerts` with args in-process.
func alertsCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = runAlerts(ctx, args, &out, &errb)
	return out.String(), errb.String(), err
}

// listAlerts are the alerts TestAlertsList stores, by name: each one's
// latest transition, and every transition, the latest first.
func listAlerts() (map[string]alerts.Alert, []alerts.Alert) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	mk := func(tn, rule string, typ alerts.Type, carrier, lane, merchant string, opened time.Duration) alerts.Alert {
		at := t0.Add(opened)
		id := alerts.AlertID(tn, rule, at)
		return alerts.Alert{ID: id, TransitionID: alerts.TransitionID(id, alerts.Opened, 1), Change: alerts.Opened, Seq: 1, Type: typ, Rule: rule,
			Tier: alerts.Warning, State: alerts.Open, TrackingNumber: tn, Partition: 2, Carrier: carrier, Service: "express", Lane: lane,
			Merchant: merchant, Status: "in_transit", LastEventAt: at.Add(-49 * time.Hour), OpenedAt: at, At: at, LimitHours: 48,
			Detail: "no scan for 48h at in_transit"}
	}
	x1 := mk("LX1", "stalled-48h", alerts.Stalled, "dhl", "CN-US", "acme", 0)
	x1r := x1
	x1r.Seq, x1r.Change, x1r.State, x1r.Status = 2, alerts.Closed, alerts.Resolved, "delivered"
	x1r.TransitionID = alerts.TransitionID(x1.ID, alerts.Closed, 2)
	x1r.ResolvedAt = x1.OpenedAt.Add(26*time.Hour + 30*time.Minute)
	x1r.At = x1r.ResolvedAt
	x2 := mk("LX2", "customs-hold", alerts.CustomsHeld, "ups", "CN-GB", "zeta", 10*time.Hour)
	x2.Tier, x2.LimitHours, x2.Detail = alerts.Critical, 0, "held\tfor documents"
	x3 := mk("LX3", "failed-delivery", alerts.DeliveryFailed, "dhl", "", "acme", 30*time.Hour)
	x3.Attempts, x3.Status, x3.LimitHours, x3.Detail = 2, "delivery_failed", 0, "2 failed delivery attempts"
	latest := map[string]alerts.Alert{"X1": x1r, "X2": x2, "X3": x3}
	return latest, []alerts.Alert{x1r, x3, x2, x1}
}

// TestAlertsList stores known alerts in a real ClickHouse and lists them
// with `shiplens alerts list` in both formats and with every filter.
func TestAlertsList(t *testing.T) {
	addr, db := chtest.DB(t)
	ch := "clickhouse://" + addr + "/" + db
	if code, _, errs := cli(t, "migrate", "--clickhouse", ch); code != 0 {
		t.Fatal(errs)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{Addr: addr, Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	latest, written := listAlerts()
	for range 2 { // a retried batch shows nothing twice
		if err := s.WriteAlerts(ctx, written); err != nil {
			t.Fatal(err)
		}
	}

	// json: one alert per line, as written.
	f := func(want []string, args ...string) {
		t.Helper()
		out, errs, err := alertsCLI(t, append([]string{"list", "--clickhouse", ch, "--format", "json"}, args...)...)
		if err != nil {
			t.Fatalf("%v: %v (stderr %q)", args, err, errs)
		}
		var w strings.Builder
		for _, name := range want {
			b, err := json.Marshal(latest[name])
			if err != nil {
				t.Fatal(err)
			}
			w.Write(b)
			w.WriteByte('\n')
		}
		if out != w.String() {
			t.Errorf("%v:\n%s\nwant %v:\n%s", args, out, want, w.String())
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var a alerts.Alert
			if line != "" && json.Unmarshal([]byte(line), &a) != nil {
				t.Errorf("%v: line %q is not an alert", args, line)
			}
		}
	}
	f([]string{"X3", "X2", "X1"})
	f([]string{"X3", "X2"}, "--open")
	f([]string{"X2"}, "--type", "customs_held")
	f([]string{"X3", "X1"}, "--merchant", "acme", "--carrier", "dhl")
	f([]string{"X2"}, "--lane", "CN-GB")
	f([]string{"X2", "X1"}, "--to", "2026-11-01")
	f([]string{"X3"}, "--from", "2026-11-02", "--to", "2026-11-02")
	f([]string{"X1"}, "--from", "2026-10-01", "--to", "2026-11-01", "--type", "stalled")
	f(nil, "--open", "--type", "stalled")
	f(nil, "--from", "2026-12-01")

	// --limit: the newest, and a note on stderr that there are more.
	out, errs, err := alertsCLI(t, "list", "--clickhouse", ch, "--format", "json", "--limit", "1")
	if err != nil || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"tracking_number":"LX3"`) ||
		errs != "shiplens alerts list: showing the 1 newest alerts; --limit 0 shows all\n" {
		t.Errorf("--limit 1: %v\n%s\nstderr %q", err, out, errs)
	}
	if _, errs, err := alertsCLI(t, "list", "--clickhouse", ch, "--limit", "3"); err != nil || errs != "" {
		t.Errorf("--limit 3 of 3: %v, stderr %q", err, errs)
	}

	// table: a header, one row per alert; columns are two spaces apart.
	before := time.Now()
	out, errs, err = alertsCLI(t, "list", "--clickhouse", ch, "--format", "table")
	after := time.Now()
	if err != nil {
		t.Fatalf("table: %v (stderr %q)", err, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	sep := regexp.MustCompile(`\s{2,}`)
	var rows [][]string
	for _, l := range lines {
		rows = append(rows, sep.Split(strings.TrimSpace(l), -1))
	}
	// age of an open alert: now − opened, in days and hours
	age := func(opened time.Time) []string {
		var out []string
		for _, now := range []time.Time{before, after} {
			d := now.Sub(opened)
			days, hours := int(d.Hours())/24, int(d.Hours())%24
			if hours == 0 {
				out = append(out, fmt.Sprintf("%dd", days))
			} else {
				out = append(out, fmt.Sprintf("%dd%dh", days, hours))
			}
		}
		return out
	}
	want := [][]string{
		{"opened_at", "tier", "type", "state", "tracking_number", "carrier", "lane", "merchant", "status", "age/resolved_in", "detail"},
		{"2026-11-02T06:00:00Z", "warning", "delivery_failed", "open", "LX3", "dhl", "-", "acme", "delivery_failed", "AGE", "2 failed delivery attempts"},
		{"2026-11-01T10:00:00Z", "critical", "customs_held", "open", "LX2", "ups", "CN-GB", "zeta", "in_transit", "AGE", "held for documents"},
		{"2026-11-01T00:00:00Z", "warning", "stalled", "resolved", "LX1", "dhl", "CN-US", "acme", "delivered", "26h30m", "no scan for 48h at in_transit"},
	}
	if len(rows) != len(want) {
		t.Fatalf("table has %d lines, want %d:\n%s", len(rows), len(want), out)
	}
	for i, w := range want {
		if w[9] == "AGE" {
			opened := latest[map[int]string{1: "X3", 2: "X2"}[i]].OpenedAt
			if ages := age(opened); slices.Contains(ages, rows[i][9]) {
				w[9] = rows[i][9]
			} else {
				w[9] = ages[0]
			}
		}
		if !slices.Equal(rows[i], w) {
			t.Errorf("table line %d:\n%q\nwant\n%q\n%s", i, rows[i], w, out)
		}
	}
	if out, _, err := alertsCLI(t, "list", "--clickhouse", ch, "--type", "lost"); err != nil || out != "no alerts match\n" {
		t.Errorf("no alerts, table: %q, %v", out, err)
	}
}

// TestAlertsBadCommandLines: a bad command line is a usage error of one
// line; a database that is missing or not migrated says what to run.
func TestAlertsBadCommandLines(t *testing.T) {
	f := func(want string, args ...string) {
		t.Helper()
		_, _, err := alertsCLI(t, args...)
		var ue errUsage
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want a one-line usage error saying %q", args, err, want)
		}
	}
	f("want a subcommand: shiplens alerts list")
	f(`unknown subcommand "frobnicate"`, "frobnicate")
	f(`unknown --type "late": want one of stalled, slow, customs_held, customs_failed, delivery_failed, returned, lost, predicted_late`,
		"list", "--type", "late")
	f(`invalid --from "2026-13-01": want YYYY-MM-DD`, "list", "--from", "2026-13-01")
	f(`invalid --to "yesterday"`, "list", "--to", "yesterday")
	f("--to 2026-10-01 is before --from 2026-10-02", "list", "--from", "2026-10-02", "--to", "2026-10-01")
	f("invalid --limit -1", "list", "--limit", "-1")
	f(`unknown --format "xml"`, "list", "--format", "xml")
	f("flag provided but not defined: -vendor", "list", "--vendor", "x")
	f(`unexpected argument "extra"`, "list", "extra")
	f("want host:port or clickhouse://", "list", "--clickhouse", "nohost")
	if out, _, err := alertsCLI(t, "--help"); !errors.Is(err, errHelp) || !strings.Contains(out, "alerts list [--open]") {
		t.Errorf("--help: %v, %q", err, out)
	}
	if _, errs, err := alertsCLI(t, "list", "-h"); !errors.Is(err, errHelp) || !strings.Contains(errs, "-merchant") {
		t.Errorf("list -h: %v, %q", err, errs)
	}

	_, _, err := alertsCLI(t, "list", "--clickhouse", "127.0.0.1:1")
	var ue errUsage
	if err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), "cannot") {
		t.Errorf("unreachable ClickHouse: %v, want a failure that is not a usage error", err)
	}
	addr, db := chtest.DB(t) // exists, not migrated
	_, _, err = alertsCLI(t, "list", "--clickhouse", "clickhouse://"+addr+"/"+db)
	if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "run `shiplens migrate") {
		t.Errorf("before migrate: %v, want a hint to run shiplens migrate", err)
	}
}

func TestAlertDuration(t *testing.T) {
	f := func(d time.Duration, want string) {
		t.Helper()
		if got := alertDuration(d); got != want {
			t.Errorf("alertDuration(%v) = %q, want %q", d, got, want)
		}
	}
	f(-time.Hour, "0m")
	f(59*time.Second, "0m")
	f(45*time.Minute, "45m")
	f(time.Hour, "1h")
	f(90*time.Minute, "1h30m")
	f(47*time.Hour+59*time.Minute, "47h59m")
	f(48*time.Hour, "2d")
	f(3*24*time.Hour+4*time.Hour+30*time.Minute, "3d4h")
}
