package report

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shiplens/shiplens/analytics"
)

// The charts are laid out here in SVG user units; the template only writes
// them out. Each SVG scales to the width of the page (viewBox), so the units
// are those of a desktop layout and the text shrinks with the chart on a
// phone.
const (
	chartWidth  = 460
	labelWidth  = 124 // carrier names, right-aligned
	valueWidth  = 64  // room for the figure after the longest bar
	maxLabelLen = 14  // longer carrier names are cut in the chart, not in the tables
)

type tick struct{ X, Y, Label, Anchor string }

type bar struct {
	X, Y, W, H   string
	Class        string
	TextX, TextY string
	Cell         cell
}

type barGroup struct {
	Name, Short      string
	LabelY           string
	Bars             []bar
	NoDataX, NoDataY string // where "no data" goes when Bars is empty
	None             cell   // the figure "no data" stands for
}

type legend struct{ Class, Label string }

// barChart is a horizontal bar chart with one group of bars per carrier.
type barChart struct {
	Width, Height      int
	Top, Bottom, TickY string
	LabelX             string
	Ticks              []tick
	Groups             []barGroup
	Legend             []legend
	NoData             string
}

// lineChart is a line over time with a dot per figure.
type lineChart struct {
	Width, Height            int
	Left, Right, Top, Bottom string
	TickY                    string
	Points                   string
	Dots                     []dot
	NoData                   string
	YTicks, XTicks           []tick
}

type dot struct {
	X, Y      string
	Title     string
	Day, Week string
	Cell      cell
}

func f1(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func short(name string) string {
	r := []rune(name)
	if len(r) <= maxLabelLen {
		return name
	}
	return string(r[:maxLabelLen-1]) + "…"
}

// niceStep returns a whole step of 1, 2 or 5 times a power of ten that
// splits 0..max into at most n intervals.
func niceStep(max float64, n int) float64 {
	if max <= 0 {
		return 1
	}
	raw := max / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if s := m * mag; s >= raw && s >= 1 {
			return s
		}
	}
	return math.Max(1, 10*mag)
}

// bars lays out a group of perGroup bars per carrier over 0..max, with an
// axis label at each of ticks: figures gives the cells of a carrier's bars
// and values their lengths (nil: no bar), classes their colours.
func bars(carriers []analytics.ScoreRow, perGroup int, max float64, ticks []float64, tickLabel func(float64) string,
	figures func(analytics.ScoreRow) []cell, values func(analytics.ScoreRow) []*float64, classes []string, noData string) *barChart {
	const top, barH, gap = 8.0, 18.0, 4.0
	rowH := float64(perGroup)*barH + float64(perGroup-1)*gap + 14
	x0, x1 := float64(labelWidth), float64(chartWidth-valueWidth)
	scale := func(v float64) float64 { return x0 + (x1-x0)*math.Min(v, max)/max }
	c := &barChart{Width: chartWidth, LabelX: strconv.Itoa(labelWidth - 8), Top: f1(top), NoData: noData}
	y := top + 7
	for _, r := range carriers {
		g := barGroup{Name: r.Carrier, Short: short(r.Carrier)}
		g.LabelY = f1(y + (rowH-14)/2 + 5)
		cells, vals := figures(r), values(r)
		by := y
		for i, v := range vals {
			if v == nil {
				continue
			}
			w := scale(*v) - x0
			g.Bars = append(g.Bars, bar{
				X: f1(x0), Y: f1(by), W: f1(math.Max(w, 1)), H: f1(barH), Class: classes[i],
				TextX: f1(x0 + math.Max(w, 1) + 5), TextY: f1(by + barH/2 + 5), Cell: cells[i],
			})
			by += barH + gap
		}
		if len(g.Bars) == 0 {
			g.NoDataX, g.NoDataY, g.None = f1(x0+5), g.LabelY, cells[0]
		}
		c.Groups = append(c.Groups, g)
		y += rowH
	}
	c.Bottom = f1(y - 7)
	c.TickY = f1(y + 8)
	for _, t := range ticks {
		c.Ticks = append(c.Ticks, tick{X: f1(scale(t)), Label: tickLabel(t)})
	}
	c.Height = int(y + 14)
	return c
}

// onTimeChart shows the on-time rate of each carrier, best first.
func onTimeChart(lang string, t *Texts, carriers []analytics.ScoreRow) *barChart {
	cs := append([]analytics.ScoreRow{}, carriers...)
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i].OnTimeRate, cs[j].OnTimeRate
		if (a == nil) != (b == nil) {
			return b == nil
		}
		return a != nil && *a > *b
	})
	return bars(cs, 1, 1, []float64{0, 0.25, 0.5, 0.75, 1}, func(f float64) string { return percentTick(lang, f) },
		func(r analytics.ScoreRow) []cell {
			return []cell{rateCell(lang, t.OnTimeRate, "carrier", "on_time_rate", r.Carrier, "", r.OnTimeRate, t.NoData)}
		},
		func(r analytics.ScoreRow) []*float64 { return []*float64{r.OnTimeRate} },
		[]string{"bar-rate"}, t.NoData)
}

// transitChart shows the median and 90th percentile transit time of each
// carrier, fastest (by p90) first.
func transitChart(lang string, t *Texts, carriers []analytics.ScoreRow) *barChart {
	cs := append([]analytics.ScoreRow{}, carriers...)
	key := func(r analytics.ScoreRow) *float64 {
		if r.TransitHoursP90 != nil {
			return r.TransitHoursP90
		}
		return r.TransitHoursP50
	}
	max := 0.0
	for _, r := range cs {
		for _, v := range []*float64{r.TransitHoursP50, r.TransitHoursP90} {
			if v != nil {
				max = math.Max(max, *v)
			}
		}
	}
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := key(cs[i]), key(cs[j])
		if (a == nil) != (b == nil) {
			return b == nil
		}
		return a != nil && *a < *b
	})
	step := niceStep(max, 4)
	top := math.Max(step, math.Ceil(max/step)*step)
	var ticks []float64
	for v := 0.0; max > 0 && v <= top+step/2; v += step {
		ticks = append(ticks, v)
	}
	c := bars(cs, 2, top, ticks, func(f float64) string { return number(lang, f, 0) },
		func(r analytics.ScoreRow) []cell {
			return []cell{
				hoursCell(lang, t.TransitP50, "carrier", "transit_hours_p50", r.Carrier, "", r.TransitHoursP50, t.NoData),
				hoursCell(lang, t.TransitP90, "carrier", "transit_hours_p90", r.Carrier, "", r.TransitHoursP90, t.NoData),
			}
		},
		func(r analytics.ScoreRow) []*float64 { return []*float64{r.TransitHoursP50, r.TransitHoursP90} },
		[]string{"bar-p50", "bar-p90"}, t.NoData)
	c.Legend = []legend{{Class: "bar-p50", Label: t.LegendP50}, {Class: "bar-p90", Label: t.LegendP90}}
	return c
}

// point is a day of a line chart.
type point struct {
	day   time.Time
	value float64
	dot   bool // a figure of the series, not a day filled in with zero
	cell  cell
	title string
}

// line lays out points, in order of day, over the days from the first to
// the last, with y from 0 to max.
func line(points []point, max float64, yTicks []float64, yLabel func(float64) string) *lineChart {
	const width, height = chartWidth, 210
	left, right, top, bottom := 48.0, float64(width-8), 10.0, float64(height-26)
	c := &lineChart{Width: width, Height: height, Left: f1(left), Right: f1(right), Top: f1(top), Bottom: f1(bottom), TickY: f1(bottom + 18)}
	first, last := points[0].day, points[len(points)-1].day
	span := last.Sub(first).Hours() / 24
	x := func(d time.Time) float64 {
		if span == 0 {
			return (left + right) / 2
		}
		return left + (right-left)*d.Sub(first).Hours()/24/span
	}
	y := func(v float64) float64 { return bottom - (bottom-top)*math.Min(v, max)/max }
	var pts strings.Builder
	for i, p := range points {
		if i > 0 {
			pts.WriteByte(' ')
		}
		pts.WriteString(f1(x(p.day)) + "," + f1(y(p.value)))
		if p.dot {
			d := dot{X: f1(x(p.day)), Y: f1(y(p.value)), Title: p.title, Cell: p.cell}
			if p.cell.Scope == "day" {
				d.Day = day(p.day)
			} else {
				d.Week = day(p.day)
			}
			c.Dots = append(c.Dots, d)
		}
	}
	c.Points = pts.String()
	for _, v := range yTicks {
		c.YTicks = append(c.YTicks, tick{Y: f1(y(v)), Label: yLabel(v)})
	}
	// Dates at the ends and at thirds of the span, each at the nearest
	// point, leaving out those that would overlap.
	const minGap = 96 // a date is about 80 units wide
	var xs []float64
	for i := 0; i < 4; i++ {
		want := first.Add(time.Duration(float64(last.Sub(first)) * float64(i) / 3))
		k := sort.Search(len(points), func(k int) bool { return !points[k].day.Before(want) })
		if k == len(points) || k > 0 && want.Sub(points[k-1].day) < points[k].day.Sub(want) {
			k--
		}
		px := x(points[k].day)
		switch {
		case len(xs) == 0:
		case i == 3 && px-xs[len(xs)-1] < minGap:
			if len(xs) > 1 {
				xs, c.XTicks = xs[:len(xs)-1], c.XTicks[:len(c.XTicks)-1]
			} else {
				continue
			}
		case px-xs[len(xs)-1] < minGap:
			continue
		}
		xs = append(xs, px)
		c.XTicks = append(c.XTicks, tick{X: f1(px), Label: day(points[k].day)})
	}
	for i := range c.XTicks {
		switch {
		case len(c.XTicks) == 1:
			c.XTicks[i].Anchor = "middle"
		case i == 0:
			c.XTicks[i].Anchor = "start"
		case i == len(c.XTicks)-1:
			c.XTicks[i].Anchor = "end"
		default:
			c.XTicks[i].Anchor = "middle"
		}
	}
	return c
}

// deliveredChart shows the deliveries of each day; the days the series
// leaves out had none.
func deliveredChart(lang string, days []Day) *lineChart {
	if len(days) == 0 {
		return &lineChart{}
	}
	ds := append([]Day{}, days...)
	sort.Slice(ds, func(i, j int) bool { return ds[i].Day.Before(ds[j].Day) })
	var pts []point
	max := 0.0
	for i, d := range ds {
		if i > 0 { // fill the days without deliveries
			for z := ds[i-1].Day.AddDate(0, 0, 1); z.Before(d.Day); z = z.AddDate(0, 0, 1) {
				pts = append(pts, point{day: z})
			}
		}
		c := cell{Text: count(lang, d.Delivered), Scope: "day", Field: "delivered", Value: strconv.FormatInt(d.Delivered, 10)}
		pts = append(pts, point{day: d.Day, value: float64(d.Delivered), dot: true, cell: c, title: day(d.Day)})
		max = math.Max(max, float64(d.Delivered))
	}
	step := niceStep(max, 4)
	top := math.Max(step, math.Ceil(max/step)*step)
	var ticks []float64
	for v := 0.0; v <= top+step/2; v += step {
		ticks = append(ticks, v)
	}
	return line(pts, top, ticks, func(f float64) string { return number(lang, f, 0) })
}

// weekChart shows the on-time rate of each week that had promises.
func weekChart(lang string, weeks []Week) *lineChart {
	if len(weeks) == 0 {
		return &lineChart{}
	}
	ws := append([]Week{}, weeks...)
	sort.Slice(ws, func(i, j int) bool { return ws[i].Week.Before(ws[j].Week) })
	var pts []point
	for _, w := range ws {
		c := cell{Text: percent(lang, w.Rate), Scope: "week", Field: "on_time_rate", Value: exact(w.Rate)}
		pts = append(pts, point{day: w.Week, value: w.Rate, dot: true, cell: c, title: day(w.Week)})
	}
	return line(pts, 1, []float64{0, 0.25, 0.5, 0.75, 1}, func(f float64) string { return percentTick(lang, f) })
}
