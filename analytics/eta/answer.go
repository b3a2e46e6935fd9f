package eta

import (
	"cmp"
	"slices"
	"time"
)

// Answer is what a planner gets for one tracking number: the JSON line of
// `shiplens eta` and the body of GET /v1/eta/{tracking_number}.
type Answer struct {
	TrackingNumber    string     `json:"tracking_number"`
	Carrier           string     `json:"carrier"`
	Service           string     `json:"service,omitempty"`
	Lane              string     `json:"lane"`
	Status            string     `json:"status"`
	StatusText        string     `json:"status_text"`
	Milestone         string     `json:"milestone"`
	PredictedDelivery time.Time  `json:"predicted_delivery"` // p50; the delivery itself once delivered
	P10               time.Time  `json:"p10"`
	P90               time.Time  `json:"p90"`
	AsOf              time.Time  `json:"as_of"`
	Basis             string     `json:"basis"`
	ModelVersion      time.Time  `json:"model_version"`
	PromisedAt        *time.Time `json:"promised_at,omitempty"`
}

func utc(t uint32) time.Time { return time.Unix(int64(t), 0).UTC() }

// Clock returns the event time to predict a stored prediction r as of:
// the stream's clock as far as model m knows it (a version v exists once
// every partition has seen v's day end, so the stream is at least a day
// past v), never before r's own as_of and never after wall.
func Clock(r *Record, m *Model, wall time.Time) uint32 {
	now := r.AsOf
	if m != nil && m.Version()+day > now {
		now = m.Version() + day
	}
	if w := uint32(max(wall.Unix(), 0)); w < now {
		now = max(w, r.AsOf)
	}
	return now
}

// NewAnswer turns the stored prediction r into an answer in lang. With a
// predictor and a clock later than r.AsOf, an undelivered shipment is
// predicted again as of now, so that the time it has spent at its
// milestone counts (a parcel stalled in customs for days is later than
// one that just arrived); p may be nil.
func NewAnswer(r Record, p *Predictor, now uint32, lang string) Answer {
	pr := r.Prediction
	if p != nil && r.Basis != BasisDelivered && now > r.AsOf {
		pr = p.Repredict(&r, now)
	}
	a := Answer{
		TrackingNumber: r.TrackingNumber, Carrier: r.Carrier, Service: r.Service, Lane: r.Lane,
		Status: r.Status.String(), StatusText: r.Status.Text(lang), Milestone: pr.Milestone.String(),
		PredictedDelivery: utc(pr.P50), P10: utc(pr.P10), P90: utc(pr.P90), AsOf: utc(max(now, pr.AsOf)),
		Basis: pr.Basis.String(), ModelVersion: utc(pr.Version),
	}
	if r.Basis == BasisDelivered {
		a.AsOf = utc(r.AsOf)
	}
	if r.PromisedAt != 0 {
		t := utc(r.PromisedAt)
		a.PromisedAt = &t
	}
	return a
}

// Rank quotes every carrier and service seen delivering on lane (only
// carrier's, or only that service, when given), best first: the most likely
// to arrive by deadline, then the earliest p50. A carrier or service given
// but never seen on the lane is still quoted, from the coarser groups.
func (p *Predictor) Rank(lane, carrier, service string, shippedAt, deadline uint32) []Quote {
	var offers []Offer
	for _, o := range p.m.Offers(lane) {
		if (carrier == "" || o.Carrier == carrier) && (service == "" || o.Service == service) {
			offers = append(offers, o)
		}
	}
	if len(offers) == 0 && carrier != "" {
		offers = []Offer{{Carrier: carrier, Service: service}}
	}
	out := make([]Quote, 0, len(offers))
	for _, o := range offers {
		out = append(out, p.Quote(o.Carrier, o.Service, lane, shippedAt, deadline))
	}
	slices.SortStableFunc(out, func(a, b Quote) int {
		return cmp.Or(cmp.Compare(b.OnTime, a.OnTime), cmp.Compare(a.P50, b.P50), cmp.Compare(a.Carrier, b.Carrier), cmp.Compare(a.Service, b.Service))
	})
	return out
}

// QuoteAnswer is one ranked option of a what-if quote, as JSON.
type QuoteAnswer struct {
	Carrier           string    `json:"carrier"`
	Service           string    `json:"service,omitempty"`
	P10               time.Time `json:"p10"`
	PredictedDelivery time.Time `json:"p50"`
	P90               time.Time `json:"p90"`
	// OnTime is P(delivered by the deadline); absent without a deadline.
	OnTime     *float64 `json:"on_time_probability,omitempty"`
	Basis      string   `json:"basis"`
	Deliveries float64  `json:"deliveries"` // weight of the deliveries of the group it rests on, decayed
}

// QuoteResponse is the answer of GET /v1/eta/quote and `shiplens eta quote`.
type QuoteResponse struct {
	Lane         string        `json:"lane"`
	ShippedAt    time.Time     `json:"shipped_at"`
	Deadline     *time.Time    `json:"deadline,omitempty"`
	ModelVersion time.Time     `json:"model_version"`
	Options      []QuoteAnswer `json:"options"`
}

// NewQuoteResponse ranks the options for lane (see Rank).
func NewQuoteResponse(p *Predictor, lane, carrier, service string, shippedAt, deadline uint32) QuoteResponse {
	r := QuoteResponse{Lane: lane, ShippedAt: utc(shippedAt), ModelVersion: utc(p.m.Version()), Options: []QuoteAnswer{}}
	if deadline != 0 {
		t := utc(deadline)
		r.Deadline = &t
	}
	for _, q := range p.Rank(lane, carrier, service, shippedAt, deadline) {
		a := QuoteAnswer{Carrier: q.Carrier, Service: q.Service, P10: utc(q.P10), PredictedDelivery: utc(q.P50), P90: utc(q.P90),
			Basis: q.Basis.String(), Deliveries: q.Deliveries}
		if q.OnTime >= 0 {
			v := q.OnTime
			a.OnTime = &v
		}
		r.Options = append(r.Options, a)
	}
	return r
}
