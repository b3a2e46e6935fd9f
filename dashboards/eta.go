package dashboards

import (
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/barchart"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// sampled keeps the shipments of the sample the sample variable sets: one
// tracking number in ${sample}, by hash, so every carrier, lane and
// milestone is sampled alike.
const sampled = "cityHash64(tracking_number) % ${sample} = 0"

// journeyBound is store's: predictions are read from this many seconds
// (100 days) before the range, so that a journey's are all there.
const journeyBound = "8640000"

// accuracy is store.AccuracySQL, copied with the sample added to the
// reads of outcomes and predictions, over the time range (its last second
// included) for the shipments whose latest labels match the variables.
// The copy has the same columns, and on the sample the same figures (a
// test checks it against store's with the sample in its %WHERE%), but it
// no longer reads the predictions through the delivered tracking numbers:
// on a sample, filtering predictions by the hash is cheaper than the IN.
// Over a million shipments the exact figures take about a minute on
// ClickHouse 18.16 (one thread here): every prediction of every delivered
// shipment is read and folded; the default sample of 1 in 64 answers in
// under a second.
func accuracy(byMilestone bool) string {
	m := "''"
	if byMilestone {
		m = "milestone"
	}
	delivered := `SELECT tracking_number, argMax(delivered_at, rev) AS delivered, argMax(carrier, rev) AS carrier,
            argMax(service, rev) AS service, argMax(lane, rev) AS lane, argMax(merchant, rev) AS merchant
        FROM eta_outcomes
        WHERE delivered_at >= $__fromTime - ` + journeyBound + ` AND delivered_at < $__toTime + 1 + ` + journeyBound + `
            AND ` + sampled + `
        GROUP BY tracking_number
        HAVING delivered >= $__fromTime AND delivered < $__toTime + 1
            AND ` + strings.ReplaceAll(labelFilters, "\n    ", "\n            ")
	return `SELECT day, m AS milestone,
    toInt64(count()) AS predictions,
    avg(abs(err)) / 3600 AS mae_hours,
    avg(abs(err) <= 86400) AS within_24h,
    avg(on_day) AS same_day,
    avg(covered) AS coverage,
    avg(err) / 3600 AS bias_hours,
    toInt64(countIf(with_promise)) AS promised_predictions,
    sumIf(abs(perr), with_promise) / greatest(countIf(with_promise), 1) / 3600 AS promised_mae_hours,
    sumIf(abs(perr) <= 86400, with_promise) / greatest(countIf(with_promise), 1) AS promised_within_24h
FROM
(
    SELECT toDate('1970-01-01') + intDiv(toUInt32(delivered), 86400) AS day, ` + m + ` AS m,
        toInt64(toUInt32(mid)) - toInt64(toUInt32(delivered)) AS err,
        toInt64(toUInt32(promised)) - toInt64(toUInt32(delivered)) AS perr,
        intDiv(toUInt32(mid), 86400) = intDiv(toUInt32(delivered), 86400) AS on_day,
        lo <= delivered AND delivered <= hi AS covered,
        toUInt32(promised) != 0 AS with_promise
    FROM
    (
        SELECT tracking_number, as_of, milestone, argMax(p10, rev) AS lo, argMax(p50, rev) AS mid,
            argMax(p90, rev) AS hi, argMax(promised_at, rev) AS promised
        FROM eta_history
        WHERE as_of >= $__fromTime - ` + journeyBound + ` AND as_of < $__toTime + 1
            AND ` + sampled + `
        GROUP BY tracking_number, as_of, milestone
    ) AS predicted
    ALL INNER JOIN
    (
        ` + delivered + `
    ) AS outcome USING tracking_number
    WHERE as_of < delivered
)
GROUP BY day, milestone
ORDER BY day, milestone`
}

// accuracyRows is the accuracy query with its columns renamed, so that
// an aggregate over them can take their names: ClickHouse reads an alias
// in place of a column of the same name, and an aggregate of itself is an
// error.
func accuracyRows(byMilestone bool) string {
	return `    SELECT day AS d, milestone AS m, predictions AS n, mae_hours AS mae, bias_hours AS bias, within_24h AS w24,
        same_day AS sd, coverage AS cov, promised_predictions AS pn, promised_mae_hours AS pmae
    FROM
    (
` + accuracy(byMilestone) + `
    )`
}

// weighted is the mean of column over accuracyRows, weighted by their
// predictions (or by w), NULL when there are none.
func weighted(column, w string) string {
	return "if(sum(" + w + ") = 0, NULL, sum(" + column + " * " + w + ") / sum(" + w + "))"
}

// etaBoard is predicted delivery dates: how good the predictions are, and
// the lookups planners make.
func etaBoard() *board {
	b := newBoard(ETAUID, "eta.json", "Predicted delivery (ETA)",
		"How accurate the processor's delivery predictions were for the shipments delivered in the time range (store.AccuracySQL on a sample of shipments, see the sample variable: every prediction made before the delivery, against the promised date the shipment had then), by day and by milestone; the shipments under way; and lookups: a tracking number's ETA and prediction history, and a what-if quote for a lane before a tracking number exists.")
	b.filterVars(false)
	b.b.WithVariable(b.customVar("sample", "Sample", "Accuracy and the shipments under way are computed over one shipment in this many (by tracking-number hash), so that they answer in a second over millions of predictions; choose all on small deployments.",
		[][2]string{{"1 in 64", "64"}, {"1 in 16", "16"}, {"1 in 4", "4"}, {"all", "1"}}, "64"))
	b.b.WithVariable(b.textVar("tracking", "Tracking number", "", "A tracking number to look up (eta_lookup and its prediction history)."))
	b.b.WithVariable(b.textVar("quote_lane", "Quote lane", "CN-US", "The lane of the what-if quote, origin-destination."))
	b.b.WithVariable(b.textVar("deadline", "Quote deadline", "", "The quote's deadline, RFC 3339 or YYYY-MM-DD (the end of that UTC day); empty for none."))

	const totals = "Accuracy over the range"
	b.add(figures().
		Title(totals).
		Description("Predictions rated, their mean absolute error, share within 24 h of the delivery, share on the day of delivery, and share of deliveries inside the p10-p90 interval (80% when calibrated); then the promised dates' error for comparison.").
		Datasource(clickhouse()).
		GridPos(b.place(24, 4)).
		Overrides(append(unitOf("h", "mae_hours", "promised_mae_hours"), unitOf("percentunit", "within_24h", "same_day", "coverage")...)).
		WithTarget(b.sql(totals, Table, `
SELECT toInt64(sum(n)) AS predictions,
    `+weighted("mae", "n")+` AS mae_hours,
    `+weighted("w24", "n")+` AS within_24h,
    `+weighted("sd", "n")+` AS same_day,
    `+weighted("cov", "n")+` AS coverage,
    `+weighted("pmae", "pn")+` AS promised_mae_hours
FROM
(
`+accuracyRows(false)+`
)`, cols("predictions Int64", "mae_hours Nullable(Float64)", "within_24h Nullable(Float64)", "same_day Nullable(Float64)",
			"coverage Nullable(Float64)", "promised_mae_hours Nullable(Float64)"), true)))

	const errPerDay = "Prediction error, per delivery day"
	b.add(timeseries.NewPanelBuilder().
		Title(errPerDay).
		Description("Mean absolute error and bias (positive: predicted late) of the predictions of the shipments delivered each day, beside the mean absolute error of their promised dates.").
		Datasource(clickhouse()).
		GridPos(b.place(12, 8)).
		Unit("h").
		WithTarget(b.sql(errPerDay, TimeSeries, `
SELECT day AS time, mae_hours, bias_hours, if(promised_predictions = 0, NULL, promised_mae_hours) AS promised_mae_hours
FROM
(
`+accuracy(false)+`
)
ORDER BY time`, cols("time Date", "mae_hours Float64", "bias_hours Float64", "promised_mae_hours Nullable(Float64)"), true)))

	const hits = "Within 24 h, same day and coverage, per delivery day"
	b.add(timeseries.NewPanelBuilder().
		Title(hits).
		Description("Shares of the predictions of each day's deliveries that were within 24 h, on the day, and whose p10-p90 interval held the delivery; and the promised dates within 24 h.").
		Datasource(clickhouse()).
		GridPos(b.place(12, 8)).
		Unit("percentunit").
		Min(0).Max(1).
		WithTarget(b.sql(hits, TimeSeries, `
SELECT day AS time, within_24h, same_day, coverage, if(promised_predictions = 0, NULL, promised_within_24h) AS promised_within_24h
FROM
(
`+accuracy(false)+`
)
ORDER BY time`, cols("time Date", "within_24h Float64", "same_day Float64", "coverage Float64", "promised_within_24h Nullable(Float64)"), true)))

	const byMilestone = "Error by milestone"
	b.add(barchart.NewPanelBuilder().
		Title(byMilestone).
		Description("Mean absolute error of the predictions made at each milestone (the status of the latest scan), beside the promised date's: where the model helps most.").
		Datasource(clickhouse()).
		GridPos(b.place(12, 9)).
		XField("milestone").
		Unit("h").
		XTickLabelRotation(-30).
		WithTarget(b.sql(byMilestone, Table, `
SELECT m AS milestone, `+weighted("mae", "n")+` AS mae_hours,
    `+weighted("pmae", "pn")+` AS promised_mae_hours
FROM
(
`+accuracyRows(true)+`
)
GROUP BY m
ORDER BY m`, cols("milestone String", "mae_hours Nullable(Float64)", "promised_mae_hours Nullable(Float64)"), true)))

	const milestones = "Accuracy by milestone"
	b.add(table.NewPanelBuilder().
		Title(milestones).
		Description("Per milestone: predictions rated, mean absolute error, bias, within 24 h, same day and p10-p90 coverage.").
		Datasource(clickhouse()).
		GridPos(b.place(12, 9)).
		Overrides(append(unitOf("h", "mae_hours", "bias_hours"), unitOf("percentunit", "within_24h", "same_day", "coverage")...)).
		WithTarget(b.sql(milestones, Table, `
SELECT m AS milestone, toInt64(sum(n)) AS predictions,
    `+weighted("mae", "n")+` AS mae_hours,
    `+weighted("bias", "n")+` AS bias_hours,
    `+weighted("w24", "n")+` AS within_24h,
    `+weighted("sd", "n")+` AS same_day,
    `+weighted("cov", "n")+` AS coverage
FROM
(
`+accuracyRows(true)+`
)
GROUP BY m
ORDER BY predictions DESC, m`, cols("milestone String", "predictions Int64", "mae_hours Nullable(Float64)", "bias_hours Nullable(Float64)",
			"within_24h Nullable(Float64)", "same_day Nullable(Float64)", "coverage Nullable(Float64)"), true)))

	const current = "Shipments under way by carrier"
	b.add(table.NewPanelBuilder().
		Title(current).
		Description("The undelivered shipments whose latest prediction in the time range was made in it, per carrier, estimated from the sample (counts times the sample rate): how many, how many are predicted after their promised date, and the mean predicted days to delivery and p10-p90 width.").
		Datasource(clickhouse()).
		GridPos(b.place(24, 8)).
		Overrides(unitOf("percentunit", "predicted_late_share")).
		WithTarget(b.sql(current, Table, `
SELECT carrier, toInt64(count()) * ${sample} AS under_way, toInt64(countIf(promised > 0 AND mid > promised)) * ${sample} AS predicted_late,
    predicted_late / under_way AS predicted_late_share,
    avg((mid - at) / 86400) AS mean_days_to_delivery, avg((hi - lo) / 86400) AS mean_interval_days
FROM
(
    -- Aliases other than the columns' names: WHERE would read an alias.
    SELECT tracking_number, argMax(carrier, rev) AS carrier, argMax(service, rev) AS service, argMax(lane, rev) AS lane,
        argMax(merchant, rev) AS merchant, argMax(basis, rev) AS latest_basis,
        toInt64(toUInt32(argMax(as_of, rev))) AS at, toInt64(toUInt32(argMax(p10, rev))) AS lo,
        toInt64(toUInt32(argMax(p50, rev))) AS mid, toInt64(toUInt32(argMax(p90, rev))) AS hi,
        toInt64(toUInt32(argMax(promised_at, rev))) AS promised
    FROM eta_latest
    WHERE $__timeFilter(as_of) AND `+sampled+`
    GROUP BY tracking_number
)
WHERE latest_basis != 'delivered'
    AND `+labelFilters+`
GROUP BY carrier
ORDER BY under_way DESC, carrier`, cols("carrier String", "under_way Int64", "predicted_late Int64", "predicted_late_share Float64",
			"mean_days_to_delivery Float64", "mean_interval_days Float64"), true)))

	b.row("Lookups")
	const lookup = "ETA of $tracking"
	b.add(table.NewPanelBuilder().
		Title(lookup).
		Description("The plugin's eta_lookup: the shipment's predicted delivery (p50) and range (p10-p90), predicted again with the latest model as `shiplens eta` does. Enter a tracking number above.").
		Datasource(analyticsDS()).
		GridPos(b.place(24, 5)).
		WithTarget(AnalyticsQuery{RefID: "A", Datasource: analyticsDS(), QueryType: "eta_lookup", TrackingNumber: "$tracking"}))

	const history = "Prediction history of $tracking"
	b.add(table.NewPanelBuilder().
		Title(history).
		Description("Every prediction stored for the shipment (eta_history), in the order they were made: how the ETA moved with each scan.").
		Datasource(clickhouse()).
		GridPos(b.place(24, 8)).
		WithTarget(b.sql(history, Table, `
SELECT as_of, milestone, status, p10, p50, p90, promised_at, basis, model_version
FROM eta_history
WHERE tracking_number = ${tracking:singlequote}
ORDER BY as_of, milestone, learn, rev DESC
LIMIT 1 BY as_of, milestone, learn`, cols("as_of DateTime", "milestone String", "status String", "p10 DateTime", "p50 DateTime", "p90 DateTime",
			"promised_at DateTime", "basis String", "model_version DateTime"), true)))

	const quote = "What-if quote on $quote_lane"
	b.add(table.NewPanelBuilder().
		Title(quote).
		Description("The plugin's quote, as `shiplens eta quote`: for a parcel picked up now on the lane, p10/p50/p90 per carrier and service seen on it, ranked by the probability of delivery by the deadline, then by p50.").
		Datasource(analyticsDS()).
		GridPos(b.place(24, 8)).
		WithTarget(AnalyticsQuery{RefID: "A", Datasource: analyticsDS(), QueryType: "quote", Lane: "$quote_lane", Deadline: "$deadline"}))
	return b
}
