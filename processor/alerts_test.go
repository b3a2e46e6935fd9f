package processor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/internal/retry"
	"github.com/shiplens/shiplens/processor"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/store"
)

// published reads every record of topic back, with the events partition
// its source header names.
func published[T any](t *testing.T, brokers []string, topic string) (recs []T, ids []string) {
	t.Helper()
	err := kafkaadmin.ReadAll(context.Background(), brokers, topic, func(m *kafka.Message) error {
		var v T
		if err := json.Unmarshal(m.Value, &v); err != nil {
			return fmt.Errorf("%s at %d: %w", topic, m.Offset, err)
		}
		recs = append(recs, v)
		for _, h := range m.Headers {
			if h.Key == processor.HeaderID {
				ids = append(ids, string(h.Value))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs, ids
}

func duplicates(ids []string) []string {
	seen := map[string]int{}
	var dup []string
	for _, id := range ids {
		if seen[id]++; seen[id] == 2 {
			dup = append(dup, id)
		}
	}
	return dup
}

// stallRef is an independent reference for the default stalled rule:
// per partition, in the order the partition holds the events, it keeps
// each shipment's latest scan (by occurred_at, ties to the status later in
// the taxonomy), whether it reached its destination country and whether it
// is closed, and after every message checks every shipment of the
// partition against the limits the rules file documents. It returns the
// openings as "tracking number @ opened_at" and the number of resolutions.
func stallRef(t *testing.T, brokers []string) (opened []string, resolved int) {
	t.Helper()
	type ship struct {
		last       time.Time
		status     schemas.Status
		dest       bool
		closed     bool
		open       bool
		delivered  bool
		lastStatus schemas.Status
	}
	destination := map[schemas.Status]bool{schemas.ArrivedDestination: true, schemas.CustomsClearance: true, schemas.CustomsHeld: true,
		schemas.CustomsReleased: true, schemas.OutForDelivery: true, schemas.AvailableForPickup: true, schemas.DeliveryFailed: true, schemas.Delivered: true}
	limit := func(s *ship) time.Duration {
		switch s.status.Category() {
		case schemas.InCustoms:
			return 72 * time.Hour
		case schemas.CategoryOutForDelivery:
			return 24 * time.Hour
		}
		if s.dest || destination[s.status] {
			return 48 * time.Hour
		}
		return 72 * time.Hour
	}
	parts := map[int][]*kafka.Message{}
	if err := kafkaadmin.ReadAll(context.Background(), brokers, schemas.EventsTopic, func(m *kafka.Message) error {
		c := *m
		parts[m.Partition] = append(parts[m.Partition], &c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, msgs := range parts {
		sort.Slice(msgs, func(i, j int) bool { return msgs[i].Offset < msgs[j].Offset })
		ships := map[string]*ship{}
		var order []string
		var w time.Time
		for _, m := range msgs {
			e, err := schemas.Decode(m.Value, time.Now())
			if err != nil {
				continue
			}
			s := ships[e.TrackingNumber]
			if s == nil {
				s = &ship{}
				ships[e.TrackingNumber] = s
				order = append(order, e.TrackingNumber)
			}
			at := e.OccurredAt.Truncate(time.Second)
			moved := false
			if at.After(s.last) || (at.Equal(s.last) && e.Status > s.status) {
				moved = at.After(s.last)
				s.last, s.status = at, e.Status
			}
			if e.Status.StartsCustoms() {
				s.dest = true
			}
			if e.Status == schemas.Delivered {
				s.delivered = true
			}
			s.closed = s.delivered || s.status == schemas.Returned
			if at.After(w) {
				w = at
			}
			if s.open && (s.closed || (moved && w.Before(s.last.Add(limit(s))))) {
				s.open = false
				resolved++
			}
			for _, tn := range order {
				o := ships[tn]
				if o.open || o.closed {
					continue
				}
				if due := o.last.Add(limit(o)); !w.Before(due) {
					o.open = true
					opened = append(opened, fmt.Sprintf("%s @ %s", tn, due.Format(time.RFC3339)))
				}
			}
		}
	}
	sort.Strings(opened)
	return opened, resolved
}

// TestAlertsEndToEnd runs a generated workload through kfake, the
// processor and ClickHouse with the default rules, and checks the alerts
// and notifications: each exactly once on Kafka and in ClickHouse, the
// stalled alerts equal to an independent reference over the raw events,
// every alert's lifecycle well formed, and one delivered notification per
// delivered shipment.
func TestAlertsEndToEnd(t *testing.T) {
	events, msgs := workload(t, 2500, 31)
	p := newPipeline(t, 4)
	p.alerts = true
	p.publish(msgs)
	d := newDone(p.ends)
	stop := p.processor("alerts", d)
	p.wait(d, "alerts")
	snap := stop()

	as, aids := published[alerts.Alert](t, p.brokers, alerts.AlertsTopic)
	ns, nids := published[alerts.Notification](t, p.brokers, alerts.NotificationsTopic)
	if dup := duplicates(aids); len(dup) > 0 {
		t.Errorf("%d alert transitions published more than once, e.g. %s", len(dup), dup[0])
	}
	if dup := duplicates(nids); len(dup) > 0 {
		t.Errorf("%d notifications published more than once, e.g. %s", len(dup), dup[0])
	}
	if int64(len(as)) != snap.AlertsPublished || int64(len(ns)) != snap.NotificationsPublished {
		t.Errorf("topics hold %d alerts and %d notifications; the processor counted %d and %d", len(as), len(ns), snap.AlertsPublished, snap.NotificationsPublished)
	}

	// Stalled alerts against the reference.
	var got []string
	resolved := 0
	for _, a := range as {
		if a.Rule != "stalled" {
			continue
		}
		switch a.Change {
		case alerts.Opened:
			got = append(got, fmt.Sprintf("%s @ %s", a.TrackingNumber, a.OpenedAt.Format(time.RFC3339)))
		case alerts.Closed:
			resolved++
		}
	}
	sort.Strings(got)
	want, wantResolved := stallRef(t, p.brokers)
	if len(want) < 50 {
		t.Fatalf("the reference opens only %d stalled alerts: the workload proves little", len(want))
	}
	if !slices.Equal(got, want) {
		t.Errorf("stalled alerts: %d opened, the reference %d; first differences: %v", len(got), len(want), firstDiff(got, want))
	}
	if resolved != wantResolved {
		t.Errorf("stalled alerts resolved: %d, the reference %d", resolved, wantResolved)
	}

	// Lifecycles: an opening first, then seq counting up, nothing after a
	// resolution.
	byID := map[string][]alerts.Alert{}
	types := map[alerts.Type]int{}
	for _, a := range as {
		byID[a.ID] = append(byID[a.ID], a)
		if a.Change == alerts.Opened {
			types[a.Type]++
		}
	}
	for id, ts := range byID {
		for i, a := range ts {
			if a.Seq != uint32(i+1) || (i == 0) != (a.Change == alerts.Opened) || (i > 0 && ts[i-1].Change == alerts.Closed) {
				t.Errorf("alert %s: transition %d is %s seq %d; lifecycle %v", id, i, a.Change, a.Seq, changesOf(ts))
				break
			}
		}
		if want := alerts.AlertID(ts[0].TrackingNumber, ts[0].Rule, ts[0].OpenedAt); id != want {
			t.Errorf("alert id %s, want the deterministic %s", id, want)
		}
	}
	for _, ty := range []alerts.Type{alerts.Stalled, alerts.CustomsHeld, alerts.DeliveryFailed, alerts.Returned} {
		if types[ty] == 0 {
			t.Errorf("no %s alert opened (%v)", ty, types)
		}
	}
	t.Logf("alerts opened by type: %v; %d transitions, %d notifications", types, len(as), len(ns))

	// ClickHouse holds the same alerts, the latest state of each once.
	stored, err := p.store.ListAlerts(context.Background(), store.AlertQuery{Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(byID) {
		t.Errorf("ClickHouse holds %d alerts, Kafka %d", len(stored), len(byID))
	}
	for _, a := range stored {
		ts := byID[a.ID]
		if len(ts) == 0 || ts[len(ts)-1].TransitionID != a.TransitionID {
			t.Errorf("stored alert %s is at %s, Kafka's last transition %v", a.ID, a.TransitionID, changesOf(ts))
			break
		}
	}

	// Notifications: one delivered per delivered shipment, and never two
	// of one kind for a shipment.
	delivered := map[string]bool{}
	for _, e := range events {
		if e.Status == schemas.Delivered {
			delivered[e.TrackingNumber] = true
		}
	}
	told := map[string]int{}
	for _, n := range ns {
		if n.Kind == alerts.Delivered {
			told[n.TrackingNumber]++
		}
		if err := alerts.Render(&n); err != nil || n.Subject == "" || n.Body == "" || n.Locale == "" {
			t.Errorf("notification %s %s does not render (locale %q): %v", n.Kind, n.TrackingNumber, n.Locale, err)
			break
		}
	}
	if len(told) != len(delivered) {
		t.Errorf("%d shipments were told of their delivery, %d were delivered", len(told), len(delivered))
	}
}

func changesOf(as []alerts.Alert) []string {
	var s []string
	for _, a := range as {
		s = append(s, fmt.Sprintf("%d:%s", a.Seq, a.Change))
	}
	return s
}

func firstDiff(got, want []string) []string {
	g, w := map[string]bool{}, map[string]bool{}
	for _, x := range got {
		g[x] = true
	}
	for _, x := range want {
		w[x] = true
	}
	var out []string
	for _, x := range got {
		if !w[x] && len(out) < 5 {
			out = append(out, "extra "+x)
		}
	}
	for _, x := range want {
		if !g[x] && len(out) < 10 {
			out = append(out, "missing "+x)
		}
	}
	return out
}

// crashAfterPublish is a sink whose aggregate writes fail permanently from
// the first write after some alerts were published: the processor stops
// after it published a flush's alerts and notifications and before it
// stored or committed anything of it, as if it crashed there.
type crashAfterPublish struct {
	*store.Store
	published func() bool
	failed    bool
}

func (c *crashAfterPublish) WriteDays(ctx context.Context, days *analytics.Days, advances []analytics.Advance, retried bool) error {
	if c.failed || c.published() {
		c.failed = true
		return retry.Permanent(errInjected)
	}
	return c.Store.WriteDays(ctx, days, advances, retried)
}

// TestAlertsSurviveCrash runs the same stream twice: once straight, once
// with a processor that stops after publishing a flush's records but
// before storing or committing them, then a new processor that takes over.
// The second run must publish exactly the records of the first: no
// duplicate of what the crashed one published, and nothing lost.
func TestAlertsSurviveCrash(t *testing.T) {
	_, msgs := workload(t, 1500, 37)
	run := func(crashes bool) (alertIDs, noteIDs []string, skipped int64) {
		p := newPipeline(t, 3)
		p.alerts = true
		p.publish(msgs)
		if crashes {
			crash := &crashAfterPublish{Store: p.store}
			proc, err := processor.New(processor.Config{Brokers: p.brokers, Group: "crash", FlushInterval: 100 * time.Millisecond,
				SessionTimeout: 6 * time.Second, Log: testLog(), ETA: processor.ETAConfig{Disabled: true}}, crash)
			if err != nil {
				t.Fatal(err)
			}
			crash.published = func() bool { return proc.Metrics().Snapshot().AlertsPublished > 0 }
			if err := proc.Run(context.Background()); !errors.Is(err, errInjected) {
				t.Fatalf("the crashing processor returned %v, want the injected failure", err)
			}
			if proc.Metrics().Snapshot().AlertsPublished == 0 {
				t.Fatal("the crashing processor published nothing before it stopped")
			}
		}
		d := newDone(p.ends)
		stop := p.processor("crash", d)
		p.wait(d, fmt.Sprintf("after a crash: %v", crashes))
		snap := stop()
		_, aids := published[alerts.Alert](t, p.brokers, alerts.AlertsTopic)
		_, nids := published[alerts.Notification](t, p.brokers, alerts.NotificationsTopic)
		return aids, nids, snap.RepublishSkipped
	}
	a1, n1, _ := run(false)
	a2, n2, skipped := run(true)
	for _, c := range []struct {
		what       string
		straight   []string
		afterCrash []string
	}{{"alert transitions", a1, a2}, {"notifications", n1, n2}} {
		if dup := duplicates(c.afterCrash); len(dup) > 0 {
			t.Errorf("%s: %d published twice across the crash, e.g. %s", c.what, len(dup), dup[0])
		}
		s1, s2 := slices.Sorted(slices.Values(c.straight)), slices.Sorted(slices.Values(slices.Compact(slices.Sorted(slices.Values(c.afterCrash)))))
		if !slices.Equal(s1, s2) {
			t.Errorf("%s: %d straight, %d across the crash; differences %v", c.what, len(s1), len(s2), firstDiff(s2, s1))
		}
	}
	if skipped == 0 {
		t.Error("the processor after the crash found nothing already published: the crash did not happen where the test wants it")
	}
	t.Logf("%d alert transitions and %d notifications; %d records found already published after the crash and not published again", len(a1), len(n1), skipped)
}
