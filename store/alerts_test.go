package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/internal/retry"
	"github.com/shiplens/shiplens/schemas"
)

// alertT0 is the first hour of the test alerts' month.
var alertT0 = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

func alertAt(h float64) time.Time { return alertT0.Add(time.Duration(h * float64(time.Hour))) }

// opening is the first transition of an alert of rule on shipment tn,
// opened at hour h.
func opening(tn, rule string, typ alerts.Type, partition int, carrier, lane, merchant string, h float64) alerts.Alert {
	at := alertAt(h)
	id := alerts.AlertID(tn, rule, at)
	return alerts.Alert{ID: id, TransitionID: alerts.TransitionID(id, alerts.Opened, 1), Change: alerts.Opened, Seq: 1,
		Type: typ, Rule: rule, Tier: alerts.Warning, State: alerts.Open, TrackingNumber: tn, Partition: partition,
		Carrier: carrier, Service: "express", Lane: lane, Merchant: merchant, Status: "in_transit", Milestone: "in_transit",
		LastEventAt: at.Add(-50 * time.Hour), OpenedAt: at, At: at, LimitHours: 48, Detail: fmt.Sprintf("%s on %s", rule, tn)}
}

// then is the transition after a: change c at hour h.
func then(a alerts.Alert, c alerts.Change, h float64) alerts.Alert {
	a.Seq++
	a.Change, a.TransitionID, a.At = c, alerts.TransitionID(a.ID, c, a.Seq), alertAt(h)
	switch c {
	case alerts.Updated:
		a.Attempts++
		a.Detail += fmt.Sprintf(", updated at %gh", h)
	case alerts.Escalated:
		a.Tier, a.EscalatedAt = alerts.Critical, a.At
	case alerts.Closed:
		a.State, a.ResolvedAt, a.Status = alerts.Resolved, a.At, "delivered"
	}
	return a
}

// alertSet returns the test alerts' transitions, each alert's in order,
// and the latest transition of each by name. Hours after alertT0; the
// times to resolve are worked out in TestAlertSummary.
func alertSet() (history []alerts.Alert, latest map[string]alerts.Alert) {
	latest = map[string]alerts.Alert{}
	add := func(name string, ts ...alerts.Alert) {
		history = append(history, ts...)
		latest[name] = ts[len(ts)-1]
	}
	a1 := opening("T1", "stalled-48h", alerts.Stalled, 3, "dhl", "CN-US", "acme", 0)
	a1e := then(a1, alerts.Escalated, 30)
	add("A1", a1, a1e, then(a1e, alerts.Closed, 50)) // resolved in 50 h
	a2 := opening("T2", "stalled-48h", alerts.Stalled, 3, "dhl", "CN-US", "acme", 10)
	add("A2", a2, then(a2, alerts.Closed, 14)) // 4 h
	// A3's merchant became known after it opened: its latest labels count.
	a3 := opening("T3", "stalled-48h", alerts.Stalled, 3, "dhl", "CN-US", "", 20)
	a3u := then(a3, alerts.Updated, 25)
	a3u.Merchant = "acme"
	add("A3", a3, a3u) // open
	a4 := opening("T4", "customs-hold", alerts.CustomsHeld, 3, "ups", "CN-GB", "o'brien", 5)
	add("A4", a4, then(a4, alerts.Closed, 77)) // 72 h
	a5 := opening("T5", "failed-delivery", alerts.DeliveryFailed, 5, "dhl", "CN-US", "acme", 1)
	a5.Attempts, a5.Tier = 1, alerts.Info
	a5u := then(a5, alerts.Updated, 3)
	add("A5", a5, a5u, then(a5u, alerts.Updated, 9)) // open, 3 attempts, another partition
	a6 := opening("T6", "late", alerts.PredictedLate, 3, "dhl", "CN-US", "acme", 40)
	a6.PromisedAt, a6.PredictedAt, a6.LimitHours, a6.Milestone = alertAt(100), alertAt(130), 0, ""
	add("A6", a6, then(a6, alerts.Closed, 41.5)) // 1.5 h
	// A7 opened in August.
	a7 := opening("T7", "lost-7d", alerts.Lost, 3, "fedex", "US-MX", "zeta", -960)
	a7.Tier, a7.Service, a7.Detail = alerts.Critical, "", "lost: no scan for 7 days\tsince the \"exception\""
	add("A7", a7) // open
	a8 := opening("T8", "stalled-48h", alerts.Stalled, 3, "dhl", "CN-US", "acme", 60)
	add("A8", a8, then(a8, alerts.Closed, 62)) // 2 h
	a9 := opening("T9", "customs-hold", alerts.CustomsHeld, 3, "ups", "CN-GB", "o'brien", 6)
	add("A9", a9, then(a9, alerts.Closed, 30)) // 24 h
	// T1 stalls again after its first alert resolved: another alert.
	add("A10", opening("T1", "stalled-48h", alerts.Stalled, 3, "dhl", "CN-US", "acme", 55)) // open
	return history, latest
}

// scrambled returns the transitions in the order a replaying processor
// could write them: newest first, in two batches, then all of it again.
func scrambled(history []alerts.Alert) [][]alerts.Alert {
	rev := slices.Clone(history)
	slices.Reverse(rev)
	return [][]alerts.Alert{rev[:len(rev)/2], rev[len(rev)/2:], history}
}

func writeAlertSet(t *testing.T, s *Store) map[string]alerts.Alert {
	t.Helper()
	history, latest := alertSet()
	for _, b := range scrambled(history) {
		if err := s.WriteAlerts(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	return latest
}

// notificationSet returns the test notifications, the latest first, by
// name.
func notificationSet() ([]alerts.Notification, map[string]alerts.Notification) {
	byName := map[string]alerts.Notification{}
	var all []alerts.Notification
	add := func(name, tn string, partition int, k alerts.Kind, qualifier string, h float64, mod func(*alerts.Notification)) {
		n := alerts.Notification{ID: alerts.NotificationID(tn, k, qualifier), Kind: k, TrackingNumber: tn, Partition: partition,
			Carrier: "dhl", Service: "express", Lane: "CN-US", Merchant: "acme", Status: "in_transit", Locale: "en", LocaleSource: "default",
			Subject: "Your parcel " + tn, Body: "It is on its way.\nTrack it online.", OccurredAt: alertAt(h)}
		if mod != nil {
			mod(&n)
		}
		byName[name] = n
		all = append(all, n)
	}
	eta := func(h float64) func(*alerts.Notification) {
		return func(n *alerts.Notification) { n.ETA, n.ETAFrom, n.ETATo = alertAt(h), alertAt(h-12), alertAt(h+24) }
	}
	add("N1", "T1", 3, alerts.Shipped, "", 0, nil)
	add("N2", "T1", 3, alerts.ArrivedDestination, "", 30, eta(80))
	add("N3", "T1", 3, alerts.ExceptionKind, "customs_held", 40, func(n *alerts.Notification) {
		eta(90)(n)
		n.ExceptionType, n.Status = "customs_held", "customs_held"
	})
	add("N4", "T1", 3, alerts.ETAChanged, "2026-10-04", 45, func(n *alerts.Notification) {
		eta(96)(n)
		n.PreviousETA = alertAt(80)
	})
	add("N5", "T3", 3, alerts.OutForDelivery, "", 35, func(n *alerts.Notification) {
		n.Locale, n.LocaleSource, n.Subject, n.Body = "zh", "shipment", "您的包裹正在派送", "快递员\t今天送达"
	})
	add("N6", "T2", 3, alerts.Shipped, "", -60*24, nil) // two months before
	add("N7", "T2", 3, alerts.Delivered, "", -50*24, func(n *alerts.Notification) { n.Status = "delivered" })
	add("N8", "T5", 5, alerts.ExceptionKind, "delivery_failed", 1, func(n *alerts.Notification) { // another partition
		n.ExceptionType, n.Status, n.Attempts = "delivery_failed", "delivery_failed", 2
	})
	slices.Reverse(all)
	return all, byName
}

func writeNotificationSet(t *testing.T, s *Store) map[string]alerts.Notification {
	t.Helper()
	all, byName := notificationSet()
	for _, b := range [][]alerts.Notification{all[:3], all[3:], all} { // the whole set again: a retry
		if err := s.WriteNotifications(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	return byName
}

// asJSON renders records as JSON lines, for comparisons that show what
// differs.
func asJSON[R any](rs []R) string {
	var b strings.Builder
	for _, r := range rs {
		j, err := json.Marshal(r)
		if err != nil {
			panic(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// pick returns the records of names, in that order.
func pick[R any](m map[string]R, names ...string) []R {
	out := make([]R, len(names))
	for i, n := range names {
		r, ok := m[n]
		if !ok {
			panic("no record " + n)
		}
		out[i] = r
	}
	return out
}

// checkListAlerts checks ListAlerts' answers to the test set against the
// alerts worked out by hand, newest opened first.
func checkListAlerts(t *testing.T, s *Store, latest map[string]alerts.Alert, when string) {
	t.Helper()
	f := func(q AlertQuery, want ...string) {
		t.Helper()
		got, err := s.ListAlerts(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: ListAlerts(%+v): %v", when, q, err)
		}
		if g, w := asJSON(got), asJSON(pick(latest, want...)); g != w {
			t.Errorf("%s: ListAlerts(%+v) =\n%s\nwant %v:\n%s", when, q, g, want, w)
		}
	}
	all := []string{"A8", "A10", "A6", "A3", "A2", "A9", "A4", "A5", "A1", "A7"}
	f(AlertQuery{}, all...)
	f(AlertQuery{Limit: 3}, "A8", "A10", "A6")
	f(AlertQuery{Open: true}, "A10", "A3", "A5", "A7")
	f(AlertQuery{Open: true, Carrier: "dhl"}, "A10", "A3", "A5")
	f(AlertQuery{Merchant: "o'brien"}, "A9", "A4")
	f(AlertQuery{Merchant: "acme", Type: alerts.Stalled}, "A8", "A10", "A3", "A2", "A1") // A3 by its latest merchant
	f(AlertQuery{Lane: "CN-GB", Type: alerts.CustomsHeld, Carrier: "ups"}, "A9", "A4")
	f(AlertQuery{Type: alerts.Stalled, From: alertAt(5), To: alertAt(20)}, "A2") // A3 opened at 20: To is exclusive
	f(AlertQuery{From: alertAt(60)}, "A8")
	f(AlertQuery{To: alertT0}, "A7")
	f(AlertQuery{Open: true, Type: alerts.Returned})
	f(AlertQuery{Lane: "nowhere"})
}

// TestAlerts writes alert transitions out of order and twice, and reads
// each alert's latest state exactly once through ListAlerts and
// OpenAlerts, before and after ClickHouse merges the table.
func TestAlerts(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	// No merge folds the transitions before the reads that must do it.
	if err := s.Conn().Exec(ctx, "SYSTEM STOP MERGES "+alertsTable); err != nil {
		t.Fatal(err)
	}
	latest := writeAlertSet(t, s)
	open := func(p int) []alerts.Alert {
		var got []alerts.Alert
		if err := s.OpenAlerts(ctx, p, func(a alerts.Alert) { got = append(got, a) }); err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(got, func(a, b alerts.Alert) int { return strings.Compare(a.TrackingNumber+a.ID, b.TrackingNumber+b.ID) })
		return got
	}
	check := func(when string) {
		t.Helper()
		checkListAlerts(t, s, latest, when)
		want := pick(latest, "A10", "A3", "A7") // by tracking number: T1, T3, T7
		if g, w := asJSON(open(3)), asJSON(want); g != w {
			t.Errorf("%s: OpenAlerts(3) =\n%s\nwant A10, A3, A7:\n%s", when, g, w)
		}
		if g, w := asJSON(open(5)), asJSON(pick(latest, "A5")); g != w {
			t.Errorf("%s: OpenAlerts(5) =\n%s\nwant A5:\n%s", when, g, w)
		}
		if got := open(4); len(got) != 0 {
			t.Errorf("%s: OpenAlerts(4) = %v, want none", when, got)
		}
	}
	// A dashboard may read the states with FINAL.
	final := func(when string) {
		t.Helper()
		if got := nativeTSV(t, s.Conn(), "SELECT count(), countIf(state = 'open') FROM "+alertsTable+" FINAL"); got[0] != "10\t4" {
			t.Errorf("%s: FINAL counts %q, want 10 alerts, 4 open", when, got)
		}
	}
	history, _ := alertSet()
	if n := nativeTSV(t, s.Conn(), "SELECT count() FROM "+alertsTable); n[0] != fmt.Sprint(2*len(history)) {
		t.Fatalf("the table holds %s rows before merges, want every transition twice", n[0])
	}
	check("before merges")
	final("before merges")
	for _, stmt := range []string{"SYSTEM START MERGES " + alertsTable, "OPTIMIZE TABLE " + alertsTable + " FINAL"} {
		if err := s.Conn().Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	if n := nativeTSV(t, s.Conn(), "SELECT count() FROM "+alertsTable); n[0] != "10" {
		t.Errorf("after OPTIMIZE FINAL the table holds %s rows, want one per alert (10)", n[0])
	}
	check("after merges")
	final("after merges")

	// The round trip keeps every field, and zero times stay zero.
	a6 := latest["A6"]
	got, err := s.ListAlerts(ctx, AlertQuery{Type: alerts.PredictedLate})
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], a6) {
		t.Errorf("predicted_late alert read back as %+v, %v\nwant %+v", got, err, a6)
	}
}

// TestAlertSummary checks the summary's counts and times to resolve against
// values worked out by hand from alertSet.
func TestAlertSummary(t *testing.T) {
	s := newStore(t)
	writeAlertSet(t, s)
	p := func(v float64) *float64 { return &v }
	row := func(typ alerts.Type, carrier, lane, merchant string, opened, resolved, open int64, p50, p90 *float64) AlertSummaryRow {
		return AlertSummaryRow{Type: typ, Carrier: carrier, Lane: lane, Merchant: merchant, Opened: opened, Resolved: resolved, Open: open,
			ResolveHoursP50: p50, ResolveHoursP90: p90}
	}
	october := []AlertSummaryRow{
		// A4 resolved in 72 h, A9 in 24 h: sorted 24, 72; p50 at index ⌊0.5·2⌋ = 1, p90 at ⌊1.8⌋ = 1.
		row(alerts.CustomsHeld, "ups", "CN-GB", "o'brien", 2, 2, 0, p(72), p(72)),
		// A5, open.
		row(alerts.DeliveryFailed, "dhl", "CN-US", "acme", 1, 0, 1, nil, nil),
		// A6 resolved in 1.5 h.
		row(alerts.PredictedLate, "dhl", "CN-US", "acme", 1, 1, 0, p(1.5), p(1.5)),
		// A1 50 h, A2 4 h, A8 2 h, A3 and A10 open: sorted 2, 4, 50; p50 at ⌊1.5⌋ = 1, p90 at ⌊2.7⌋ = 2.
		row(alerts.Stalled, "dhl", "CN-US", "acme", 5, 3, 2, p(4), p(50)),
	}
	f := func(from, to time.Time, want []AlertSummaryRow) {
		t.Helper()
		got, err := s.AlertSummary(context.Background(), from, to)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := asJSON(got), asJSON(want); g != w {
			t.Errorf("AlertSummary(%s, %s) =\n%s\nwant\n%s", from, to, g, w)
		}
	}
	f(alertT0, alertT0.AddDate(0, 1, 0), october)
	// A7 opened in August.
	f(time.Time{}, time.Time{}, slices.Insert(slices.Clone(october), 2, row(alerts.Lost, "fedex", "US-MX", "zeta", 1, 0, 1, nil, nil)))
	// Those opened from hour 40: A6, A10 and A8 (2 h).
	f(alertAt(40), time.Time{}, []AlertSummaryRow{row(alerts.PredictedLate, "dhl", "CN-US", "acme", 1, 1, 0, p(1.5), p(1.5)),
		row(alerts.Stalled, "dhl", "CN-US", "acme", 2, 1, 1, p(2), p(2))})
	f(alertT0.AddDate(1, 0, 0), time.Time{}, nil)
}

// TestNotified writes notifications out of order and twice, and reads a
// partition's since a time, each once.
func TestNotified(t *testing.T) {
	s := newStore(t)
	byName := writeNotificationSet(t, s)
	f := func(partition int, since time.Time, want ...string) {
		t.Helper()
		var got []alerts.Notification
		if err := s.Notified(context.Background(), partition, since, func(n alerts.Notification) { got = append(got, n) }); err != nil {
			t.Fatal(err)
		}
		w := pick(byName, want...)
		for i := range w {
			w[i].Subject, w[i].Body = "", ""
		}
		if g, w := asJSON(got), asJSON(w); g != w {
			t.Errorf("Notified(%d, %s) =\n%s\nwant %v:\n%s", partition, since, g, want, w)
		}
	}
	// By tracking number, then occurred_at.
	f(3, alertT0.AddDate(0, 0, -1), "N1", "N2", "N3", "N4", "N5")
	f(3, alertAt(40), "N3", "N4") // since is inclusive
	f(3, alertAt(40).Add(time.Second), "N4")
	f(3, time.Time{}, "N1", "N2", "N3", "N4", "N6", "N7", "N5")
	f(5, alertT0.AddDate(0, 0, -1), "N8")
	f(4, time.Time{})
	f(3, alertT0.AddDate(200, 0, 0))

	if got := nativeTSV(t, s.Conn(), "SELECT count(), uniqExact(notification_id) FROM "+notificationsTable+" FINAL"); got[0] != "8\t8" {
		t.Errorf("FINAL reads %q notifications and ids, want 8 of each", got)
	}
	// The subject and body are kept for audit.
	got := nativeTSV(t, s.Conn(), "SELECT DISTINCT subject, body FROM "+notificationsTable+" WHERE tracking_number = 'T3'")
	if want := "您的包裹正在派送\t快递员\\t今天送达"; len(got) != 1 || got[0] != want {
		t.Errorf("T3's subject and body %q, want %q", got, want)
	}
}

// TestAlertCostFollowsRange: with many alerts and notifications outside
// the range of a query, a year earlier or of another Kafka partition, the
// queries that bound time read few of them (the rows ClickHouse 18.16
// reports reading).
func TestAlertCostFollowsRange(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	writeAlertSet(t, s)
	writeNotificationSet(t, s)
	const bulk = 20_000
	var olds []alerts.Alert
	var notes []alerts.Notification
	for i := range bulk {
		tn := fmt.Sprintf("OLD%06d", i)
		a := opening(tn, "stalled-48h", alerts.Stalled, 3, "dhl", "CN-US", "acme", -365*24)
		olds = append(olds, a, then(a, alerts.Closed, -364*24))
		n := alerts.Notification{ID: alerts.NotificationID(tn, alerts.Shipped, ""), Kind: alerts.Shipped, TrackingNumber: tn, Partition: 3,
			OccurredAt: alertAt(-365 * 24)}
		notes = append(notes, n)
		// Notifications of another partition in the range: read only if
		// the sorting key does not select the partition.
		n.TrackingNumber, n.Partition, n.OccurredAt = fmt.Sprintf("OTHER%06d", i), 4, alertAt(2)
		n.ID = alerts.NotificationID(n.TrackingNumber, alerts.Shipped, "")
		notes = append(notes, n)
	}
	if err := s.WriteAlerts(ctx, olds); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteNotifications(ctx, notes); err != nil {
		t.Fatal(err)
	}
	count := func(query string) (n int, read uint64, err error) {
		var progress atomic.Uint64
		qctx := clickhouse.Context(ctx, clickhouse.WithProgress(func(p *clickhouse.Progress) { progress.Add(p.Rows) }))
		rows, err := s.conn.Query(qctx, query)
		if err != nil {
			return 0, 0, err
		}
		for rows.Next() {
			n++
		}
		err = rows.Err()
		rows.Close()
		return n, progress.Load(), err
	}
	f := func(what, query string, want int, far bool) {
		t.Helper()
		n, read, err := count(query)
		t.Logf("%s: %d rows, read %d", what, n, read)
		switch {
		case err != nil || n != want:
			t.Errorf("%s: %d rows, %v; want %d", what, n, err, want)
		case far && read < bulk:
			t.Errorf("%s read %d rows, want at least the %d of the old year: the test checks nothing", what, read, bulk)
		case !far && read > bulk/4:
			t.Errorf("%s read %d rows: its cost does not follow its range", what, read)
		}
	}
	october := AlertQuery{From: alertT0, To: alertT0.AddDate(0, 1, 0)}
	f("notified since September", notifiedSQL(3, alertT0.AddDate(0, 0, -1).Unix()), 5, false)
	f("alerts of October", october.sql(), 9, false)
	f("summary of October", alertSummarySQL(october.From, october.To), 4, false)
	f("notified since ever", notifiedSQL(3, 0), bulk+7, true)
	f("alerts of the old year", AlertQuery{To: alertT0.AddDate(0, -6, 0)}.sql(), bulk, true)
}

// TestWriteAlertsRejects: a record that could not be read back as written
// fails the write before anything is stored.
func TestWriteAlertsRejects(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	history, _ := alertSet()
	f := func(name string, mod func(*alerts.Alert), want string) {
		t.Helper()
		a := history[1]
		mod(&a)
		err := s.WriteAlerts(ctx, []alerts.Alert{history[0], a})
		if !retry.IsPermanent(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want a permanent error saying %q", name, err, want)
		}
	}
	f("no id", func(a *alerts.Alert) { a.ID = "" }, `alert transition 2 of 2 ("" of "T1"): empty alert id`)
	f("no tracking number", func(a *alerts.Alert) { a.TrackingNumber = "" }, "empty tracking number")
	f("unknown state", func(a *alerts.Alert) { a.State = "snoozed" }, `invalid state "snoozed"`)
	f("not opened", func(a *alerts.Alert) { a.OpenedAt = time.Time{} }, "no opened_at")
	f("resolved before opened", func(a *alerts.Alert) { a.State, a.ResolvedAt = alerts.Resolved, a.OpenedAt.Add(-time.Hour) }, "before it opened")
	f("resolved without time", func(a *alerts.Alert) { a.State, a.ResolvedAt = alerts.Resolved, time.Time{} }, "resolved without resolved_at")
	f("partition", func(a *alerts.Alert) { a.Partition = 70000 }, "partition 70000 is out of range")
	f("attempts", func(a *alerts.Alert) { a.Attempts = -1 }, "attempts -1")
	f("time", func(a *alerts.Alert) { a.PromisedAt = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC) }, "promised_at 1960-01-01T00:00:00Z is outside")
	g := func(name string, mod func(*alerts.Notification), want string) {
		t.Helper()
		n := alerts.Notification{ID: "n", TrackingNumber: "T1", Partition: 1, OccurredAt: alertT0}
		mod(&n)
		if err := s.WriteNotifications(ctx, []alerts.Notification{n}); !retry.IsPermanent(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want a permanent error saying %q", name, err, want)
		}
	}
	g("no id", func(n *alerts.Notification) { n.ID = "" }, "empty notification id")
	g("no tracking number", func(n *alerts.Notification) { n.TrackingNumber = "" }, "empty tracking number")
	g("no time", func(n *alerts.Notification) { n.OccurredAt = time.Time{} }, "no occurred_at")
	g("partition", func(n *alerts.Notification) { n.Partition = -1 }, "partition -1 is out of range")
	g("attempts", func(n *alerts.Notification) { n.Attempts = -2 }, "attempts -2")
	g("eta", func(n *alerts.Notification) { n.ETA = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) }, "eta 2200-01-01T00:00:00Z is outside")
	for _, table := range []string{alertsTable, notificationsTable} {
		if got := nativeTSV(t, s.Conn(), "SELECT count() FROM "+table); got[0] != "0" {
			t.Errorf("rejected writes stored %s rows in %s", got[0], table)
		}
	}
	if err := s.OpenAlerts(ctx, -1, func(alerts.Alert) {}); !retry.IsPermanent(err) {
		t.Errorf("OpenAlerts(-1): %v, want a permanent error", err)
	}
	for _, q := range []AlertQuery{{Limit: -1}, {From: alertT0, To: alertT0.Add(-time.Second)}, {From: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)}} {
		if _, err := s.ListAlerts(ctx, q); err == nil || !strings.HasPrefix(err.Error(), "invalid alert query") {
			t.Errorf("ListAlerts(%+v): %v, want invalid", q, err)
		}
	}
}

// TestAlertsBeforeMigration: on a database with every migration but 005,
// the alert calls fail with a permanent error saying what to do.
func TestAlertsBeforeMigration(t *testing.T) {
	ctx := context.Background()
	conn, db := chtest.Conn(t)
	migs, err := schemas.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migs {
		if m.Version == 5 {
			continue
		}
		for _, stmt := range m.Statements {
			if err := conn.Exec(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
	}
	s, err := Open(ctx, Config{Addr: chtest.Server(t), Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check := func(call, table string, err error) {
		t.Helper()
		t.Logf("%s: %v", call, err)
		want := db + "." + table + " does not exist"
		if !retry.IsPermanent(err) || !errors.Is(err, ErrSchemaMismatch) || !strings.Contains(err.Error(), want) ||
			!strings.Contains(err.Error(), "apply the migrations (migrate)") {
			t.Errorf("%s: %v, want a permanent ErrSchemaMismatch saying %q", call, err, want)
		}
	}
	history, _ := alertSet()
	notes, _ := notificationSet()
	check("WriteAlerts", alertsTable, s.WriteAlerts(ctx, history))
	check("WriteNotifications", notificationsTable, s.WriteNotifications(ctx, notes))
	check("OpenAlerts", alertsTable, s.OpenAlerts(ctx, 3, func(alerts.Alert) {}))
	check("Notified", notificationsTable, s.Notified(ctx, 3, alertT0, func(alerts.Notification) {}))
	_, err = s.ListAlerts(ctx, AlertQuery{})
	check("ListAlerts", alertsTable, err)
	_, err = s.AlertSummary(ctx, alertT0, time.Time{})
	check("AlertSummary", alertsTable, err)
}

// alertValuesSQL renders rows as INSERT ... VALUES text into table, for
// libchdb, through cols as the store's batches are.
func alertValuesSQL[R any](table string, cols []etaColumn[R], rows []R) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, columnNames(cols))
	vals := make([]reflect.Value, len(cols))
	for j, c := range cols {
		vals[j] = reflect.ValueOf(c.values(rows))
	}
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, c := range cols {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(literal(c.typ, vals[j].Index(i).Interface()))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// TestAlertColumnsMatchMigration checks alertColumns and
// notificationColumns against the tables 005 creates, on ClickHouse 18.16
// and on current ClickHouse.
func TestAlertColumnsMatchMigration(t *testing.T) {
	s := newStore(t)
	db, name := migrateCurrent(t)
	for table, cols := range map[string][]string{alertsTable: columnDefs(alertColumns), notificationsTable: columnDefs(notificationColumns)} {
		if got := describeTable(t, s, table); !slices.Equal(got, cols) {
			t.Errorf("%s on 18.16 has columns %q, the store writes %q", table, got, cols)
		}
		var got []string
		for _, line := range currentTSV(t, db, name, "SELECT name, type FROM system.columns WHERE database = '"+name+"' AND table = '"+table+"'") {
			got = append(got, strings.Replace(line, "\t", " ", 1))
		}
		if !slices.Equal(got, cols) {
			t.Errorf("%s on current ClickHouse has columns %q, the store writes %q", table, got, cols)
		}
	}
}

// TestAlertColumnsCoverRecords: the tables have a column for every field of
// alerts.Alert and alerts.Notification, in field order, named as its JSON
// key.
func TestAlertColumnsCoverRecords(t *testing.T) {
	f := func(typ reflect.Type, cols []string) {
		t.Helper()
		var fields []string
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			fields = append(fields, name)
		}
		if !slices.Equal(fields, cols) {
			t.Errorf("%s has fields\n%q\nthe table columns\n%q", typ, fields, cols)
		}
	}
	names := func(defs []string) []string {
		out := make([]string, len(defs))
		for i, d := range defs {
			out[i], _, _ = strings.Cut(d, " ")
		}
		return out
	}
	f(reflect.TypeFor[alerts.Alert](), names(columnDefs(alertColumns)))
	f(reflect.TypeFor[alerts.Notification](), names(columnDefs(notificationColumns)))
}

// TestAlertSQLOnCurrentClickHouse writes the test alerts and notifications
// out of order and twice on ClickHouse 18.16 through the store and on
// current ClickHouse (libchdb) as VALUES, and runs every query of the
// alert tables on both: the answers must be equal, and the summary the
// hand-worked one.
func TestAlertSQLOnCurrentClickHouse(t *testing.T) {
	db, name := migrateCurrent(t)
	s := newStore(t)
	exec := func(sql string) {
		t.Helper()
		if err := db.Exec(sql); err != nil {
			t.Fatalf("on current ClickHouse: %v", err)
		}
	}
	writeAlertSet(t, s)
	history, _ := alertSet()
	for _, b := range scrambled(history) {
		exec(alertValuesSQL(name+"."+alertsTable, alertColumns, b))
	}
	writeNotificationSet(t, s)
	notes, _ := notificationSet()
	exec(alertValuesSQL(name+"."+notificationsTable, notificationColumns, notes[:4]))
	exec(alertValuesSQL(name+"."+notificationsTable, notificationColumns, notes))

	october := alertSummarySQL(alertT0, alertT0.AddDate(0, 1, 0))
	queries := []struct{ what, sql, want string }{
		{"open alerts of partition 3", openAlertsSQL(3), ""},
		{"open alerts of partition 5", openAlertsSQL(5), ""},
		{"notified", notifiedSQL(3, alertT0.AddDate(0, 0, -1).Unix()), ""},
		{"notified since ever", notifiedSQL(3, 0), ""},
		// The summary, as TestAlertSummary works it out.
		{"summary", october, "customs_held\tups\tCN-GB\to'brien\t2\t2\t0\t72\t72\n" +
			"delivery_failed\tdhl\tCN-US\tacme\t1\t0\t1\t0\t0\n" +
			"predicted_late\tdhl\tCN-US\tacme\t1\t1\t0\t1.5\t1.5\n" +
			"stalled\tdhl\tCN-US\tacme\t5\t3\t2\t4\t50"},
		{"summary of all", alertSummarySQL(time.Time{}, time.Time{}), ""},
	}
	for _, q := range []AlertQuery{
		{}, {Limit: 3}, {Open: true}, {Open: true, Carrier: "dhl"}, {Merchant: "o'brien"}, {Merchant: "acme", Type: alerts.Stalled},
		{Lane: "CN-GB", Type: alerts.CustomsHeld, Carrier: "ups"}, {Type: alerts.Stalled, From: alertAt(5), To: alertAt(20)},
	} {
		queries = append(queries, struct{ what, sql, want string }{fmt.Sprintf("alerts %+v", q), q.sql(), ""})
	}
	for _, q := range queries {
		cur, old := currentTSV(t, db, name, q.sql), nativeTSV(t, s.Conn(), q.sql)
		if !strings.Contains(q.sql, "ORDER BY opened_at") && !strings.HasPrefix(q.what, "summary") && !strings.HasPrefix(q.what, "notified") {
			slices.Sort(cur)
			slices.Sort(old)
		}
		// TabSeparated escapes quotes, nativeTSV does not.
		c, o := strings.ReplaceAll(strings.Join(cur, "\n"), `\'`, "'"), strings.Join(old, "\n")
		if c != o {
			t.Errorf("%s differs:\ncurrent %q\n18.16   %q\n%s", q.what, c, o, q.sql)
		}
		if q.want != "" && o != q.want {
			t.Errorf("%s:\n got %q\nwant %q", q.what, o, q.want)
		}
		if o == "" {
			t.Errorf("%s has no rows: the test checks nothing", q.what)
		}
	}
	// FINAL, as a dashboard may read the states, agrees with the store's
	// deduplication on both engines.
	final := "SELECT type, count(), countIf(state = 'open') FROM alerts FINAL GROUP BY type ORDER BY type"
	want := []string{"customs_held\t2\t0", "delivery_failed\t1\t1", "lost\t1\t1", "predicted_late\t1\t0", "stalled\t5\t2"}
	if cur, old := currentTSV(t, db, name, final), nativeTSV(t, s.Conn(), final); !slices.Equal(cur, want) || !slices.Equal(old, want) {
		t.Errorf("FINAL:\ncurrent %q\n18.16   %q\nwant    %q", cur, old, want)
	}
}
