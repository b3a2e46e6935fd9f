package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/internal/progress"
)

const alertsRulesSynopsis = "alerts rules [--check FILE]"

const alertsEvaluateSynopsis = "alerts evaluate --input FILE.jsonl [--rules FILE] [--format json|table]"

// runAlertsEvaluate replays a recorded stream through a rules file and
// reports what each rule raises and how much of it was real.
func runAlertsEvaluate(args []string, stdout, stderr io.Writer) error {
	f := newFlags("alerts evaluate", alertsEvaluateSynopsis, stderr)
	input := f.String("input", "", "canonical events as JSON lines, in arrival order (shiplens generate --out)")
	rulesFile := f.String("rules", "", "alert rules `FILE`; the default rules without it")
	format := f.String("format", "table", "json or table")
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	if *input == "" {
		return errUsage{"--input is required"}
	}
	if *format != "json" && *format != "table" {
		return errUsage{fmt.Sprintf("invalid --format %q: want json or table", *format)}
	}
	rules, err := alerts.LoadRules(*rulesFile)
	if err != nil {
		return errUsage{err.Error()}
	}
	evs, _, err := readEvents(*input, stderr)
	if err != nil {
		return err
	}
	bar := progress.New(stderr, "evaluating rules", int64(len(evs)), "events")
	r := alerts.Evaluate(evs, rules, alerts.EvaluateOptions{Progress: func(done, _ int) { bar.Set(int64(done), 0) }})
	bar.Finish()
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(stdout, "%d events, %d shipments; %d ended badly (%d never delivered, %d delivered after their promise)\n\n",
		r.Events, r.Shipments, r.Troubled, r.NeverArrived, r.DeliveredLate)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rule\ttype\topened\tshipments\treal\tprecision\trecall (never delivered)\tlead h p50\t")
	for _, re := range r.Rules {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.2f\t%.2f\t%.0f\t\n", re.Rule, re.Type, re.Opened, re.Shipments, re.Real, re.Precision, re.Recall, re.LeadHoursP50)
	}
	return tw.Flush()
}

// runAlertsRules prints the default rules file, or checks one.
func runAlertsRules(args []string, stdout, stderr io.Writer) error {
	f := newFlags("alerts rules", alertsRulesSynopsis, stderr)
	check := f.String("check", "", "check this rules `FILE` and print its rules instead of the default file")
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	if *check == "" {
		_, err := stdout.Write(alerts.DefaultRules)
		return err
	}
	r, err := alerts.LoadRules(*check)
	if err != nil {
		return errUsage{err.Error()}
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tTIER\tESCALATES")
	for _, rule := range r.Rules {
		esc := "-"
		if rule.Escalate.After > 0 {
			esc = fmt.Sprintf("to %s after %s", rule.Escalate.To, formatDuration(rule.Escalate.After))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", rule.Name, rule.Type, rule.Tier, esc)
	}
	return tw.Flush()
}
