package report_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/report"
)

// This file holds what the package tests and the browser test share: a
// sample report and a check that compares the figures a page shows with
// the report's JSON. The expected figures come from encoding/json over the
// Report given, not from the package.

func ptr(f float64) *float64 { return &f }

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// sample is a scorecard of three carriers: one with two lanes, one with
// digits in its name, one with neither promises nor customs; counts that
// need grouping and quantiles that round at a tie.
func sample() report.Report {
	return report.Report{
		From: day("2026-10-01"), To: day("2026-10-31"), Service: "express",
		Generated: time.Date(2026, 11, 2, 8, 30, 0, 0, time.UTC),
		Rows: []analytics.ScoreRow{
			{Carrier: "4px", Lane: "CN-GB", Delivered: 812, WithPromise: 800, OnTime: 611, OnTimeRate: ptr(611.0 / 800),
				TransitHoursP50: ptr(160.75), TransitHoursP90: ptr(290.5), CustomsDwellHoursP50: ptr(20.25), CustomsDwellHoursP90: ptr(61), Exceptions: 37},
			{Carrier: "dhl", Lane: "CN-DE", Delivered: 23456, WithPromise: 23000, OnTime: 21977, OnTimeRate: ptr(21977.0 / 23000),
				TransitHoursP50: ptr(101.25), TransitHoursP90: ptr(150.125), CustomsDwellHoursP50: ptr(6.5), CustomsDwellHoursP90: ptr(30.05), Exceptions: 210},
			{Carrier: "dhl", Lane: "CN-US", Delivered: 1234567, WithPromise: 1200000, OnTime: 1099999, OnTimeRate: ptr(1099999.0 / 1200000),
				TransitHoursP50: ptr(96.4), TransitHoursP90: ptr(170.96), CustomsDwellHoursP50: ptr(8), CustomsDwellHoursP90: ptr(40.1), Exceptions: 12345},
			{Carrier: "yanwen", Lane: "CN-FR", Delivered: 3, Exceptions: 1, TransitHoursP50: ptr(400), TransitHoursP90: ptr(455.5)},
		},
		Carriers: []analytics.ScoreRow{
			{Carrier: "4px", Delivered: 812, WithPromise: 800, OnTime: 611, OnTimeRate: ptr(611.0 / 800),
				TransitHoursP50: ptr(160.75), TransitHoursP90: ptr(290.5), CustomsDwellHoursP50: ptr(20.25), CustomsDwellHoursP90: ptr(61), Exceptions: 37},
			{Carrier: "dhl", Delivered: 1258023, WithPromise: 1223000, OnTime: 1121976, OnTimeRate: ptr(1121976.0 / 1223000),
				TransitHoursP50: ptr(96.5), TransitHoursP90: ptr(170.5), CustomsDwellHoursP50: ptr(7.75), CustomsDwellHoursP90: ptr(39.5), Exceptions: 12555},
			{Carrier: "yanwen", Delivered: 3, Exceptions: 1, TransitHoursP50: ptr(400), TransitHoursP90: ptr(455.5)},
		},
		DeliveredPerDay: []report.Day{{Day: day("2026-10-02"), Delivered: 1200}, {Day: day("2026-10-03"), Delivered: 40310}, {Day: day("2026-10-09"), Delivered: 7}},
		OnTimePerWeek:   []report.Week{{Week: day("2026-09-28"), WithPromise: 100, OnTime: 81, Rate: 0.81}, {Week: day("2026-10-05"), WithPromise: 200, OnTime: 187, Rate: 0.935}},
	}
}

// figure is one element of a page that names a figure (data-field).
type figure struct {
	Scope, Field, Carrier, Lane, Day, Week string
	Value                                  *string // data-value; nil when the element shows "no data"
	Text                                   string  // what the page shows
}

func (f figure) String() string {
	v := "null"
	if f.Value != nil {
		v = *f.Value
	}
	return fmt.Sprintf("%s %s carrier=%q lane=%q day=%s week=%s value=%s text=%q", f.Scope, f.Field, f.Carrier, f.Lane, f.Day, f.Week, v, f.Text)
}

// scoreFields are the figures of a scorecard row, by JSON key.
var scoreFields = []string{"delivered", "with_promise", "on_time", "on_time_rate", "transit_hours_p50", "transit_hours_p90",
	"customs_dwell_hours_p50", "customs_dwell_hours_p90", "exceptions"}

// asJSON returns a row as encoding/json writes it, decoded into a map.
func asJSON(t testing.TB, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// shown reads a number as the page writes it in lang; percent tells whether
// it had a % sign.
func shown(lang, text string) (v float64, percent bool, err error) {
	seps := map[string][2]string{ // decimal, grouping
		"en": {".", ","}, "zh": {".", ","}, "es": {",", "."}, "fr": {",", "\u202f"}, "de": {",", "."},
	}[lang]
	decimal, group := seps[0], seps[1]
	s := strings.TrimSpace(text)
	if i := strings.LastIndex(s, ": "); i >= 0 { // a dot's title: "2026-10-02: 1,200"
		s = s[i+2:]
	}
	if strings.HasSuffix(s, "%") {
		percent = true
		s = strings.TrimRight(strings.TrimSuffix(s, "%"), "\u00a0\u202f ")
	}
	s = strings.ReplaceAll(s, group, "")
	s = strings.ReplaceAll(s, decimal, ".")
	v, err = strconv.ParseFloat(s, 64)
	return v, percent, err
}

// checkFigures compares the figures of a page in lang with r: every
// data-value must equal the figure of the report's JSON it names, every
// element without one must name a null, its text must show the figure
// rounded, and every figure of r must be on the page.
func checkFigures(t *testing.T, lang string, r report.Report, figs []figure) {
	t.Helper()
	lanes := map[[2]string]map[string]any{}
	for _, row := range r.Rows {
		lanes[[2]string{row.Carrier, row.Lane}] = asJSON(t, row)
	}
	carriers := map[string]map[string]any{}
	lanesOf := map[string]int{}
	for _, row := range r.Rows {
		lanesOf[row.Carrier]++
	}
	for _, c := range r.Carriers {
		carriers[c.Carrier] = asJSON(t, c)
	}
	var tot struct{ delivered, withPromise, onTime, exceptions float64 }
	for _, row := range r.Rows {
		tot.delivered += float64(row.Delivered)
		tot.withPromise += float64(row.WithPromise)
		tot.onTime += float64(row.OnTime)
		tot.exceptions += float64(row.Exceptions)
	}
	totals := map[string]any{"delivered": tot.delivered, "exceptions": tot.exceptions, "carriers": float64(len(lanesOf)), "on_time_rate": nil}
	if tot.withPromise > 0 {
		totals["on_time_rate"] = tot.onTime / tot.withPromise
	}
	days := map[string]any{}
	for _, d := range r.DeliveredPerDay {
		days[d.Day.Format(time.DateOnly)] = asJSON(t, d)["delivered"]
	}
	weeks := map[string]any{}
	for _, w := range r.OnTimePerWeek {
		weeks[w.Week.Format(time.DateOnly)] = asJSON(t, w)["on_time_rate"]
	}

	seen := map[string]int{}
	for _, f := range figs {
		var want any
		var ok bool
		switch f.Scope {
		case "lane":
			var row map[string]any
			if row, ok = lanes[[2]string{f.Carrier, f.Lane}]; ok {
				want, ok = row[f.Field]
			}
		case "carrier":
			var row map[string]any
			if row, ok = carriers[f.Carrier]; ok {
				want, ok = row[f.Field]
			}
		case "total":
			want, ok = totals[f.Field]
		case "day":
			want, ok = days[f.Day]
			ok = ok && f.Field == "delivered"
		case "week":
			want, ok = weeks[f.Week]
			ok = ok && f.Field == "on_time_rate"
		}
		if !ok {
			t.Errorf("%s: names no figure of the report", f)
			continue
		}
		seen[key(f.Scope, f.Carrier, f.Lane, f.Day, f.Week, f.Field)]++
		if want == nil {
			if f.Value != nil {
				t.Errorf("%s: the report has null", f)
			}
			continue
		}
		w := want.(float64)
		if f.Value == nil {
			t.Errorf("%s: the report has %v", f, w)
			continue
		}
		got, err := strconv.ParseFloat(*f.Value, 64)
		if err != nil || got != w {
			t.Errorf("%s: the report has %v", f, w)
			continue
		}
		v, isPercent, err := shown(lang, f.Text)
		rate := strings.HasSuffix(f.Field, "rate")
		switch {
		case err != nil:
			t.Errorf("%s: the text is no number in %s: %v", f, lang, err)
		case isPercent != rate:
			t.Errorf("%s: %% sign %v for a rate %v", f, isPercent, rate)
		case rate && math.Abs(v-100*w) > 0.05+1e-9, !rate && math.Abs(v-w) > 0.05+1e-9:
			t.Errorf("%s: shows %v for %v", f, v, w)
		}
	}

	need := func(k string) {
		if seen[k] == 0 {
			t.Errorf("%s is not shown", k)
		}
	}
	for k := range lanes {
		for _, field := range scoreFields {
			need(key("lane", k[0], k[1], "", "", field))
		}
	}
	for c, row := range carriers {
		if lanesOf[c] > 1 {
			for _, field := range scoreFields {
				need(key("carrier", c, "", "", "", field))
			}
		}
		need(key("carrier", c, "", "", "", "on_time_rate")) // the chart says "no data" for none
		for _, field := range []string{"transit_hours_p50", "transit_hours_p90"} {
			if row[field] != nil {
				need(key("carrier", c, "", "", "", field))
			}
		}
	}
	for field := range totals {
		need(key("total", "", "", "", "", field))
	}
	for d := range days {
		need(key("day", "", "", d, "", "delivered"))
	}
	for w := range weeks {
		need(key("week", "", "", "", w, "on_time_rate"))
	}
}

func key(parts ...string) string { return strings.Join(parts, "|") }
