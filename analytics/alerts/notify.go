package alerts

import (
	"slices"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/schemas"
)

// Renderer fills a notification's Locale and LocaleSource (and may fill
// Subject and Body) for shipment s; ev is the event that made it, nil for a
// timer.
type Renderer func(n *Notification, s *analytics.Shipment, ev *schemas.Event) error

// Bits of analytics.Memo.Sent: the progress milestones, the reminder, and
// one per exception type.
const (
	bitShipped = iota
	bitArrived
	bitCleared
	bitOutForDelivery
	bitDelivered
	bitReminder
	bitException // + index in ExceptionTypes
)

func sentBit(k Kind) uint16 {
	switch k {
	case Shipped:
		return 1 << bitShipped
	case ArrivedDestination:
		return 1 << bitArrived
	case ClearedCustoms:
		return 1 << bitCleared
	case OutForDelivery:
		return 1 << bitOutForDelivery
	case Delivered:
		return 1 << bitDelivered
	case ETAReminder:
		return 1 << bitReminder
	}
	return 0
}

func exceptionBit(t string) uint16 {
	if i := slices.Index(ExceptionTypes, t); i >= 0 {
		return 1 << (bitException + i)
	}
	return 0
}

// progress is the journey's milestones in order, each reached or not, as
// the shipment's state tells them.
func progress(s *analytics.Shipment) [5]struct {
	kind    Kind
	reached bool
	at      uint32
} {
	dest := inDestination(s) || s.CustomsInAt != 0
	ofd := s.LastStatus == schemas.OutForDelivery || s.LastStatus == schemas.AvailableForPickup
	return [5]struct {
		kind    Kind
		reached bool
		at      uint32
	}{
		{Shipped, s.Start() != 0, s.Start()},
		{ArrivedDestination, dest || s.Delivered(), s.LastAt},
		{ClearedCustoms, s.CustomsInAt != 0 && s.CustomsOutAt != 0, s.CustomsOutAt},
		{OutForDelivery, ofd || s.Delivered(), s.LastAt},
		{Delivered, s.Delivered(), s.DeliveredAt},
	}
}

// exceptions returns the exception types s has reached, given which of
// the shipment's alerts are open (customs_failed and lost come from them),
// with the time of each.
func (e *Engine) exceptions(s *analytics.Shipment, m *analytics.Memo) (types []string, at []uint32) {
	for i, st := range [...]string{"customs_held", "delivery_failed", "returned", "exception"} {
		if t := s.TypeAt[i]; t != 0 {
			types, at = append(types, st), append(at, t)
		}
	}
	for ri := range e.rules.Rules {
		if m.Open&(1<<ri) == 0 {
			continue
		}
		switch e.rules.Rules[ri].Type {
		case CustomsFailed:
			types, at = append(types, "customs_failed"), append(at, s.LastAt)
		case Lost:
			types, at = append(types, "lost"), append(at, s.LastAt)
		}
	}
	return types, at
}

// Reached returns the Sent bits of what shipment s's state shows it has
// reached: what its customer must already have been told, or no longer
// needs to be, when s was stored (the processor publishes notifications
// before it writes the state that made them).
func (e *Engine) reached(s *analytics.Shipment, m *analytics.Memo) uint16 {
	var bits uint16
	for i, p := range progress(s) {
		if p.reached {
			bits |= 1 << i
		}
	}
	types, _ := e.exceptions(s, m)
	for _, t := range types {
		bits |= exceptionBit(t)
	}
	return bits
}

// MarkReached records that the customer of tn knows what its state shows
// (a shipment restored from storage).
func (e *Engine) MarkReached(tn string) {
	if s, m := e.state.Get(tn), e.state.Memo(tn); s != nil && m != nil {
		m.Sent |= e.reached(s, m)
	}
}

// RestoreNotified records a notification sent in an earlier run (store
// Notified), so that it is not sent again. A shipment's notifications must
// come in the order they were made, by (OccurredAt, ETA): the ETA of the
// last one that carried one is what the customer was told.
func (e *Engine) RestoreNotified(n Notification) {
	m := e.state.Memo(n.TrackingNumber)
	if m == nil {
		return
	}
	switch n.Kind {
	case ExceptionKind:
		m.Sent |= exceptionBit(n.ExceptionType)
	default:
		m.Sent |= sentBit(n.Kind)
	}
	if !n.ETA.IsZero() {
		m.Told = u32(n.ETA)
	}
}

// Resolved is called after a shipment created from events alone was merged
// with the state storage held for it (analytics.Partition.Resolve): what
// the stored state had reached was told before, so the notifications made
// for it from the events alone are withdrawn.
func (e *Engine) Resolved(tn string, stored *analytics.Shipment) {
	m := e.state.Memo(tn)
	if m == nil {
		return
	}
	bits := e.reached(stored, m)
	m.Sent |= bits
	keep := 0
	for i, n := range e.out.Notes {
		if n.TrackingNumber == tn && noteBit(&n)&bits != 0 {
			continue
		}
		e.out.Notes[keep], e.out.NoteOffsets[keep] = e.out.Notes[i], e.out.NoteOffsets[i]
		keep++
	}
	e.out.Notes, e.out.NoteOffsets = e.out.Notes[:keep], e.out.NoteOffsets[:keep]
}

func noteBit(n *Notification) uint16 {
	if n.Kind == ExceptionKind {
		return exceptionBit(n.ExceptionType)
	}
	return sentBit(n.Kind)
}

// notify sends the customer of tn what changed: the furthest milestone
// newly reached (earlier ones it passed are not sent late), newly seen
// exceptions, a move of the predicted delivery, and the reminder.
func (e *Engine) notify(tn string, s *analytics.Shipment, m *analytics.Memo, w uint32, pred *eta.Prediction, ev *schemas.Event) {
	cfg := &e.rules.Notifications
	if cfg.Disabled || s == nil {
		return
	}
	useful := pred != nil && pred.Basis != eta.BasisPrior && pred.Basis != eta.BasisDelivered && !s.Delivered()
	if useful && m.Told != 0 {
		if d := int64(pred.P50) - int64(m.Told); d > int64(cfg.ETAChange/time.Second) || -d > int64(cfg.ETAChange/time.Second) {
			n := e.note(tn, s, ETAChanged, "", pred.AsOf, pred)
			n.PreviousETA = ts(m.Told)
			n.ID = NotificationID(tn, ETAChanged, day(pred.P50))
			m.Told = pred.P50
			e.send(n, s, ev)
		}
	}
	// What the customer was told is the ETA of the latest notification
	// that carried one, so that a restart knows it (see RestoreNotified).
	ps := progress(s)
	furthest := -1
	for i, p := range ps {
		if p.reached && m.Sent&(1<<i) == 0 {
			furthest = i
		}
	}
	for i := 0; i <= furthest; i++ {
		if !ps[i].reached || m.Sent&(1<<i) != 0 {
			continue
		}
		m.Sent |= 1 << i
		if i < furthest {
			continue // passed before the customer heard of it
		}
		var p *eta.Prediction
		if useful {
			p = pred
		}
		n := e.note(tn, s, ps[i].kind, "", ps[i].at, p)
		switch {
		case p != nil:
			m.Told = p.P50
		case m.Told != 0 && !s.Delivered():
			n.ETA = ts(m.Told)
		}
		e.send(n, s, ev)
	}
	types, at := e.exceptions(s, m)
	for i, t := range types {
		bit := exceptionBit(t)
		if m.Sent&bit != 0 {
			continue
		}
		m.Sent |= bit
		if s.Delivered() {
			continue
		}
		n := e.note(tn, s, ExceptionKind, t, at[i], nil)
		n.ExceptionType = t
		n.ID = NotificationID(tn, ExceptionKind, t)
		if t == "delivery_failed" {
			n.Attempts = max(int(m.Attempts), 1)
		}
		e.send(n, s, ev)
	}
	if m.Told != 0 && m.Sent&sentBit(ETAReminder) == 0 && !s.Delivered() {
		if due := m.Told - min(m.Told, uint32(cfg.ReminderBefore/time.Second)); w >= due && w < m.Told {
			m.Sent |= sentBit(ETAReminder)
			n := e.note(tn, s, ETAReminder, "", due, nil)
			n.ETA = ts(m.Told)
			e.send(n, s, ev)
		}
	}
}

func (e *Engine) note(tn string, s *analytics.Shipment, k Kind, qualifier string, at uint32, pred *eta.Prediction) Notification {
	carrier, service, lane := s.Group().Strings()
	n := Notification{ID: NotificationID(tn, k, qualifier), Kind: k, TrackingNumber: tn, Partition: e.partition,
		Carrier: carrier, Service: service, Lane: lane, Merchant: s.Merchant(), Status: s.LastStatus.String(), OccurredAt: ts(at)}
	if pred != nil {
		n.ETA, n.ETAFrom, n.ETATo = ts(pred.P50), ts(pred.P10), ts(pred.P90)
	}
	return n
}

func (e *Engine) send(n Notification, s *analytics.Shipment, ev *schemas.Event) {
	if e.render != nil {
		if err := e.render(&n, s, ev); err != nil {
			n.Locale, n.LocaleSource, n.Subject, n.Body = "en", "default", string(n.Kind)+": "+n.TrackingNumber, err.Error()
		}
	}
	e.out.Notes = append(e.out.Notes, n)
	e.out.NoteOffsets = append(e.out.NoteOffsets, e.offset)
}
