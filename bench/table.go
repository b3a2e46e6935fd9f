package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints r for people: each stage's median with min and max, the
// state and query figures, the ratios and the targets.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "shiplens bench %s on %s (%d cores, %.1f GiB), ClickHouse %s, %s\n", r.Version, r.Machine.CPU, r.Machine.Cores,
		float64(r.Machine.MemoryBytes)/(1<<30), r.Machine.ClickHouseVersion, r.Machine.Go)
	fmt.Fprintf(tw, "workload: %d shipments, %d events (%.1f MB), %d partitions, seed %d; medians of %d runs (min-max)\n\n",
		r.Workload.Shipments, r.Workload.Events, float64(r.Workload.Bytes)/1e6, r.Workload.Partitions, r.Workload.Seed, len(r.Stages[StageDecode].EventsPerS.Runs))
	fmt.Fprintln(tw, "stage\tevents/s\tmin-max\tseconds")
	for _, name := range StageOrder {
		s, ok := r.Stages[name]
		if !ok {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s-%s\t%.2f\n", name, si(s.EventsPerS.Median), si(s.EventsPerS.Min), si(s.EventsPerS.Max), s.Seconds.Median)
	}
	if l := r.Stages[StageFreshness].Latency; l != nil {
		fmt.Fprintf(tw, "\nfreshness at %s events/s offered: p50 %.3f s, p99 %.3f s, max %.3f s\n", si(l.OfferedPerS), l.P50, l.P99, l.Max)
	}
	fmt.Fprintf(tw, "\nstate: %.0f bytes per held shipment (%d held, %d open); restore of %d shipments (of %d stored): %.2f s (%.2f-%.2f)\n",
		r.State.BytesPerShipment, r.State.Held, r.State.Open, r.State.RestoreShipments, r.State.RestoreFrom,
		r.State.RestoreSeconds.Median, r.State.RestoreSeconds.Min, r.State.RestoreSeconds.Max)
	fmt.Fprintln(tw, "\nquery\tshipments stored\tseconds\tmin-max\trows")
	for i, q := range r.Queries.Scorecard30d {
		fmt.Fprintf(tw, "scorecard, 30 days\t%d\t%.3f\t%.3f-%.3f\t%d\n", q.Shipments, q.Seconds.Median, q.Seconds.Min, q.Seconds.Max, q.Rows)
		f := r.Queries.ScorecardFull[i]
		fmt.Fprintf(tw, "scorecard, full range\t%d\t%.3f\t%.3f-%.3f\t%d\n", f.Shipments, f.Seconds.Median, f.Seconds.Min, f.Seconds.Max, f.Rows)
	}
	sp := r.Queries.SlowestPanel
	fmt.Fprintf(tw, "GET /v1/eta/{tn} p99 (%d lookups)\t%d\t%.4f\t\t\n", r.Queries.ETALookups, sp.Shipments, r.Queries.ETALookupP99)
	fmt.Fprintf(tw, "slowest panel: %s / %s\t%d\t%.3f\t\t\n", sp.Dashboard, sp.Panel, sp.Shipments, sp.Seconds)
	o, a := r.Queries.OursTimeToAnswer, r.Queries.AlternativeTimeToAnswer
	fmt.Fprintf(tw, "scorecard of the workload, ours\t%d\t%.3f\t%.3f-%.3f\t\n", r.Workload.Shipments, o.Median, o.Min, o.Max)
	fmt.Fprintf(tw, "scorecard of the workload, alternative (SQL over raw events)\t%d\t%.3f\t%.3f-%.3f\t%d\n", r.Workload.Shipments, a.Median, a.Min, a.Max, r.Queries.AlternativeRows)
	fmt.Fprintf(tw, "\nthe alternative's counts equal ours: %v\n", r.Queries.AlternativeCountsEqual)
	fmt.Fprintln(tw, "\nratio\tvalue")
	for _, k := range []string{"end_to_end_over_bare_consumer", "process_over_decode", "alternative_time_to_answer_over_ours", "alternative_ingest_over_end_to_end", "process_all_cores_over_one_core"} {
		fmt.Fprintf(tw, "%s\t%.2f\n", k, r.Ratios[k])
	}
	fmt.Fprintln(tw, "\ntarget (DESIGN section 9)\twant\tmeasured\tmet")
	for _, t := range r.Targets {
		met := "no"
		if t.Met {
			met = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Want, num(t.Value), met)
	}
	fmt.Fprintf(tw, "\n%.0f s in all\n", r.Seconds)
	return tw.Flush()
}

// si writes a rate with a k or M suffix.
func si(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.0fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func num(v float64) string {
	if v >= 1000 {
		return si(v)
	}
	return fmt.Sprintf("%.3g", v)
}
