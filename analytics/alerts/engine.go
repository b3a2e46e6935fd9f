package alerts

import (
	"container/heap"
	"fmt"
	"strings"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/schemas"
)

// Shipments is the partition state the engine reads: *analytics.Partition.
type Shipments interface {
	Get(trackingNumber string) *analytics.Shipment
	Memo(trackingNumber string) *analytics.Memo
	Lookup(trackingNumber string) (*analytics.Shipment, *analytics.Memo)
}

// Dwell gives the learned time at a milestone: *eta.Model.
type Dwell interface {
	Version() uint32
	DwellQuantile(carrier, service, lane string, m eta.Milestone, q, minWeight float64) (hours float64, ok bool)
}

// Out is what the engine produced since the last Take: alert transitions
// and notifications, each with the offset of the message whose processing
// made it (the processor's key for not publishing a record twice).
type Out struct {
	Alerts        []Alert
	AlertOffsets  []int64
	Notes         []Notification
	NoteOffsets   []int64
	Opened, Fired int // counts, for metrics
}

// Len returns the number of records in o.
func (o *Out) Len() int { return len(o.Alerts) + len(o.Notes) }

// Engine evaluates a rules file over one partition's shipments, in event
// time: each rule's condition is a function of a shipment's state, the
// partition's watermark and, for the learned rules, the ETA model, so the
// same events in the same order raise the same alerts with the same ids,
// live or replayed. It keeps one timer per shipment (the next event time
// at which a rule could change its mind) in a min-heap, and details of the
// open alerts beside the partition's memos. It does no I/O: the caller
// (the processor's owner) feeds it and takes its output.
type Engine struct {
	rules     *Rules
	partition int
	state     Shipments
	dwell     Dwell
	render    Renderer

	open   map[string][]*openAlert
	timers timerHeap
	out    Out
	offset int64

	// learned quantiles by group and milestone, for dwell's version
	dwellVersion uint32
	dwellCache   map[dwellKey]float64
}

type openAlert struct {
	rule      int
	id        string
	seq       uint32
	tier      Tier
	opened    uint32
	escalated uint32
	limit     float64 // hours
	attempts  int
}

type dwellKey struct {
	g analytics.Group
	m eta.Milestone
	r int
}

// NewEngine returns an engine for partition over state.
func NewEngine(rules *Rules, partition int, state Shipments, render Renderer) *Engine {
	return &Engine{rules: rules, partition: partition, state: state, render: render,
		open: map[string][]*openAlert{}, dwellCache: map[dwellKey]float64{}}
}

// UseModel sets the ETA model the slow rules read; nil: slow rules wait.
func (e *Engine) UseModel(d Dwell) {
	if d != nil && (e.dwell == nil || d.Version() != e.dwellVersion) {
		clear(e.dwellCache)
		e.dwellVersion = d.Version()
	}
	e.dwell = d
}

// At sets the offset of the message being processed: every record made
// until the next call carries it.
func (e *Engine) At(offset int64) { e.offset = offset }

// Take returns and forgets what the engine produced.
func (e *Engine) Take() Out {
	o := e.out
	// The next batch is likely as large: room for it up front saves the
	// copies of growing slices of large records.
	e.out = Out{Alerts: make([]Alert, 0, len(o.Alerts)), AlertOffsets: make([]int64, 0, len(o.Alerts)),
		Notes: make([]Notification, 0, len(o.Notes)), NoteOffsets: make([]int64, 0, len(o.Notes))}
	return o
}

// Timers returns the number of scheduled timers (stale ones included).
func (e *Engine) Timers() int { return len(e.timers) }

// OpenAlerts returns the number of open alerts.
func (e *Engine) OpenAlerts() int {
	n := 0
	for _, as := range e.open {
		n += len(as)
	}
	return n
}

// Observe evaluates every rule and notification after a change of
// shipment tn, made by event ev (nil when not known), with the prediction
// made after it (nil when none), at watermark w.
func (e *Engine) Observe(tn string, ev *schemas.Event, pred *eta.Prediction, w uint32) {
	s, m := e.state.Lookup(tn)
	if s == nil {
		return
	}
	if ev != nil && ev.Status == schemas.DeliveryFailed && m.Attempts < 1<<15 {
		m.Attempts++
	}
	e.evaluate(tn, s, m, w, pred, ev)
	e.notify(tn, s, m, w, pred, ev)
	e.schedule(tn, s, m, w)
}

// Advance fires the timers due at watermark w.
func (e *Engine) Advance(w uint32) {
	for len(e.timers) > 0 && e.timers[0].due <= w {
		t := heap.Pop(&e.timers).(timer)
		s, m := e.state.Lookup(t.tn)
		if m == nil || m.Due != t.due {
			continue // evicted, or rescheduled earlier
		}
		m.Due = 0
		e.evaluate(t.tn, s, m, w, nil, nil)
		e.notify(t.tn, s, m, w, nil, nil)
		e.schedule(t.tn, s, m, w)
	}
}

// Schedule sets the timer of a shipment put in memory without an event
// (restored at partition assignment).
func (e *Engine) Schedule(tn string, w uint32) {
	if s, m := e.state.Get(tn), e.state.Memo(tn); s != nil && m != nil {
		e.schedule(tn, s, m, w)
	}
}

// Prune forgets the open alerts of shipments that left memory (closed ones
// past their retention, whose returned or customs_failed alert stays open in
// storage); their timers go when they fire.
func (e *Engine) Prune() {
	for tn := range e.open {
		if e.state.Get(tn) == nil {
			delete(e.open, tn)
		}
	}
}

// condition is what a rule says about a shipment now.
type condition struct {
	known bool    // false: the rule cannot tell (no model, no prediction)
	holds bool    // the alert should be open
	since uint32  // when the condition began: the alert's opened_at
	limit float64 // hours, for stalled, slow and lost
}

// check evaluates rule r on s at w.
func (e *Engine) check(r *Rule, ri int, s *analytics.Shipment, m *analytics.Memo, w uint32, pred *eta.Prediction) condition {
	closed := s.Closed()
	switch r.Type {
	case Stalled:
		if closed || s.LastAt == 0 {
			return condition{known: true}
		}
		l := r.Limit(s.LastStatus, inDestination(s))
		due := add(s.LastAt, l)
		return condition{known: true, holds: w >= due, since: due, limit: l.Hours()}
	case Slow:
		if closed || s.LastAt == 0 {
			return condition{known: true}
		}
		h, ok := e.learned(r, ri, s)
		if !ok {
			return condition{}
		}
		due := s.LastAt + uint32(h*3600)
		return condition{known: true, holds: w >= due, since: due, limit: h}
	case Lost:
		if closed || s.LastAt == 0 || !s.LastStatus.IsException() {
			return condition{known: true}
		}
		due := add(s.LastAt, r.After)
		return condition{known: true, holds: w >= due, since: due, limit: r.After.Hours()}
	case CustomsHeld:
		held := s.TypeAt[0]
		released := s.CustomsOutAt != 0 && s.CustomsOutAt >= held
		return condition{known: true, holds: held != 0 && !released && !closed, since: held}
	case CustomsFailed:
		failed := s.CustomsInAt != 0 && s.CustomsOutAt == 0 && !s.Delivered() &&
			(s.LastStatus == schemas.Returned || s.LastStatus == schemas.Exception)
		return condition{known: true, holds: failed, since: s.LastAt}
	case DeliveryFailed:
		f := s.TypeAt[1]
		return condition{known: true, holds: f != 0 && !closed, since: f}
	case Returned:
		r := s.TypeAt[2]
		return condition{known: true, holds: r != 0 && !s.Delivered(), since: r}
	case PredictedLate:
		if s.Delivered() || !s.HasPromise() {
			return condition{known: true}
		}
		if pred == nil || pred.Basis == eta.BasisPrior {
			return condition{}
		}
		late := int64(pred.P50) > int64(s.PromisedAt)+int64(r.Margin/time.Second)
		return condition{known: true, holds: late, since: pred.AsOf}
	}
	return condition{}
}

// detail is one line of English on an alert of rule r, made only for the
// transitions emitted.
func detail(r *Rule, s *analytics.Shipment, a *openAlert, w uint32, pred *eta.Prediction) string {
	quiet := hours(w - min(w, s.LastAt))
	switch r.Type {
	case Stalled:
		return fmt.Sprintf("no event for %s at %s (limit %s)", quiet, s.LastStatus, hours(uint32(a.limit*3600)))
	case Slow:
		return fmt.Sprintf("%s at %s; %d%% of this carrier's parcels on %s move on within %s", quiet, eta.MilestoneOf(s),
			int(r.Quantile*100+0.5), s.Lane(), hours(uint32(a.limit*3600)))
	case Lost:
		return fmt.Sprintf("%s and no event for %s", s.LastStatus, quiet)
	case CustomsHeld:
		return "held in customs"
	case CustomsFailed:
		return "customs clearance failed: " + s.LastStatus.String() + " while in customs"
	case DeliveryFailed:
		return fmt.Sprintf("%d failed delivery attempt(s)", max(a.attempts, 1))
	case Returned:
		return "returning to sender"
	case PredictedLate:
		if pred != nil {
			return fmt.Sprintf("predicted %s, promised %s", day(pred.P50), day(s.PromisedAt))
		}
		return "predicted after the promise of " + day(s.PromisedAt)
	}
	return string(r.Type)
}

// learned returns the slow rule's limit for s, in hours.
func (e *Engine) learned(r *Rule, ri int, s *analytics.Shipment) (float64, bool) {
	if e.dwell == nil {
		return 0, false
	}
	k := dwellKey{s.Group(), eta.MilestoneOf(s), ri}
	if h, ok := e.dwellCache[k]; ok {
		return h, h > 0
	}
	carrier, service, lane := s.Group().Strings()
	h, ok := e.dwell.DwellQuantile(carrier, service, lane, k.m, r.Quantile, r.MinDeliveries)
	if ok {
		h = max(h, r.Floor.Hours())
	} else {
		h = 0
	}
	e.dwellCache[k] = h
	return h, ok
}

// evaluate opens, updates, escalates and resolves the alerts of shipment
// tn at w.
func (e *Engine) evaluate(tn string, s *analytics.Shipment, m *analytics.Memo, w uint32, pred *eta.Prediction, ev *schemas.Event) {
	for ri := range e.rules.Rules {
		r := &e.rules.Rules[ri]
		bit := uint32(1) << ri
		isOpen := m.Open&bit != 0
		if !isOpen && !r.Applies(s.Carrier(), s.Lane()) {
			continue
		}
		c := e.check(r, ri, s, m, w, pred)
		if !c.known {
			continue
		}
		switch {
		case c.holds && !isOpen:
			a := &openAlert{rule: ri, id: AlertID(tn, r.Name, ts(c.since)), seq: 1, tier: r.Tier, opened: c.since, limit: c.limit, attempts: int(m.Attempts)}
			m.Open |= bit
			e.open[tn] = append(e.open[tn], a)
			e.out.Opened++
			e.emit(tn, s, a, r, Opened, w, c, pred)
			if r.Escalate.After > 0 && w >= add(a.opened, r.Escalate.After) {
				e.escalate(tn, s, a, r, w, c, pred)
			}
		case c.holds && isOpen:
			a := e.find(tn, ri)
			if a == nil {
				continue
			}
			if r.Type == DeliveryFailed && int(m.Attempts) > a.attempts {
				a.attempts = int(m.Attempts)
				a.seq++
				e.emit(tn, s, a, r, Updated, w, c, pred)
			}
			if a.escalated == 0 && r.Escalate.After > 0 && r.Escalate.To.Rank() > a.tier.Rank() && w >= add(a.opened, r.Escalate.After) {
				e.escalate(tn, s, a, r, w, c, pred)
			}
		case !c.holds && isOpen:
			a := e.find(tn, ri)
			m.Open &^= bit
			if a == nil {
				continue
			}
			e.drop(tn, a)
			a.seq++
			e.emit(tn, s, a, r, Closed, w, c, pred)
		}
	}
}

func (e *Engine) escalate(tn string, s *analytics.Shipment, a *openAlert, r *Rule, w uint32, c condition, pred *eta.Prediction) {
	a.tier, a.escalated = r.Escalate.To, add(a.opened, r.Escalate.After)
	a.seq++
	e.emit(tn, s, a, r, Escalated, w, c, pred)
}

func (e *Engine) find(tn string, ri int) *openAlert {
	for _, a := range e.open[tn] {
		if a.rule == ri {
			return a
		}
	}
	return nil
}

func (e *Engine) drop(tn string, a *openAlert) {
	as := e.open[tn]
	for i, x := range as {
		if x == a {
			as = append(as[:i], as[i+1:]...)
			break
		}
	}
	if len(as) == 0 {
		delete(e.open, tn)
	} else {
		e.open[tn] = as
	}
}

// emit appends a transition of a.
func (e *Engine) emit(tn string, s *analytics.Shipment, a *openAlert, r *Rule, ch Change, w uint32, c condition, pred *eta.Prediction) {
	carrier, service, lane := s.Group().Strings()
	al := Alert{
		ID: a.id, TransitionID: TransitionID(a.id, ch, a.seq), Change: ch, Seq: a.seq,
		Type: r.Type, Rule: r.Name, Tier: a.tier, State: Open,
		TrackingNumber: tn, Partition: e.partition, Carrier: carrier, Service: service, Lane: lane, Merchant: s.Merchant(),
		Status: s.LastStatus.String(), Milestone: eta.MilestoneOf(s).String(), LastEventAt: ts(s.LastAt),
		OpenedAt: ts(a.opened), EscalatedAt: tsOr0(a.escalated), At: ts(w), LimitHours: a.limit,
	}
	al.Detail = detail(r, s, a, w, pred)
	if r.Type == DeliveryFailed {
		al.Attempts = max(a.attempts, 1)
	}
	if r.Type == PredictedLate {
		al.PromisedAt = ts(s.PromisedAt)
		if pred != nil {
			al.PredictedAt = ts(pred.P50)
		}
	}
	if ch == Closed {
		al.State = Resolved
		at := s.LastAt
		if s.Delivered() {
			at = s.DeliveredAt
		}
		al.ResolvedAt = ts(max(at, a.opened))
		al.Detail = "resolved: " + resolution(r.Type, s)
	}
	e.out.Alerts = append(e.out.Alerts, al)
	e.out.AlertOffsets = append(e.out.AlertOffsets, e.offset)
}

func resolution(t Type, s *analytics.Shipment) string {
	switch {
	case s.Delivered():
		return "delivered"
	case t == Stalled || t == Slow || t == Lost:
		return "moved again: " + s.LastStatus.String()
	}
	return "now " + s.LastStatus.String()
}

// Restore puts back an alert that was open when the partition was last
// written (store OpenAlerts). An alert whose rule is gone from the rules
// file is resolved at w.
func (e *Engine) Restore(a Alert, w uint32) {
	s, m := e.state.Get(a.TrackingNumber), e.state.Memo(a.TrackingNumber)
	if s == nil || m == nil {
		return
	}
	ri := -1
	for i := range e.rules.Rules {
		if e.rules.Rules[i].Name == a.Rule && e.rules.Rules[i].Type == a.Type {
			ri = i
		}
	}
	oa := &openAlert{rule: ri, id: a.ID, seq: a.Seq, tier: a.Tier, opened: u32(a.OpenedAt), escalated: u32(a.EscalatedAt), limit: a.LimitHours, attempts: a.Attempts}
	if ri < 0 {
		a.Seq++
		a.TransitionID, a.Change, a.State, a.At, a.ResolvedAt = TransitionID(a.ID, Closed, a.Seq), Closed, Resolved, ts(w), ts(w)
		a.Detail = "resolved: the rule " + a.Rule + " is no longer in the rules file"
		e.out.Alerts = append(e.out.Alerts, a)
		e.out.AlertOffsets = append(e.out.AlertOffsets, e.offset)
		return
	}
	if m.Open&(1<<ri) != 0 {
		return
	}
	m.Open |= 1 << ri
	if a.Type == DeliveryFailed && uint16(a.Attempts) > m.Attempts {
		m.Attempts = uint16(a.Attempts)
	}
	e.open[a.TrackingNumber] = append(e.open[a.TrackingNumber], oa)
}

// schedule sets the shipment's timer to the next event time at which a
// rule or a reminder could change its mind without a new event.
func (e *Engine) schedule(tn string, s *analytics.Shipment, m *analytics.Memo, w uint32) {
	next := uint32(0)
	at := func(t uint32) {
		if t > w && (next == 0 || t < next) {
			next = t
		}
	}
	if !s.Closed() && s.LastAt != 0 {
		for ri := range e.rules.Rules {
			r := &e.rules.Rules[ri]
			open := m.Open&(1<<ri) != 0
			if !open && !r.Applies(s.Carrier(), s.Lane()) {
				continue
			}
			switch {
			case open:
				if a := e.find(tn, ri); a != nil && a.escalated == 0 && r.Escalate.After > 0 && r.Escalate.To.Rank() > a.tier.Rank() {
					at(add(a.opened, r.Escalate.After))
				}
			case r.Type == Stalled:
				at(add(s.LastAt, r.Limit(s.LastStatus, inDestination(s))))
			case r.Type == Lost && s.LastStatus.IsException():
				at(add(s.LastAt, r.After))
			case r.Type == Slow:
				if h, ok := e.learned(r, ri, s); ok {
					at(s.LastAt + uint32(h*3600))
				} else if e.dwell != nil {
					// Not enough deliveries yet: look again a day later,
					// when a newer model may know.
					at(w + 86400)
				}
			}
		}
	}
	if n := &e.rules.Notifications; !n.Disabled && m.Told != 0 && m.Sent&sentBit(ETAReminder) == 0 && !s.Delivered() {
		at(m.Told - min(m.Told, uint32(n.ReminderBefore/time.Second)))
	}
	if next == 0 {
		return
	}
	if m.Due <= w || next < m.Due {
		m.Due = next
		heap.Push(&e.timers, timer{due: next, tn: tn})
	}
}

func inDestination(s *analytics.Shipment) bool { return eta.MilestoneOf(s).InDestination() }

func add(t uint32, d time.Duration) uint32 {
	v := int64(t) + int64(d/time.Second)
	if v > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(v)
}

func ts(t uint32) time.Time { return time.Unix(int64(t), 0).UTC() }

func tsOr0(t uint32) time.Time {
	if t == 0 {
		return time.Time{}
	}
	return ts(t)
}

func u32(t time.Time) uint32 {
	if t.IsZero() || t.Unix() <= 0 {
		return 0
	}
	return uint32(t.Unix())
}

func day(t uint32) string { return ts(t).Format(time.DateOnly) }

// hours formats seconds as "30h" or "9d 4h".
func hours(sec uint32) string {
	h := (sec + 1800) / 3600
	if h < 48 {
		return fmt.Sprintf("%dh", h)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%dd", h/24)
	if h%24 != 0 {
		fmt.Fprintf(&b, " %dh", h%24)
	}
	return b.String()
}

type timer struct {
	due uint32
	tn  string
}

type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].due < h[j].due }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = timer{}
	*h = old[:len(old)-1]
	return t
}
