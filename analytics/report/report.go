package report

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/shiplens/shiplens/analytics"
)

// Report is what the document shows: the scorecard of a range of delivery
// days, as `shiplens report carriers` reads it, and optionally its series.
type Report struct {
	Title    string    // the heading; empty: the translated "Carrier scorecard"
	From, To time.Time // the inclusive UTC delivery days of the figures; zero: not shown
	// Carrier, Lane, Service and Merchant are the filters the figures were
	// selected with; empty: all.
	Carrier, Lane, Service, Merchant string
	Generated                        time.Time // when the figures were read; zero: not shown

	// Rows has one row per carrier and lane, as analytics.Scorecard.Rows
	// returns them: the tables and the totals.
	Rows []analytics.ScoreRow
	// Carriers has one row per carrier with the lanes rolled up
	// (Scorecard.RollUp), for the charts and the carrier totals; Lane is
	// ignored. When nil, the counts of Rows are added up per carrier and
	// the quantiles of a carrier with more than one lane are left out, as
	// they cannot be merged from rows.
	Carriers []analytics.ScoreRow
	// DeliveredPerDay and OnTimePerWeek are the series of the line charts;
	// nil leaves a chart out.
	DeliveredPerDay []Day
	OnTimePerWeek   []Week
}

// Day is the number of shipments delivered on one UTC day, a value of
// store.DeliveredPerDay. Day and Week repeat the store's types because
// analytics sits below store and must not import it.
type Day struct {
	Day       time.Time `json:"day"`
	Delivered int64     `json:"delivered"`
}

// Week is the on-time figures of the deliveries of one week, from its
// Monday (a value of store.OnTimePerWeek): of those with a promise, how
// many were on time.
type Week struct {
	Week        time.Time `json:"week"`
	WithPromise int64     `json:"with_promise"`
	OnTime      int64     `json:"on_time"`
	Rate        float64   `json:"on_time_rate"`
}

// ErrLanguage is returned for a language HTML has no texts in.
var ErrLanguage = errors.New("unsupported language")

// Supported reports whether HTML renders in lang.
func Supported(lang string) bool { return texts[lang] != nil }

//go:embed report.html
var page string

var tmpl = template.Must(template.New("report").Parse(page))

// HTML writes r as a self-contained HTML document in lang, one of
// schemas.Languages. It writes nothing when it fails.
func HTML(w io.Writer, r Report, lang string) error {
	t := texts[lang]
	if t == nil {
		return fmt.Errorf("cannot render report in %q: %w (want one of en, zh, es, fr, de)", lang, ErrLanguage)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, build(r, lang, t)); err != nil {
		return fmt.Errorf("cannot render report: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("cannot write report: %w", err)
	}
	return nil
}

// data is the machine-readable copy of the figures embedded in the page.
type data struct {
	Lang            string               `json:"lang"`
	Title           string               `json:"title"`
	From            string               `json:"from,omitempty"`
	To              string               `json:"to,omitempty"`
	Filters         map[string]string    `json:"filters,omitempty"`
	Rows            []analytics.ScoreRow `json:"rows"`
	Carriers        []analytics.ScoreRow `json:"carriers"`
	Total           total                `json:"total"`
	DeliveredPerDay []Day                `json:"delivered_per_day"`
	OnTimePerWeek   []Week               `json:"on_time_per_week"`
}

// total adds up the counts of every row.
type total struct {
	Delivered   int64    `json:"delivered"`
	WithPromise int64    `json:"with_promise"`
	OnTime      int64    `json:"on_time"`
	OnTimeRate  *float64 `json:"on_time_rate"`
	Exceptions  int64    `json:"exceptions"`
	Carriers    int      `json:"carriers"`
}

// view is what the template executes against.
type view struct {
	Lang                     string
	T                        *Texts
	Title, From, To          string
	Filters                  []filter
	Generated, Generated8601 string
	Totals                   []cell
	Empty                    bool
	OnTimeChart              *barChart
	TransitChart             *barChart
	DeliveredChart           *lineChart
	WeekChart                *lineChart
	Carriers                 []carrierTable
	Columns                  []string
	Data                     data
}

type filter struct{ Name, Value string }

// cell is one figure: its text and the attributes that name it.
type cell struct {
	Label, Text   string
	Scope, Field  string
	Carrier, Lane string
	Value         string // exact figure; empty for none
}

type carrierTable struct {
	Name  string
	Lanes [][]cell // the first cell of each is the lane
	Total []cell   // nil for a carrier with one lane
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func build(r Report, lang string, t *Texts) view {
	v := view{Lang: lang, T: t, Title: r.Title}
	if v.Title == "" {
		v.Title = t.Title
	}
	if !r.From.IsZero() {
		v.From = day(r.From)
	}
	if !r.To.IsZero() {
		v.To = day(r.To)
	}
	if !r.Generated.IsZero() {
		g := r.Generated.UTC()
		v.Generated, v.Generated8601 = g.Format("2006-01-02 15:04")+" UTC", g.Format(time.RFC3339)
	}
	filters := map[string]string{}
	for _, f := range []struct{ key, name, value string }{
		{"carrier", t.Carrier, r.Carrier}, {"lane", t.Lane, r.Lane}, {"service", t.Service, r.Service}, {"merchant", t.Merchant, r.Merchant},
	} {
		if f.value != "" {
			v.Filters = append(v.Filters, filter{f.name, f.value})
			filters[f.key] = f.value
		}
	}

	rows := append([]analytics.ScoreRow{}, r.Rows...)
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Carrier != rows[j].Carrier {
			return rows[i].Carrier < rows[j].Carrier
		}
		return rows[i].Lane < rows[j].Lane
	})
	carriers := carrierRows(rows, r.Carriers)
	tot := total{Carriers: len(carriers)}
	for _, row := range rows {
		tot.Delivered += row.Delivered
		tot.WithPromise += row.WithPromise
		tot.OnTime += row.OnTime
		tot.Exceptions += row.Exceptions
	}
	if tot.WithPromise > 0 {
		rt := float64(tot.OnTime) / float64(tot.WithPromise)
		tot.OnTimeRate = &rt
	}
	v.Empty = len(rows) == 0
	v.Totals = []cell{
		countCell(lang, t.Delivered, "total", "delivered", "", "", tot.Delivered),
		rateCell(lang, t.OnTimeRate, "total", "on_time_rate", "", "", tot.OnTimeRate, t.NoData),
		countCell(lang, t.Exceptions, "total", "exceptions", "", "", tot.Exceptions),
		countCell(lang, t.Carriers, "total", "carriers", "", "", int64(tot.Carriers)),
	}
	v.Columns = []string{t.Lane, t.Delivered, t.WithPromise, t.OnTime, t.OnTimeRate, t.TransitP50, t.TransitP90, t.CustomsP50, t.CustomsP90, t.Exceptions}

	byCarrier := map[string]analytics.ScoreRow{}
	for _, c := range carriers {
		byCarrier[c.Carrier] = c
	}
	for _, row := range rows {
		if n := len(v.Carriers); n == 0 || v.Carriers[n-1].Name != row.Carrier {
			v.Carriers = append(v.Carriers, carrierTable{Name: row.Carrier})
		}
		ct := &v.Carriers[len(v.Carriers)-1]
		ct.Lanes = append(ct.Lanes, rowCells(lang, t, "lane", row, row.Lane))
	}
	for i := range v.Carriers {
		if ct := &v.Carriers[i]; len(ct.Lanes) > 1 {
			ct.Total = rowCells(lang, t, "carrier", byCarrier[ct.Name], t.AllLanes)
		}
	}
	if !v.Empty {
		v.OnTimeChart = onTimeChart(lang, t, carriers)
		v.TransitChart = transitChart(lang, t, carriers)
	}
	if r.DeliveredPerDay != nil {
		v.DeliveredChart = deliveredChart(lang, r.DeliveredPerDay)
		v.DeliveredChart.NoData = t.NoData
	}
	if r.OnTimePerWeek != nil {
		v.WeekChart = weekChart(lang, r.OnTimePerWeek)
		v.WeekChart.NoData = t.NoData
	}
	v.Data = data{
		Lang: lang, Title: v.Title, From: v.From, To: v.To, Total: tot,
		Rows: rows, Carriers: carriers,
		DeliveredPerDay: append([]Day{}, r.DeliveredPerDay...), OnTimePerWeek: append([]Week{}, r.OnTimePerWeek...),
	}
	if len(filters) > 0 {
		v.Data.Filters = filters
	}
	return v
}

// carrierRows returns one row per carrier of rows, in rows' order: the row
// of given for it if there is one, else its counts added up.
func carrierRows(rows, given []analytics.ScoreRow) []analytics.ScoreRow {
	known := map[string]analytics.ScoreRow{}
	for _, g := range given {
		g.Lane = ""
		known[g.Carrier] = g
	}
	var out []analytics.ScoreRow
	lanes := map[string]int{}
	for _, row := range rows {
		lanes[row.Carrier]++
	}
	for _, row := range rows {
		if n := len(out); n > 0 && out[n-1].Carrier == row.Carrier {
			if _, ok := known[row.Carrier]; !ok {
				c := &out[n-1]
				c.Delivered += row.Delivered
				c.WithPromise += row.WithPromise
				c.OnTime += row.OnTime
				c.Exceptions += row.Exceptions
				c.OnTimeRate = nil
				if c.WithPromise > 0 {
					rt := float64(c.OnTime) / float64(c.WithPromise)
					c.OnTimeRate = &rt
				}
			}
			continue
		}
		if g, ok := known[row.Carrier]; ok {
			out = append(out, g)
			continue
		}
		c := row // one lane so far: its quantiles are the carrier's while it stays one
		c.Lane = ""
		if lanes[row.Carrier] > 1 {
			c.TransitHoursP50, c.TransitHoursP90, c.CustomsDwellHoursP50, c.CustomsDwellHoursP90 = nil, nil, nil, nil
		}
		out = append(out, c)
	}
	return out
}

// exact writes a figure so that parsing it gives the same float64.
func exact(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func countCell(lang, label, scope, field, carrier, lane string, n int64) cell {
	return cell{Label: label, Text: count(lang, n), Scope: scope, Field: field, Carrier: carrier, Lane: lane, Value: strconv.FormatInt(n, 10)}
}

func rateCell(lang, label, scope, field, carrier, lane string, f *float64, none string) cell {
	c := cell{Label: label, Text: none, Scope: scope, Field: field, Carrier: carrier, Lane: lane}
	if f != nil {
		c.Text, c.Value = percent(lang, *f), exact(*f)
	}
	return c
}

func hoursCell(lang, label, scope, field, carrier, lane string, f *float64, none string) cell {
	c := cell{Label: label, Text: none, Scope: scope, Field: field, Carrier: carrier, Lane: lane}
	if f != nil {
		c.Text, c.Value = number(lang, *f, 1), exact(*f)
	}
	return c
}

// rowCells returns the cells of a table row: first the name (the lane, or
// "all lanes"), then the figures in the order of view.Columns.
func rowCells(lang string, t *Texts, scope string, r analytics.ScoreRow, name string) []cell {
	lane := ""
	if scope == "lane" {
		lane = r.Lane
	}
	c, l := r.Carrier, lane
	return []cell{
		{Label: t.Lane, Text: name},
		countCell(lang, t.Delivered, scope, "delivered", c, l, r.Delivered),
		countCell(lang, t.WithPromise, scope, "with_promise", c, l, r.WithPromise),
		countCell(lang, t.OnTime, scope, "on_time", c, l, r.OnTime),
		rateCell(lang, t.OnTimeRate, scope, "on_time_rate", c, l, r.OnTimeRate, t.NoData),
		hoursCell(lang, t.TransitP50, scope, "transit_hours_p50", c, l, r.TransitHoursP50, t.NoData),
		hoursCell(lang, t.TransitP90, scope, "transit_hours_p90", c, l, r.TransitHoursP90, t.NoData),
		hoursCell(lang, t.CustomsP50, scope, "customs_dwell_hours_p50", c, l, r.CustomsDwellHoursP50, t.NoData),
		hoursCell(lang, t.CustomsP90, scope, "customs_dwell_hours_p90", c, l, r.CustomsDwellHoursP90, t.NoData),
		countCell(lang, t.Exceptions, scope, "exceptions", c, l, r.Exceptions),
	}
}
