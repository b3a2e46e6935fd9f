package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/shiplens/shiplens/analytics/alerts"
)

const alertsRulesSynopsis = "alerts rules [--check FILE]"

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
