package eta

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/schemas"
)

// OracleFunc returns the true p10, p50 and p90 (Unix seconds) of the
// delivery of the shipment whose event eventID was just seen; ok is false
// when it does not know. A generator that knows its own distributions
// provides one (gen.Oracle); no model can beat it.
type OracleFunc func(eventID string) (p10, p50, p90 int64, ok bool)

// BacktestOptions configures Backtest.
type BacktestOptions struct {
	Model Config
	// Oracle, when set, is asked after every prediction too; it may be
	// called from Workers goroutines at once.
	Oracle OracleFunc
	// Workers is how many goroutines ask the oracle; defaults to 1.
	Workers int
	// Progress, when set, is called with the share of events replayed.
	Progress func(done, total int)
}

// Scored is one prediction of a shipment that was later delivered, with its
// outcome.
type Scored struct {
	TrackingNumber string
	Prediction
	DeliveredAt uint32
	PromisedAt  uint32 // 0: no promise in force
	EventID     string
	Oracle      [3]int64 // p10, p50, p90; Oracle[1] == 0 when the oracle did not answer
}

// Figures are the accuracy figures of a set of predictions.
type Figures struct {
	MAEHours            float64 `json:"mae_hours"`
	MedianAbsErrorHours float64 `json:"median_abs_error_hours"`
	P90AbsErrorHours    float64 `json:"p90_abs_error_hours"`
	BiasHours           float64 `json:"bias_hours"`
	Within24h           float64 `json:"within_24h"`
	SameDay             float64 `json:"same_day"`
	Coverage            float64 `json:"p10_p90_coverage"`
	MeanIntervalHours   float64 `json:"mean_interval_hours"`
}

// PromisedFigures are the figures of the promised date taken as a
// prediction.
type PromisedFigures struct {
	MAEHours    float64 `json:"mae_hours"`
	Within24h   float64 `json:"within_24h"`
	SameDay     float64 `json:"same_day"`
	Coverage    float64 `json:"p10_p90_coverage"` // a date has no interval: always 0
	Predictions int     `json:"predictions"`
}

// MilestoneFigures are the figures of the predictions made at one milestone.
type MilestoneFigures struct {
	Milestone   string          `json:"milestone"`
	Predictions int             `json:"predictions"`
	Model       Figures         `json:"model"`
	Promised    PromisedFigures `json:"promised"`
	Oracle      *Figures        `json:"oracle,omitempty"`
}

// RemainingFigures are the figures of the predictions made with a given
// time left before delivery.
type RemainingFigures struct {
	RemainingDays string   `json:"remaining_days"`
	Predictions   int      `json:"predictions"`
	Model         Figures  `json:"model"`
	Oracle        *Figures `json:"oracle,omitempty"`
}

// Report is the outcome of a backtest; its JSON is the contract of
// `shiplens eta backtest --format json`.
type Report struct {
	Shipments   int                `json:"shipments"`
	Predictions int                `json:"predictions"`
	Seconds     float64            `json:"seconds"`
	Model       Figures            `json:"model"`
	Promised    PromisedFigures    `json:"promised"`
	Oracle      *Figures           `json:"oracle,omitempty"`
	ByMilestone []MilestoneFigures `json:"by_milestone"`
	ByRemaining []RemainingFigures `json:"by_remaining"`
	// Events counts the events read, Duplicates those dropped as repeats
	// of an event id, Deliveries the shipments delivered (all learned from).
	Events     int `json:"events"`
	Duplicates int `json:"duplicates"`
	Deliveries int `json:"deliveries"`
	// ModelVersions is how many versions the model went through: one per
	// UTC day of event time, as in the processor.
	ModelVersions int `json:"model_versions"`
}

// remainingBands are the bands of by_remaining, in days.
var remainingBands = []struct {
	name   string
	lo, hi float64
}{{"0-1", 0, 1}, {"1-2", 1, 2}, {"2-4", 2, 4}, {"4-7", 4, 7}, {"7-14", 7, 14}, {"14+", 14, math.Inf(1)}}

const day = 86400

// Backtest replays events in occurred_at order, whatever order they come
// in, and after each event of an undelivered shipment predicts its delivery
// from the past only, with the model the processor uses: the model learns,
// at every UTC day boundary of event time, the deliveries before it (the
// processor's model versions). Each prediction is scored when its shipment
// is delivered. Duplicate event ids count once. It returns the report and
// every scored prediction, in the order they were made.
func Backtest(events []schemas.Event, o BacktestOptions) (*Report, []Scored) {
	order := make([]int, len(events))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ea, eb := &events[a], &events[b]
		return cmp.Or(ea.OccurredAt.Compare(eb.OccurredAt), cmp.Compare(ea.Status, eb.Status), strings.Compare(ea.EventID, eb.EventID))
	})
	type track struct {
		s      analytics.Shipment
		visits []Visit
		preds  []int // indexes into made
	}
	type made struct {
		tn      string
		pr      Prediction
		promise uint32
		event   int
	}
	var (
		m        = New(o.Model)
		pd       = m.NewPredictor()
		seen     = make(map[string]struct{}, len(events))
		tracks   = map[string]*track{}
		preds    []made
		pending  []Delivery
		visited  = map[VisitCount]float64{}
		scored   []Scored
		report   = &Report{Events: len(events)}
		version  uint32
		versions int
	)
	for n, i := range order {
		e := &events[i]
		if o.Progress != nil && n&4095 == 0 {
			o.Progress(n, len(order))
		}
		if _, dup := seen[e.EventID]; dup {
			report.Duplicates++
			continue
		}
		seen[e.EventID] = struct{}{}
		t := uint32(max(e.OccurredAt.Unix(), 1))
		if v := t - t%day; v > version {
			if version != 0 {
				vs := make([]VisitCount, 0, len(visited))
				for k, n := range visited {
					k.N = n
					vs = append(vs, k)
				}
				clear(visited)
				m.Learn(pending, vs, v)
				versions++
				pending = pending[:0]
			}
			version = v
		}
		tr := tracks[e.TrackingNumber]
		if tr == nil {
			tr = &track{}
			tracks[e.TrackingNumber] = tr
		}
		if tr.s.Delivered() {
			tr.s.Apply(e)
			continue
		}
		if !tr.s.Apply(e) {
			continue
		}
		if tr.s.Delivered() {
			d := tr.s.DeliveredAt
			pending = append(pending, Delivery{
				TrackingNumber: e.TrackingNumber, Carrier: tr.s.Carrier(), Service: tr.s.Service(), Lane: tr.s.Lane(),
				Start: tr.s.Start(), DeliveredAt: d, Visits: tr.visits,
			})
			report.Deliveries++
			for _, k := range tr.preds {
				p := &preds[k]
				scored = append(scored, Scored{TrackingNumber: p.tn, Prediction: p.pr, DeliveredAt: d, PromisedAt: p.promise, EventID: events[p.event].EventID})
			}
			tr.preds, tr.visits = nil, nil
			continue
		}
		pr := pd.Predict(&tr.s, t)
		var promise uint32
		if tr.s.HasPromise() {
			promise = tr.s.PromisedAt
		}
		tr.preds = append(tr.preds, len(preds))
		tr.visits = append(tr.visits, Visit{At: pr.AsOf, Milestone: pr.Milestone})
		carrier, service, lane := tr.s.Group().Strings()
		visited[VisitCount{Carrier: carrier, Service: service, Lane: lane, Milestone: pr.Milestone, Day: pr.AsOf - pr.AsOf%day}]++
		preds = append(preds, made{tn: e.TrackingNumber, pr: pr, promise: promise, event: i})
	}
	if o.Progress != nil {
		o.Progress(len(order), len(order))
	}
	report.ModelVersions = versions
	if o.Oracle != nil {
		askOracle(scored, o.Oracle, max(o.Workers, 1))
	}
	report.fill(scored, o.Oracle != nil)
	return report, scored
}

func askOracle(scored []Scored, f OracleFunc, workers int) {
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := w; i < len(scored); i += workers {
				s := &scored[i]
				if p10, p50, p90, ok := f(s.EventID); ok {
					s.Oracle = [3]int64{p10, p50, p90}
				}
			}
		}()
	}
	for range workers {
		<-done
	}
}

// fill computes the figures of r from the scored predictions.
func (r *Report) fill(scored []Scored, oracle bool) {
	shipments := map[string]struct{}{}
	for i := range scored {
		shipments[scored[i].TrackingNumber] = struct{}{}
	}
	r.Shipments, r.Predictions = len(shipments), len(scored)
	r.Model = modelFigures(scored, func(*Scored) bool { return true }, modelGuess)
	r.Promised = promisedFigures(scored, func(*Scored) bool { return true })
	if oracle {
		f := modelFigures(scored, func(s *Scored) bool { return s.Oracle[1] != 0 }, oracleGuess)
		r.Oracle = &f
	}
	var ms []Milestone
	for i := range scored {
		if !slices.Contains(ms, scored[i].Milestone) {
			ms = append(ms, scored[i].Milestone)
		}
	}
	slices.Sort(ms)
	for _, m := range ms {
		in := func(s *Scored) bool { return s.Milestone == m }
		n := 0
		for i := range scored {
			if in(&scored[i]) {
				n++
			}
		}
		mf := MilestoneFigures{Milestone: m.String(), Predictions: n, Model: modelFigures(scored, in, modelGuess), Promised: promisedFigures(scored, in)}
		if oracle {
			f := modelFigures(scored, func(s *Scored) bool { return in(s) && s.Oracle[1] != 0 }, oracleGuess)
			mf.Oracle = &f
		}
		r.ByMilestone = append(r.ByMilestone, mf)
	}
	for _, b := range remainingBands {
		in := func(s *Scored) bool {
			d := (float64(s.DeliveredAt) - float64(s.AsOf)) / day
			return d >= b.lo && d < b.hi
		}
		n := 0
		for i := range scored {
			if in(&scored[i]) {
				n++
			}
		}
		rf := RemainingFigures{RemainingDays: b.name, Predictions: n, Model: modelFigures(scored, in, modelGuess)}
		if oracle {
			f := modelFigures(scored, func(s *Scored) bool { return in(s) && s.Oracle[1] != 0 }, oracleGuess)
			rf.Oracle = &f
		}
		r.ByRemaining = append(r.ByRemaining, rf)
	}
}

func modelGuess(s *Scored) (p10, p50, p90 float64) {
	return float64(s.P10), float64(s.P50), float64(s.P90)
}

func oracleGuess(s *Scored) (p10, p50, p90 float64) {
	return float64(s.Oracle[0]), float64(s.Oracle[1]), float64(s.Oracle[2])
}

func sameDay(a, b float64) bool { return math.Floor(a/day) == math.Floor(b/day) }

func modelFigures(scored []Scored, in func(*Scored) bool, guess func(*Scored) (p10, p50, p90 float64)) Figures {
	var f Figures
	var errs []float64
	var sum, bias, within, same, covered, width float64
	for i := range scored {
		s := &scored[i]
		if !in(s) {
			continue
		}
		p10, p50, p90 := guess(s)
		d := float64(s.DeliveredAt)
		e := (p50 - d) / 3600
		errs = append(errs, math.Abs(e))
		sum += math.Abs(e)
		bias += e
		if math.Abs(e) <= 24 {
			within++
		}
		if sameDay(p50, d) {
			same++
		}
		if p10 <= d && d <= p90 {
			covered++
		}
		width += (p90 - p10) / 3600
	}
	n := float64(len(errs))
	if n == 0 {
		return f
	}
	slices.Sort(errs)
	f.MAEHours = sum / n
	f.MedianAbsErrorHours = nearestRank(errs, 0.5)
	f.P90AbsErrorHours = nearestRank(errs, 0.9)
	f.BiasHours = bias / n
	f.Within24h = within / n
	f.SameDay = same / n
	f.Coverage = covered / n
	f.MeanIntervalHours = width / n
	return f
}

func promisedFigures(scored []Scored, in func(*Scored) bool) PromisedFigures {
	var f PromisedFigures
	var sum, within, same float64
	for i := range scored {
		s := &scored[i]
		if !in(s) || s.PromisedAt == 0 {
			continue
		}
		p, d := float64(s.PromisedAt), float64(s.DeliveredAt)
		e := math.Abs(p-d) / 3600
		sum += e
		if e <= 24 {
			within++
		}
		if sameDay(p, d) {
			same++
		}
		f.Predictions++
	}
	if n := float64(f.Predictions); n > 0 {
		f.MAEHours, f.Within24h, f.SameDay = sum/n, within/n, same/n
	}
	return f
}

// nearestRank returns the q-quantile of sorted xs by the nearest-rank rule.
func nearestRank(xs []float64, q float64) float64 {
	k := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[min(max(k, 0), len(xs)-1)]
}
