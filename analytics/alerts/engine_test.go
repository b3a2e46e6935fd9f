package alerts

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/schemas/messages"
)

// t0 is the start of every crafted journey.
var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func h(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }

// harness feeds events to a partition and an engine the way the
// processor's owner does: apply, observe the change, advance the timers.
type harness struct {
	t    *testing.T
	part *analytics.Partition
	e    *Engine
	n    int
	out  Out
}

func newHarness(t *testing.T, rules string) *harness {
	t.Helper()
	r, err := ParseRules([]byte(rules))
	if err != nil {
		t.Fatal(err)
	}
	part := analytics.NewPartition()
	return &harness{t: t, part: part, e: NewEngine(r, 3, part, nil)}
}

func defaultHarness(t *testing.T) *harness {
	return newHarness(t, string(DefaultRules))
}

type ev struct {
	tn     string
	status schemas.Status
	at     time.Time
	opts   func(*schemas.Event)
}

// feed processes events in the order given, with the prediction pred
// returns (nil: none).
func (x *harness) feed(evs []ev, pred func(tn string, s *analytics.Shipment) *eta.Prediction) {
	for _, v := range evs {
		x.n++
		e := schemas.Event{EventID: fmt.Sprintf("%s:%02d:%d", v.tn, v.status, v.at.Unix()), TrackingNumber: v.tn, Carrier: "dhl", Service: "express",
			OriginCountry: "CN", DestinationCountry: "US", Status: v.status, OccurredAt: v.at}
		if v.opts != nil {
			v.opts(&e)
		}
		x.e.At(int64(x.n))
		before := x.part.Watermark()
		changed, _ := x.part.Apply(&e, false)
		if changed {
			var p *eta.Prediction
			if pred != nil {
				p = pred(v.tn, x.part.Get(v.tn))
			}
			x.e.Observe(v.tn, &e, p, x.part.Watermark())
		}
		if x.part.Watermark() != before {
			x.e.Advance(x.part.Watermark())
		}
	}
	o := x.e.Take()
	x.out.Alerts = append(x.out.Alerts, o.Alerts...)
	x.out.Notes = append(x.out.Notes, o.Notes...)
}

// tick moves the watermark with another shipment's scan.
func tick(at time.Time) ev { return ev{"CLOCK", schemas.InTransit, at, nil} }

func (x *harness) changes(tn string) []string {
	var s []string
	for _, a := range x.out.Alerts {
		if a.TrackingNumber == tn {
			s = append(s, fmt.Sprintf("%s %s %s", a.Rule, a.Change, a.Tier))
		}
	}
	return s
}

func (x *harness) alert(tn, rule string, c Change) Alert {
	x.t.Helper()
	for _, a := range x.out.Alerts {
		if a.TrackingNumber == tn && a.Rule == rule && a.Change == c {
			return a
		}
	}
	x.t.Fatalf("no %s %s alert for %s in %v", rule, c, tn, x.changes(tn))
	return Alert{}
}

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

func TestStalledOpensAndResolves(t *testing.T) {
	x := defaultHarness(t)
	x.feed([]ev{
		{"A", schemas.PickedUp, h(0), nil},
		{"A", schemas.InTransit, h(2), nil},
		tick(h(60)),
		tick(h(73)), // 71 h after A's last scan: not yet
	}, nil)
	same(t, "before the limit", x.changes("A"), []string(nil))
	x.feed([]ev{tick(h(74.5))}, nil)
	same(t, "after the limit", x.changes("A"), []string{"stalled opened warning"})
	a := x.alert("A", "stalled", Opened)
	// Opened when the limit passed, not when the watermark noticed.
	same(t, "opened_at", a.OpenedAt, h(74))
	same(t, "id", a.ID, AlertID("A", "stalled", h(74)))
	same(t, "at", a.At, h(74.5))
	// Moving again resolves it, at the scan that moved it.
	x.feed([]ev{{"A", schemas.InTransit, h(80), nil}}, nil)
	same(t, "after moving", x.changes("A"), []string{"stalled opened warning", "stalled resolved warning"})
	r := x.alert("A", "stalled", Closed)
	same(t, "resolved id", r.ID, a.ID)
	same(t, "resolved_at", r.ResolvedAt, h(80))
	same(t, "state", r.State, Resolved)
	same(t, "seq", []uint32{a.Seq, r.Seq}, []uint32{1, 2})
}

func TestLateEventAfterOpening(t *testing.T) {
	x := defaultHarness(t)
	x.feed([]ev{
		{"A", schemas.PickedUp, h(0), nil},
		{"A", schemas.InTransit, h(2), nil},
		tick(h(100)),
	}, nil)
	same(t, "opened", x.changes("A"), []string{"stalled opened warning"})
	// A scan made at 10 h arrives late: 90 h ago, still stalled. The open
	// alert stays as it is: no second opening, no resolution.
	x.feed([]ev{{"A", schemas.InTransit, h(10), nil}}, nil)
	// An even older duplicate of the pickup changes nothing.
	x.feed([]ev{{"A", schemas.PickedUp, h(0), nil}}, nil)
	same(t, "after late scans", x.changes("A"), []string{"stalled opened warning"})
	// A late scan within the limit of the watermark: it had moved, the
	// alert resolves. The scan (50 h) precedes the opening (74 h): in
	// hindsight it never stalled, and it resolves when it opened, taking
	// no time to resolve rather than a negative one.
	x.feed([]ev{{"A", schemas.InTransit, h(50), nil}}, nil)
	same(t, "after a recent late scan", x.changes("A"), []string{"stalled opened warning", "stalled resolved warning"})
	same(t, "resolved_at", x.alert("A", "stalled", Closed).ResolvedAt, h(74))
}

func TestReplayGivesSameAlerts(t *testing.T) {
	evs := []ev{
		{"A", schemas.PickedUp, h(0), nil},
		{"B", schemas.PickedUp, h(1), nil},
		{"B", schemas.DeliveryFailed, h(30), nil},
		tick(h(90)),
		{"A", schemas.InTransit, h(91), nil},
		{"B", schemas.DeliveryFailed, h(92), nil},
		tick(h(200)),
	}
	var runs [2][]Alert
	for i := range runs {
		x := defaultHarness(t)
		x.feed(evs, nil)
		runs[i] = x.out.Alerts
	}
	if len(runs[0]) == 0 {
		t.Fatal("no alerts")
	}
	same(t, "replay", runs[1], runs[0])
}

func TestEscalation(t *testing.T) {
	x := defaultHarness(t)
	x.feed([]ev{{"A", schemas.PickedUp, h(0), nil}, tick(h(100)), tick(h(119)), tick(h(121)), tick(h(300))}, nil)
	// stalled opens at 72 h (warning), escalates 48 h later to critical,
	// once.
	same(t, "changes", x.changes("A"), []string{"stalled opened warning", "stalled escalated critical"})
	e := x.alert("A", "stalled", Escalated)
	same(t, "escalated_at", e.EscalatedAt, h(120))
	same(t, "same alert", e.ID, x.alert("A", "stalled", Opened).ID)
}

func TestDeliveryFailedCountsAttempts(t *testing.T) {
	x := newHarness(t, "rules:\n  - type: delivery_failed\n    tier: warning\n")
	x.feed([]ev{
		{"A", schemas.OutForDelivery, h(0), nil},
		{"A", schemas.DeliveryFailed, h(5), nil},
		{"A", schemas.DeliveryFailed, h(5), nil}, // a duplicate
		{"A", schemas.OutForDelivery, h(24), nil},
		{"A", schemas.DeliveryFailed, h(29), nil},
		{"A", schemas.Delivered, h(50), nil},
	}, nil)
	same(t, "changes", x.changes("A"), []string{"delivery_failed opened warning", "delivery_failed updated warning", "delivery_failed resolved warning"})
	var attempts []int
	for _, a := range x.out.Alerts {
		attempts = append(attempts, a.Attempts)
	}
	same(t, "attempts", attempts, []int{1, 2, 2})
}

func TestCustomsRules(t *testing.T) {
	x := defaultHarness(t)
	x.feed([]ev{
		{"H", schemas.ArrivedDestination, h(0), nil},
		{"H", schemas.CustomsClearance, h(1), nil},
		{"H", schemas.CustomsHeld, h(3), nil},
		{"H", schemas.CustomsReleased, h(40), nil},
		{"F", schemas.CustomsClearance, h(1), nil},
		{"F", schemas.Returned, h(41), nil},
	}, nil)
	same(t, "held", x.changes("H"), []string{"customs_held opened warning", "customs_held resolved warning"})
	same(t, "failed", x.changes("F"), []string{"customs_failed opened critical", "returned opened info"})
}

func TestLost(t *testing.T) {
	x := defaultHarness(t)
	x.feed([]ev{{"A", schemas.PickedUp, h(0), nil}, {"A", schemas.Exception, h(10), nil}, tick(h(10 + 239)), tick(h(10 + 241))}, nil)
	got := x.changes("A")
	if len(got) == 0 || got[len(got)-1] != "lost opened critical" {
		t.Fatalf("changes %v: want lost opened last", got)
	}
	same(t, "lost opened_at", x.alert("A", "lost", Opened).OpenedAt, h(250))
}

func TestPredictedLate(t *testing.T) {
	x := newHarness(t, "rules:\n  - type: predicted_late\n")
	promised := h(100)
	withPromise := func(e *schemas.Event) { e.PromisedAt = promised }
	p50 := map[int]float64{1: 90, 2: 120, 3: 95}
	step := 0
	pred := func(tn string, s *analytics.Shipment) *eta.Prediction {
		step++
		p := uint32(h(p50[step]).Unix())
		return &eta.Prediction{AsOf: s.LastAt, P10: p, P50: p, P90: p, Basis: eta.BasisCarrierLane}
	}
	x.feed([]ev{{"A", schemas.PickedUp, h(0), withPromise}, {"A", schemas.InTransit, h(10), withPromise}, {"A", schemas.InTransit, h(20), withPromise}}, pred)
	same(t, "changes", x.changes("A"), []string{"predicted_late opened warning", "predicted_late resolved warning"})
	a := x.alert("A", "predicted_late", Opened)
	same(t, "predicted", []time.Time{a.PredictedAt, a.PromisedAt}, []time.Time{h(120), promised})
}

// fakeDwell knows two carriers' learned p95 at in_transit.
type fakeDwell map[string]float64

func (f fakeDwell) Version() uint32 { return 1 }
func (f fakeDwell) DwellQuantile(carrier, service, lane string, m eta.Milestone, q, minWeight float64) (float64, bool) {
	v, ok := f[carrier]
	return v, ok
}

func TestSlowLearnsEachCarrier(t *testing.T) {
	x := defaultHarness(t)
	x.e.UseModel(fakeDwell{"dhl": 20, "chinapost": 9 * 24})
	postal := func(e *schemas.Event) { e.Carrier, e.Service = "chinapost", "economy" }
	x.feed([]ev{
		{"X", schemas.InTransit, h(0), nil},    // express, normally moves on within 20 h
		{"P", schemas.InTransit, h(0), postal}, // postal linehaul, within 9 days
		tick(h(31)),
	}, nil)
	same(t, "express after 31h", x.changes("X"), []string{"slow opened warning"})
	same(t, "express opened", x.alert("X", "slow", Opened).OpenedAt, h(20))
	same(t, "postal after 31h", x.changes("P"), []string(nil))
	x.feed([]ev{tick(h(80))}, nil)
	// The fixed 72 h rule fires on the postal parcel; the learned one waits.
	same(t, "postal after 80h", x.changes("P"), []string{"stalled opened warning"})
	x.feed([]ev{tick(h(9*24 + 1))}, nil)
	got := x.changes("P")
	if len(got) < 2 || !strings.HasPrefix(got[len(got)-1], "slow opened") {
		t.Errorf("postal after 9 days: %v, want slow opened last", got)
	}
}

func (x *harness) kinds(tn string) []string {
	var s []string
	for _, n := range x.out.Notes {
		if n.TrackingNumber == tn {
			k := string(n.Kind)
			if n.ExceptionType != "" {
				k += ":" + n.ExceptionType
			}
			s = append(s, k)
		}
	}
	return s
}

func TestNotificationsOncePerMilestone(t *testing.T) {
	x := defaultHarness(t)
	journey := []ev{
		{"A", schemas.InfoReceived, h(0), nil},
		{"A", schemas.PickedUp, h(2), nil},
		{"A", schemas.InTransit, h(10), nil},
		{"A", schemas.ArrivedDestination, h(30), nil},
		{"A", schemas.CustomsClearance, h(31), nil},
		{"A", schemas.CustomsHeld, h(32), nil},
		{"A", schemas.CustomsReleased, h(50), nil},
		{"A", schemas.InTransit, h(52), nil},
		{"A", schemas.OutForDelivery, h(60), nil},
		{"A", schemas.Delivered, h(64), nil},
	}
	x.feed(journey, nil)
	x.feed(journey, nil) // a replay of the same events
	same(t, "kinds", x.kinds("A"), []string{"shipped", "arrived_destination", "exception:customs_held", "cleared_customs", "out_for_delivery", "delivered"})
	ids := map[string]bool{}
	for _, n := range x.out.Notes {
		if ids[n.ID] {
			t.Errorf("duplicate id %s", n.ID)
		}
		ids[n.ID] = true
	}
	// Events that arrive after the delivery they precede are not told late.
	y := defaultHarness(t)
	y.feed([]ev{{"B", schemas.Delivered, h(64), nil}, {"B", schemas.PickedUp, h(2), nil}, {"B", schemas.OutForDelivery, h(60), nil}}, nil)
	same(t, "late scans", y.kinds("B"), []string{"delivered"})
}

func TestETAChangeAndReminder(t *testing.T) {
	x := defaultHarness(t)
	p50 := []float64{100, 110, 160, 150}
	step := 0
	pred := func(tn string, s *analytics.Shipment) *eta.Prediction {
		if tn != "A" {
			return nil
		}
		p := uint32(h(p50[min(step, len(p50)-1)]).Unix())
		step++
		return &eta.Prediction{AsOf: s.LastAt, P10: p - 3600, P50: p, P90: p + 3600, Basis: eta.BasisCarrierLane}
	}
	x.feed([]ev{
		{"A", schemas.PickedUp, h(0), nil},   // told 100 h
		{"A", schemas.InTransit, h(5), nil},  // 110 h: within a day, not told
		{"A", schemas.InTransit, h(10), nil}, // 160 h: moved 60 h, told
		{"A", schemas.InTransit, h(20), nil}, // 150 h: 10 h from what was told
	}, pred)
	same(t, "kinds", x.kinds("A"), []string{"shipped", "eta_changed"})
	same(t, "shipped eta", x.out.Notes[0].ETA, h(100))
	same(t, "changed", []time.Time{x.out.Notes[1].PreviousETA, x.out.Notes[1].ETA}, []time.Time{h(100), h(160)})
	// The reminder goes a day before what the customer was told (160 h),
	// once.
	x.feed([]ev{tick(h(70)), tick(h(135)), tick(h(137)), tick(h(140))}, nil)
	got := x.kinds("A")
	if n := strings.Count(strings.Join(got, ","), "eta_reminder"); n != 1 {
		t.Fatalf("kinds %v: want one eta_reminder", got)
	}
	for _, n := range x.out.Notes {
		if n.Kind == ETAReminder && !n.OccurredAt.Equal(h(136)) {
			t.Errorf("reminder at %v, want %v", n.OccurredAt, h(136))
		}
	}
}

func TestBadRulesNameTheLine(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"rules:\n  - type: stalled\n    aftr: 72h\n", "line 3: unknown field aftr"},
		{"rules:\n  - type: stalled\n    by_status:\n      in_trnsit: 48h\n", `line 4: unknown status "in_trnsit"`},
		{"rules:\n  - type: stalled\n    after: 3 days\n", `line 3: invalid duration "3 days"`},
		{"rules:\n  - type: stuck\n", `line 2: unknown rule type "stuck"`},
		{"rules:\n  - type: stalled\n    tier: urgent\n", `line 3: unknown tier "urgent"`},
		{"rules:\n  - type: slow\n    after: 3d\n", "line 2: field after does not apply to a slow rule"},
		{"rules:\n  - type: stalled\n    by_category:\n      in_custom: 1d\n", `line 4: unknown category "in_custom"`},
		{"rules:\n  - type: stalled\n  - type: stalled\n", `line 3: rule name "stalled" is used already on line 2`},
		{"rules:\n  - type: stalled\n    escalate: {after: 1d, to: info}\n", "not above the rule's tier"},
		{"", "empty"},
	} {
		_, err := ParseRules([]byte(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.file, err, c.want)
		}
	}
}

func TestDefaultRules(t *testing.T) {
	r, err := ParseRules(DefaultRules)
	if err != nil {
		t.Fatal(err)
	}
	var stalled *Rule
	types := map[Type]bool{}
	for i := range r.Rules {
		types[r.Rules[i].Type] = true
		if r.Rules[i].Type == Stalled {
			stalled = &r.Rules[i]
		}
	}
	for _, ty := range Types {
		if !types[ty] {
			t.Errorf("the default rules have no %s rule", ty)
		}
	}
	// The limits the issue names: 72 h anywhere, 72 h in customs, 48 h in
	// the destination country, 24 h out for delivery.
	for _, c := range []struct {
		st   schemas.Status
		dest bool
		want time.Duration
	}{
		{schemas.InTransit, false, 72 * time.Hour},
		{schemas.CustomsClearance, true, 72 * time.Hour},
		{schemas.CustomsHeld, true, 72 * time.Hour},
		{schemas.InTransit, true, 48 * time.Hour},
		{schemas.ArrivedDestination, true, 48 * time.Hour},
		{schemas.OutForDelivery, true, 24 * time.Hour},
	} {
		if got := stalled.Limit(c.st, c.dest); got != c.want {
			t.Errorf("limit at %s (destination %v) = %v, want %v", c.st, c.dest, got, c.want)
		}
	}
}

// TestListsAgreeWithMessages: the templates (package messages, which
// cannot import this one) know every kind, exception type and alert type.
func TestListsAgreeWithMessages(t *testing.T) {
	strs := func(xs any) []string {
		var out []string
		switch v := xs.(type) {
		case []Kind:
			for _, x := range v {
				out = append(out, string(x))
			}
		case []Type:
			for _, x := range v {
				out = append(out, string(x))
			}
		case []string:
			out = v
		}
		return out
	}
	same(t, "kinds", strs(Kinds), messages.Kinds)
	same(t, "exception types", strs(ExceptionTypes), messages.ExceptionTypes)
	same(t, "alert types", strs(Types), messages.AlertTypes)
}

// TestRendererChoosesLanguage renders through NewRenderer: the shipment's
// locale when shiplens speaks it, else the merchant's setting, else the
// destination country's.
func TestRendererChoosesLanguage(t *testing.T) {
	r, err := ParseRules([]byte("rules: []\nnotifications:\n  merchants: {shop-fr: fr}\n"))
	if err != nil {
		t.Fatal(err)
	}
	render := NewRenderer(r)
	for _, c := range []struct {
		locale, merchant, dest, lang, source string
	}{
		{"zh-CN", "", "US", "zh", "shipment"},
		{"pt-BR", "shop-fr", "BR", "fr", "merchant"},
		{"", "", "DE", "de", "country"},
		{"pt-BR", "", "BR", "en", "default"},
	} {
		part := analytics.NewPartition()
		e := schemas.Event{EventID: "x", TrackingNumber: "A", Carrier: "ups", OriginCountry: "CN", DestinationCountry: c.dest,
			Status: schemas.PickedUp, OccurredAt: t0, Locale: c.locale, Merchant: c.merchant}
		part.Apply(&e, false)
		n := Notification{Kind: Shipped, TrackingNumber: "A", Carrier: "ups", OccurredAt: t0, Lane: "CN-" + c.dest}
		if err := render(&n, part.Get("A"), &e); err != nil {
			t.Fatal(err)
		}
		if err := Render(&n); err != nil {
			t.Fatal(err)
		}
		if n.Locale != c.lang || n.LocaleSource != c.source || !strings.Contains(n.Subject+n.Body, "A") {
			t.Errorf("%+v: rendered in %s from %s: %q", c, n.Locale, n.LocaleSource, n.Subject)
		}
	}
}

// TestEvaluateJudgesInHindsight: a parcel that stops for good is a real
// stall the stalled rule catches; one that pauses and arrives on time is
// a false alarm.
func TestEvaluateJudgesInHindsight(t *testing.T) {
	promise := func(e *schemas.Event) { e.PromisedAt = h(400) }
	mk := func(tn string, st schemas.Status, at time.Time) schemas.Event {
		e := schemas.Event{EventID: fmt.Sprintf("%s:%d", tn, at.Unix()), TrackingNumber: tn, Carrier: "dhl", Service: "express",
			OriginCountry: "CN", DestinationCountry: "US", Status: st, OccurredAt: at}
		promise(&e)
		return e
	}
	events := []schemas.Event{
		mk("LOST", schemas.PickedUp, h(0)),
		mk("PAUSE", schemas.PickedUp, h(0)),
		mk("CLOCK", schemas.PickedUp, h(80)),   // the watermark passes 72 h
		mk("PAUSE", schemas.InTransit, h(100)), // a 100 h gap: stalled, then moves on
		mk("PAUSE", schemas.Delivered, h(120)), // on time
		mk("CLOCK", schemas.InTransit, h(300)),
	}
	r, err := ParseRules([]byte("rules:\n  - type: stalled\n"))
	if err != nil {
		t.Fatal(err)
	}
	ev := Evaluate(events, r, EvaluateOptions{})
	if ev.NeverArrived != 2 || ev.Troubled != 2 { // LOST and CLOCK never arrive
		t.Fatalf("never delivered %d, troubled %d: want 2 and 2", ev.NeverArrived, ev.Troubled)
	}
	re := ev.Rules[0]
	// LOST and PAUSE stall at 72 h (PAUSE then resolves); CLOCK's only gap
	// ends with its own scan, which moves the watermark: never seen stalled.
	if re.Opened != 2 || re.Shipments != 2 || re.Real != 1 || re.Precision != 0.5 || re.Recall != 0.5 || re.LeadHoursP50 != 72 {
		t.Errorf("stalled: %+v; want 2 opened on 2 shipments, 1 real, recall 0.5, lead 72 h", re)
	}
}
