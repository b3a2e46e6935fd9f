package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/store"
)

const alertsListSynopsis = "alerts list [--open] [--merchant M] [--type T] [--carrier C] [--lane L] [--from DAY] [--to DAY] [--limit N] --clickhouse ADDR --format json|table"

// alertsSynopsis lists the alerts subcommands, for -h.
const alertsSynopsis = alertsListSynopsis + "\n       shiplens " + alertsRulesSynopsis + "\n       shiplens " + alertsEvaluateSynopsis

// runAlerts runs `shiplens alerts SUBCOMMAND`: one case per subcommand.
func runAlerts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage{"want a subcommand: shiplens alerts list ..."}
	}
	switch args[0] {
	case "list":
		return runAlertsList(ctx, args[1:], stdout, stderr)
	case "rules":
		return runAlertsRules(args[1:], stdout, stderr)
	case "evaluate":
		return runAlertsEvaluate(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, "Usage: shiplens "+alertsSynopsis)
		return errHelp
	}
	return errUsage{fmt.Sprintf("unknown subcommand %q: want shiplens alerts list ...", args[0])}
}

// defaultAlertsLimit is --limit's default: a screenful or two.
const defaultAlertsLimit = 100

func runAlertsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("alerts list", alertsListSynopsis, stderr)
	addr := clickhouseFlag(f)
	open := f.Bool("open", false, "only the alerts still open")
	merchant := f.String("merchant", "", "only this merchant")
	typ := f.String("type", "", "only this alert type: "+typeList())
	carrier := f.String("carrier", "", "only this carrier code")
	lane := f.String("lane", "", "only this lane, e.g. CN-US")
	from := f.String("from", "", "only the alerts opened on or after this `DAY`, YYYY-MM-DD (UTC)")
	to := f.String("to", "", "only the alerts opened on or before this `DAY`, YYYY-MM-DD (UTC, inclusive)")
	limit := f.Int("limit", defaultAlertsLimit, "at most `N` alerts, the newest opened; 0 for all")
	format := f.String("format", "table", "json (one alert per line) or table")
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	q := store.AlertQuery{Open: *open, Merchant: *merchant, Type: alerts.Type(*typ), Carrier: *carrier, Lane: *lane, Limit: *limit}
	if *typ != "" && !slices.Contains(alerts.Types, q.Type) {
		return errUsage{fmt.Sprintf("unknown --type %q: want one of %s", *typ, typeList())}
	}
	var err error
	if *from != "" {
		if q.From, err = time.Parse(time.DateOnly, *from); err != nil {
			return errUsage{fmt.Sprintf("invalid --from %q: want YYYY-MM-DD", *from)}
		}
	}
	if *to != "" {
		if q.To, err = time.Parse(time.DateOnly, *to); err != nil {
			return errUsage{fmt.Sprintf("invalid --to %q: want YYYY-MM-DD", *to)}
		}
		q.To = q.To.AddDate(0, 0, 1) // the store's To is exclusive
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return errUsage{fmt.Sprintf("--to %s is before --from %s", *to, *from)}
	}
	if *limit < 0 {
		return errUsage{fmt.Sprintf("invalid --limit %d: want 0 (all) or more", *limit)}
	}
	if *format != "json" && *format != "table" {
		return errUsage{fmt.Sprintf("unknown --format %q: want json or table", *format)}
	}
	if err := q.Validate(); err != nil {
		return errUsage{err.Error()}
	}
	db, _, err := openStore(ctx, *addr)
	if err != nil {
		return err
	}
	defer db.Close()
	if q.Limit > 0 && q.Limit < math.MaxInt {
		q.Limit++ // one more tells whether there are more
	}
	as, err := db.ListAlerts(ctx, q)
	if err != nil {
		return migrateHint(err, *addr)
	}
	more := *limit > 0 && len(as) > *limit
	if more {
		as = as[:*limit]
	}
	if *format == "json" {
		err = writeAlertsJSON(stdout, as)
	} else {
		err = writeAlertsTable(stdout, as, time.Now())
	}
	if err != nil {
		return err
	}
	if more {
		fmt.Fprintf(stderr, "shiplens alerts list: showing the %d newest alerts; --limit 0 shows all\n", *limit)
	}
	return nil
}

// typeList returns the alert types, comma separated.
func typeList() string {
	names := make([]string, len(alerts.Types))
	for i, t := range alerts.Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// writeAlertsJSON writes one alert per line, as on shiplens.alerts.
func writeAlertsJSON(w io.Writer, as []alerts.Alert) error {
	enc := json.NewEncoder(w)
	for i := range as {
		if err := enc.Encode(&as[i]); err != nil {
			return err
		}
	}
	return nil
}

// writeAlertsTable writes the alerts as a table. The age of an open alert
// is now − opened_at; a resolved one shows its time to resolve.
func writeAlertsTable(w io.Writer, as []alerts.Alert, now time.Time) error {
	if len(as) == 0 {
		_, err := fmt.Fprintln(w, "no alerts match")
		return err
	}
	oneLine := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return oneLine.Replace(s)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "opened_at\ttier\ttype\tstate\ttracking_number\tcarrier\tlane\tmerchant\tstatus\tage/resolved_in\tdetail")
	for _, a := range as {
		var took string
		if a.State == alerts.Resolved {
			took = alertDuration(a.ResolvedAt.Sub(a.OpenedAt))
		} else {
			took = alertDuration(now.Sub(a.OpenedAt))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.OpenedAt.UTC().Format(time.RFC3339), dash(string(a.Tier)),
			dash(string(a.Type)), dash(string(a.State)), dash(a.TrackingNumber), dash(a.Carrier), dash(a.Lane), dash(a.Merchant),
			dash(a.Status), took, dash(a.Detail))
	}
	return tw.Flush()
}

// alertDuration prints d to the minute, in days and hours from two days:
// 45m, 36h, 1h30m, 3d4h.
func alertDuration(d time.Duration) string {
	d = max(d, 0).Truncate(time.Minute)
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		if m := d % time.Hour; m != 0 {
			return fmt.Sprintf("%dh%dm", int(d/time.Hour), int(m/time.Minute))
		}
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	days, hours := int(d/day), int(d%day/time.Hour)
	if hours == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, hours)
}
