package analytics

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// ScoreRow is one carrier and lane of the carrier scorecard (DESIGN section 7).
// Figures that have no data (no promises, no customs) are nil, encoded null.
type ScoreRow struct {
	Carrier              string   `json:"carrier"`
	Lane                 string   `json:"lane"`
	Delivered            int64    `json:"delivered"`
	WithPromise          int64    `json:"with_promise"`
	OnTime               int64    `json:"on_time"`
	OnTimeRate           *float64 `json:"on_time_rate"`
	TransitHoursP50      *float64 `json:"transit_hours_p50"`
	TransitHoursP90      *float64 `json:"transit_hours_p90"`
	CustomsDwellHoursP50 *float64 `json:"customs_dwell_hours_p50"`
	CustomsDwellHoursP90 *float64 `json:"customs_dwell_hours_p90"`
	Exceptions           int64    `json:"exceptions"`
}

// ScoreKey names a scorecard row.
type ScoreKey struct{ Carrier, Lane string }

// Scorecard accumulates scorecard rows from sketch buckets and counts, as a
// storage query returns them, and computes the quantiles at the end.
type Scorecard struct {
	rows map[ScoreKey]*scoreAcc
}

type scoreAcc struct {
	row              ScoreRow
	transit, customs Sketch
}

func (c *Scorecard) acc(k ScoreKey) *scoreAcc {
	if c.rows == nil {
		c.rows = make(map[ScoreKey]*scoreAcc)
	}
	a := c.rows[k]
	if a == nil {
		a = &scoreAcc{row: ScoreRow{Carrier: k.Carrier, Lane: k.Lane}}
		c.rows[k] = a
	}
	return a
}

// AddDelivered counts n delivered shipments of key k whose transit falls in
// sketch bucket transitBucket and, when customsDone, whose customs dwell falls
// in customsBucket.
func (c *Scorecard) AddDelivered(k ScoreKey, n int64, transitBucket int16, customsDone bool, customsBucket int16, hasPromise, onTime bool) {
	a := c.acc(k)
	a.row.Delivered += n
	a.transit.AddBucket(transitBucket, n)
	if customsDone {
		a.customs.AddBucket(customsBucket, n)
	}
	if hasPromise {
		a.row.WithPromise += n
		if onTime {
			a.row.OnTime += n
		}
	}
}

// AddCounts adds counts of key k: delivered shipments, those of them with a
// promise and delivered on time, and shipments whose first exception is in
// range.
func (c *Scorecard) AddCounts(k ScoreKey, delivered, withPromise, onTime, exceptions int64) {
	a := c.acc(k)
	a.row.Delivered += delivered
	a.row.WithPromise += withPromise
	a.row.OnTime += onTime
	a.row.Exceptions += exceptions
}

// AddTransit counts n delivered shipments of key k whose transit falls in
// sketch bucket b.
func (c *Scorecard) AddTransit(k ScoreKey, b int16, n int64) { c.acc(k).transit.AddBucket(b, n) }

// AddCustoms counts n delivered shipments of key k whose customs dwell falls
// in sketch bucket b.
func (c *Scorecard) AddCustoms(k ScoreKey, b int16, n int64) { c.acc(k).customs.AddBucket(b, n) }

// AddExceptions counts n shipments of key k whose first exception is in range.
func (c *Scorecard) AddExceptions(k ScoreKey, n int64) { c.acc(k).row.Exceptions += n }

// RollUp merges rows whose keys key maps to the same key, e.g. every lane
// of a carrier into one row. Quantiles merge exactly because the sketches do.
func (c *Scorecard) RollUp(key func(ScoreKey) ScoreKey) *Scorecard {
	out := &Scorecard{}
	for k, a := range c.rows {
		dst := out.acc(key(k))
		dst.row.Delivered += a.row.Delivered
		dst.row.WithPromise += a.row.WithPromise
		dst.row.OnTime += a.row.OnTime
		dst.row.Exceptions += a.row.Exceptions
		dst.transit.Merge(&a.transit)
		dst.customs.Merge(&a.customs)
	}
	return out
}

// Rows returns the finished rows sorted by carrier, then lane.
func (c *Scorecard) Rows() []ScoreRow {
	out := make([]ScoreRow, 0, len(c.rows))
	for _, a := range c.rows {
		r := a.row
		if r.WithPromise > 0 {
			r.OnTimeRate = ptr(float64(r.OnTime) / float64(r.WithPromise))
		}
		if a.transit.Count() > 0 {
			r.TransitHoursP50 = ptr(a.transit.Quantile(0.5))
			r.TransitHoursP90 = ptr(a.transit.Quantile(0.9))
		}
		if a.customs.Count() > 0 {
			r.CustomsDwellHoursP50 = ptr(a.customs.Quantile(0.5))
			r.CustomsDwellHoursP90 = ptr(a.customs.Quantile(0.9))
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Carrier != out[j].Carrier {
			return out[i].Carrier < out[j].Carrier
		}
		return out[i].Lane < out[j].Lane
	})
	return out
}

func ptr(f float64) *float64 { return &f }

// WriteTable prints rows as an aligned, human-readable table.
func WriteTable(w io.Writer, rows []ScoreRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "carrier\tlane\tdelivered\ton-time\ttransit p50 h\ttransit p90 h\tcustoms p50 h\tcustoms p90 h\texceptions\t")
	var tot ScoreRow
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t\n", r.Carrier, r.Lane, r.Delivered,
			rate(r.OnTimeRate, r.WithPromise), num(r.TransitHoursP50), num(r.TransitHoursP90),
			num(r.CustomsDwellHoursP50), num(r.CustomsDwellHoursP90), r.Exceptions)
		tot.Delivered += r.Delivered
		tot.WithPromise += r.WithPromise
		tot.OnTime += r.OnTime
		tot.Exceptions += r.Exceptions
	}
	if len(rows) > 1 {
		var rt *float64
		if tot.WithPromise > 0 {
			rt = ptr(float64(tot.OnTime) / float64(tot.WithPromise))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t\t\t\t\t%d\t\n", "all", strings.Repeat("-", 5), tot.Delivered, rate(rt, tot.WithPromise), tot.Exceptions)
	}
	return tw.Flush()
}

func num(f *float64) string {
	if f == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f", *f)
}

func rate(f *float64, n int64) string {
	if f == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f%% of %d", *f*100, n)
}
