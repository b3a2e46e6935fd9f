package macro

import (
	"strings"
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	env := Env{
		From:     time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC),     // 1788220800
		To:       time.Date(2026, 9, 30, 23, 59, 59, 0, time.UTC), // 1790812799
		Interval: 90 * time.Minute,
		Vars: map[string]Var{
			"carrier": {All: true, Options: []string{"dhl", "o'neil"}},
			"lane":    {Selected: []string{"CN-US", "CN-DE"}, Options: []string{"CN-US", "CN-DE", "CN-FR"}},
			"service": {Selected: nil},
			"table":   {Selected: []string{"carrier_days"}},
		},
	}
	f := func(in, want string) {
		t.Helper()
		got, err := Expand(in, env)
		if err != nil {
			t.Fatalf("Expand(%q): %v", in, err)
		}
		if got != want {
			t.Fatalf("Expand(%q)\n got %q\nwant %q", in, got, want)
		}
	}
	f("WHERE $__timeFilter(at)", "WHERE at >= toDateTime(1788220800) AND at <= toDateTime(1790812799)")
	f("WHERE $__dateFilter(day)", "WHERE day >= toDate('2026-09-01') AND day <= toDate('2026-09-30')")
	f("$__fromTime, $__toTime", "toDateTime(1788220800), toDateTime(1790812799)")
	f("intDiv(toUInt32(at), $__interval_s) * $__interval_s", "intDiv(toUInt32(at), 5400) * 5400")
	// All: the condition goes; the list stands for every option.
	f("$__conditionalAll(carrier IN (${carrier:singlequote}), $carrier)", "1=1")
	f("carrier IN (${carrier:singlequote})", `carrier IN ('dhl','o\'neil')`)
	// Two values: the condition stays, with the values quoted.
	f("$__conditionalAll(lane IN (${lane:singlequote}), $lane)", "lane IN ('CN-US','CN-DE')")
	f("$__conditionalAll(lane IN (${lane:singlequote}), ${lane})", "lane IN ('CN-US','CN-DE')")
	// Nothing selected counts as All.
	f("$__conditionalAll(service IN (${service:singlequote}), $service)", "1=1")
	f("$__conditionalAll(0, $carrier) AND $__conditionalAll(0, $lane)", "1=1 AND 0")
	// A condition with its own parentheses, commas and strings.
	f("$__conditionalAll(splitByChar('-', lane)[2] IN ('US', ')'), $lane)", "splitByChar('-', lane)[2] IN ('US', ')')")
	f("FROM ${table} JOIN $table", "FROM carrier_days JOIN carrier_days")
	f("SELECT 1", "SELECT 1")
}

func TestExpandRefuses(t *testing.T) {
	env := Env{
		From: time.Unix(1788220800, 0), To: time.Unix(1790812799, 0),
		Vars: map[string]Var{
			"carrier": {All: true, Options: []string{"dhl"}},
			"lane":    {Selected: []string{"CN-US", "CN-DE"}},
		},
	}
	f := func(in, want string) {
		t.Helper()
		_, err := Expand(in, env)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Expand(%q) = %v, want an error with %q", in, err, want)
		}
	}
	f("$__timeInterval(at)", "18.16")
	f("$__timeFilter_ms(at)", "unknown macro")
	f("$__fromTime_ms", "unknown macro")
	f("$nope", "unknown variable")
	f("$carrier", "exactly one value")
	f("$lane", "exactly one value")
	f("${lane:csv}", "format")
	f("$__conditionalAll(a, b, $lane)", "2 arguments")
	f("$__conditionalAll(a, lane)", "not a variable")
	f("$__conditionalAll(a, $nope)", "unknown variable")
	f("$__conditionalAll(a, $lane", "closing parenthesis")
	f("$__timeFilter()", "one column")
	f("$__dateFilter(a, b)", "one column")
	f("cost in $", "unexpanded")
}

func TestIntervalAtLeastOneSecond(t *testing.T) {
	got, err := Expand("$__interval_s", Env{From: time.Unix(0, 0), To: time.Unix(10, 0), Interval: 20 * time.Millisecond})
	if err != nil || got != "1" {
		t.Fatalf("got %q, %v; want 1", got, err)
	}
}

func TestNames(t *testing.T) {
	got := Names("$__conditionalAll(a IN (${lane:singlequote}), $lane) AND ${carrier} AND $__timeFilter(x) AND $merchant")
	if strings.Join(got, ",") != "carrier,lane,merchant" {
		t.Fatalf("Names = %v", got)
	}
}
