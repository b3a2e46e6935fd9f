package alerts

import (
	"sort"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/schemas"
)

// Evaluation is what a rules file raises on a recorded stream, judged in
// hindsight: `shiplens alerts evaluate`.
type Evaluation struct {
	Events    int `json:"events"`
	Shipments int `json:"shipments"`
	// Troubled counts the shipments that ended badly: never delivered (lost,
	// returned, abandoned) or delivered after their promise. An alert on
	// one of them is "real"; the rest are false alarms.
	Troubled      int              `json:"troubled"`
	NeverArrived  int              `json:"never_delivered"`
	DeliveredLate int              `json:"delivered_late"`
	Rules         []RuleEvaluation `json:"rules"`
	Notifications map[Kind]int     `json:"notifications"`
}

// RuleEvaluation is one rule's figures.
type RuleEvaluation struct {
	Rule   string `json:"rule"`
	Type   Type   `json:"type"`
	Opened int    `json:"opened"`
	// Shipments alerted, and of them the troubled ones.
	Shipments int     `json:"shipments"`
	Real      int     `json:"real"`
	Precision float64 `json:"precision"` // Real / Shipments
	// Recall is the share of the shipments never delivered that the rule
	// alerted on (stalled, slow and lost rules).
	Recall float64 `json:"recall"`
	// LeadHoursP50 is, for the never-delivered shipments it caught, the
	// median time from their last scan to the alert's opening.
	LeadHoursP50 float64        `json:"lead_hours_p50"`
	ByService    map[string]int `json:"opened_by_service"`
}

// EvaluateOptions configures Evaluate.
type EvaluateOptions struct {
	Model    eta.Config // the ETA model the slow and predicted_late rules read
	Progress func(done, total int)
}

// Evaluate replays events in the order given, as one partition's owner
// would, through the rules, with an ETA model that learns at every UTC day
// of the watermark from the deliveries seen so far (as the processor's
// versions do), and judges each alert by how its shipment ended, which
// only hindsight over the whole stream tells.
func Evaluate(events []schemas.Event, rules *Rules, o EvaluateOptions) *Evaluation {
	part := analytics.NewPartition()
	e := NewEngine(rules, 0, part, nil)
	model := eta.New(o.Model)
	pd := model.NewPredictor()
	e.UseModel(model)
	type track struct {
		visits []eta.Visit
	}
	tracks := map[string]*track{}
	var pending []eta.Delivery
	visited := map[eta.VisitCount]float64{}
	version := uint32(0)
	var out Out
	for i := range events {
		ev := &events[i]
		if o.Progress != nil && i&4095 == 0 {
			o.Progress(i, len(events))
		}
		before := part.Watermark()
		changed, _ := part.Apply(ev, false)
		w := part.Watermark()
		if v := w - w%86400; v > version {
			if version != 0 {
				vs := make([]eta.VisitCount, 0, len(visited))
				for k, n := range visited {
					k.N = n
					vs = append(vs, k)
				}
				clear(visited)
				model.Learn(pending, vs, v)
				pending = pending[:0]
				pd.Use(model)
				e.UseModel(model)
			}
			version = v
		}
		e.At(int64(i))
		if changed {
			s := part.Get(ev.TrackingNumber)
			tr := tracks[ev.TrackingNumber]
			if tr == nil {
				tr = &track{}
				tracks[ev.TrackingNumber] = tr
			}
			var pred *eta.Prediction
			if s.Delivered() {
				if tr.visits != nil {
					pending = append(pending, eta.Delivery{TrackingNumber: ev.TrackingNumber, Carrier: s.Carrier(), Service: s.Service(), Lane: s.Lane(),
						Start: s.Start(), DeliveredAt: s.DeliveredAt, Visits: tr.visits})
					tr.visits = nil
				}
			} else {
				p := pd.Predict(s, s.LastAt)
				pred = &p
				tr.visits = append(tr.visits, eta.Visit{At: p.AsOf, Milestone: p.Milestone})
				carrier, service, lane := s.Group().Strings()
				visited[eta.VisitCount{Carrier: carrier, Service: service, Lane: lane, Milestone: p.Milestone, Day: p.AsOf - p.AsOf%86400}]++
			}
			e.Observe(ev.TrackingNumber, ev, pred, w)
		}
		if w != before {
			e.Advance(w)
		}
		if i&1023 == 0 {
			o2 := e.Take()
			out.Alerts = append(out.Alerts, o2.Alerts...)
			out.Notes = append(out.Notes, o2.Notes...)
		}
	}
	o2 := e.Take()
	out.Alerts = append(out.Alerts, o2.Alerts...)
	out.Notes = append(out.Notes, o2.Notes...)
	if o.Progress != nil {
		o.Progress(len(events), len(events))
	}
	return judge(events, part, rules, &out)
}

func judge(events []schemas.Event, part *analytics.Partition, rules *Rules, out *Out) *Evaluation {
	ev := &Evaluation{Events: len(events), Notifications: map[Kind]int{}}
	troubled := map[string]bool{}
	lost := map[string]uint32{} // never delivered: last scan
	part.Each(func(tn string, s *analytics.Shipment, _ *analytics.Memo) {
		ev.Shipments++
		if s.Start() == 0 {
			return // a label never handed over: not a parcel in transit
		}
		switch onTime, ok := s.OnTime(); {
		case !s.Delivered():
			troubled[tn], lost[tn] = true, s.LastAt
			ev.NeverArrived++
		case ok && !onTime:
			troubled[tn] = true
			ev.DeliveredLate++
		}
	})
	ev.Troubled = len(troubled)
	for _, n := range out.Notes {
		ev.Notifications[n.Kind]++
	}
	for _, r := range rules.Rules {
		re := RuleEvaluation{Rule: r.Name, Type: r.Type, ByService: map[string]int{}}
		alerted := map[string]bool{}
		var leads []float64
		for _, a := range out.Alerts {
			if a.Rule != r.Name || a.Change != Opened {
				continue
			}
			re.Opened++
			svc := a.Carrier + " " + a.Service
			re.ByService[svc]++
			if alerted[a.TrackingNumber] {
				continue
			}
			alerted[a.TrackingNumber] = true
			if troubled[a.TrackingNumber] {
				re.Real++
			}
			timer := r.Type == Stalled || r.Type == Slow || r.Type == Lost
			if last, ok := lost[a.TrackingNumber]; ok && timer && a.LastEventAt.Unix() == int64(last) {
				leads = append(leads, float64(a.OpenedAt.Unix()-int64(last))/3600)
			}
		}
		re.Shipments = len(alerted)
		if re.Shipments > 0 {
			re.Precision = float64(re.Real) / float64(re.Shipments)
		}
		if len(lost) > 0 {
			caught := 0
			for tn := range lost {
				if alerted[tn] {
					caught++
				}
			}
			re.Recall = float64(caught) / float64(len(lost))
		}
		if len(leads) > 0 {
			sort.Float64s(leads)
			re.LeadHoursP50 = leads[len(leads)/2]
		}
		ev.Rules = append(ev.Rules, re)
	}
	return ev
}
