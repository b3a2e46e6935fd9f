package dashboards

import (
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// exceptions is exceptions and alerts: what goes wrong, where, and how
// fast customer service resolves it.
func exceptions() *board {
	b := newBoard(ExceptionsUID, "exceptions.json", "Exceptions and alerts",
		"Exceptions (customs holds, failed deliveries, returns, other carrier exceptions) from the daily aggregates, on the day of each shipment's first exception of a type; and the alerts the processor's rules raised for customer service, each in its latest state, for the alerts opened in the time range; and the customer notifications sent.")
	b.filterVars(true)

	const perDay = "Exceptions per day by type"
	b.add(timeseries.NewPanelBuilder().
		Title(perDay).
		Description("Shipments whose first exception of each type fell on the day (store's exceptions_per_day series).").
		Datasource(clickhouse()).
		GridPos(b.place(12, 8)).
		DrawStyle(common.GraphDrawStyleBars).
		FillOpacity(80).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
		WithTarget(b.sql(perDay, TimeSeries, "SELECT day AS time, `sum(exc_customs_held)` AS customs_held, `sum(exc_delivery_failed)` AS delivery_failed,\n"+
			"    `sum(exc_returned)` AS returned, `sum(exc_exception)` AS other\nFROM\n(\n"+series("exceptions_per_day")+"\n)\nORDER BY time",
			cols("time Date", "customs_held Int64", "delivery_failed Int64", "returned Int64", "other Int64"), true)))

	const rate = "Exceptions per delivery by carrier, per week"
	b.add(timeseries.NewPanelBuilder().
		Title(rate).
		Description("Shipments with a first exception in the week per shipment delivered in it, for each carrier.").
		Datasource(clickhouse()).
		GridPos(b.place(12, 8)).
		Unit("percentunit").
		DisplayName("${__field.labels.carrier}").
		WithTarget(b.sql(rate, TimeSeries, `
SELECT toMonday(day) AS time, carrier, sum(exceptions) / sum(delivered) AS exceptions_per_delivered
FROM `+aggregates+`
WHERE `+daysWhere+`
GROUP BY time, carrier
HAVING sum(delivered) > 0
ORDER BY time, carrier`, cols("time Date", "carrier String", "exceptions_per_delivered Float64"), true)))

	const byLane = "Exceptions by carrier and lane"
	b.add(table.NewPanelBuilder().
		Title(byLane).
		Description("The 200 carrier-lane pairs with the most exceptions, by type, with exceptions per delivery.").
		Datasource(clickhouse()).
		GridPos(b.place(24, 9)).
		Filterable(true).
		Overrides(unitOf("percentunit", "exceptions_per_delivered")).
		WithTarget(b.sql(byLane, Table, `
SELECT carrier, lane, sum(delivered) AS delivered, sum(exceptions) AS exceptions,
    `+ratio("exceptions", "delivered")+` AS exceptions_per_delivered,
    sum(exc_customs_held) AS customs_held, sum(exc_delivery_failed) AS delivery_failed,
    sum(exc_returned) AS returned, sum(exc_exception) AS other
FROM `+aggregates+`
WHERE `+daysWhere+`
GROUP BY carrier, lane
HAVING exceptions != 0
ORDER BY exceptions DESC, carrier, lane
LIMIT 200`, cols("carrier String", "lane String", "delivered Int64", "exceptions Int64", "exceptions_per_delivered Nullable(Float64)",
			"customs_held Int64", "delivery_failed Int64", "returned Int64", "other Int64"), true)))

	b.row("Alerts")
	const alertTotals = "Alerts opened in the range"
	b.add(figures().
		Title(alertTotals).
		Description("Alerts opened in the time range, in their latest state: how many, how many are still open and resolved, and the median hours from opening to resolution.").
		Datasource(clickhouse()).
		GridPos(b.place(24, 4)).
		Overrides(unitOf("h", "resolve_p50_hours")).
		WithTarget(b.sql(alertTotals, Table, `
SELECT toInt64(count()) AS opened, toInt64(countIf(state = 'open')) AS still_open,
    toInt64(countIf(state = 'resolved')) AS resolved,
    if(resolved = 0, NULL, quantileExactIf(0.5)(hours, state = 'resolved')) AS resolve_p50_hours
FROM
(
    `+latestAlertsSQL+`
)
WHERE `+labelFilters, cols("opened Int64", "still_open Int64", "resolved Int64", "resolve_p50_hours Nullable(Float64)"), true)))

	const open = "Open alerts"
	b.add(table.NewPanelBuilder().
		Title(open).
		Description("The alerts opened in the time range that are still open, newest first (at most 500): what customer service should look at. Hours open count to the end of the time range.").
		Datasource(clickhouse()).
		GridPos(b.place(24, 10)).
		Filterable(true).
		Overrides(unitOf("h", "open_hours")).
		WithTarget(b.sql(open, Table, `
SELECT opened_at, type, tier, tracking_number, carrier, lane, merchant, status, last_event_at,
    (toInt64(toUInt32($__toTime)) - toInt64(toUInt32(opened_at))) / 3600 AS open_hours, detail, alert_id
FROM
(
    -- Folding every alert with all these columns costs three times the
    -- fold of the few that choose the 500: fold those, then read the
    -- latest transition of the 500 alone.
    SELECT alert_id, type, tier, tracking_number, carrier, lane, merchant, status, opened_at, last_event_at, detail
    FROM alerts
    WHERE $__timeFilter(opened_at) AND alert_id IN
    (
        SELECT alert_id
        FROM
        (
            `+latestAlertsSQL+`
        )
        WHERE state = 'open'
            AND `+strings.ReplaceAll(labelFilters, "\n    ", "\n            ")+`
        ORDER BY opened_at DESC, alert_id
        LIMIT 500
    )
    ORDER BY alert_id, seq DESC
    LIMIT 1 BY alert_id
)
ORDER BY opened_at DESC, alert_id
-- 18.16 would build the IN set again for every part to prune its index,
-- which random alert ids do not prune anyway.
SETTINGS use_index_for_in_with_subqueries = 0`, cols("opened_at DateTime", "type String", "tier String", "tracking_number String", "carrier String", "lane String",
			"merchant String", "status String", "last_event_at DateTime", "open_hours Float64", "detail String", "alert_id String"), true)))

	const resolve = "Time to resolve by type"
	b.add(table.NewPanelBuilder().
		Title(resolve).
		Description("Of the alerts opened in the time range and resolved since, per type: how many, and the hours from opening to resolution (exact p50 and p90).").
		Datasource(clickhouse()).
		GridPos(b.place(8, 8)).
		Overrides(unitOf("h", "p50_hours", "p90_hours")).
		WithTarget(b.sql(resolve, Table, `
SELECT type, toInt64(count()) AS resolved, quantileExact(0.5)(hours) AS p50_hours, quantileExact(0.9)(hours) AS p90_hours
FROM
(
    `+latestAlertsSQL+`
)
WHERE state = 'resolved'
    AND `+labelFilters+`
GROUP BY type
ORDER BY type`, cols("type String", "resolved Int64", "p50_hours Float64", "p90_hours Float64"), true)))

	const opened = "Alerts opened by type"
	b.add(timeseries.NewPanelBuilder().
		Title(opened).
		Description("Alerts opened per hour (or longer bucket), by type.").
		Datasource(clickhouse()).
		GridPos(b.place(16, 8)).
		DrawStyle(common.GraphDrawStyleBars).
		FillOpacity(80).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
		DisplayName("${__field.labels.type}").
		WithTarget(b.sql(opened, TimeSeries, `
SELECT `+timeBucket("opened_at", 3600)+` AS time, type, toInt64(count()) AS opened
FROM
(
    `+latestAlertsSQL+`
)
WHERE `+labelFilters+`
GROUP BY time, type
ORDER BY time, type`, cols("time DateTime", "type String", "opened Int64"), true)))

	// store.AlertSummarySQL's figures, over latestAlertsSQL: its LIMIT 1
	// BY alert_id takes several times as long over millions of alerts.
	summaryFilters := strings.Join([]string{in("carrier", "carrier"), in("lane", "lane"), in("merchant", "merchant")}, "\n    AND ")
	const bySummary = "Alerts by type, carrier, lane and merchant"
	b.add(table.NewPanelBuilder().
		Title(bySummary).
		Description("Per type, carrier, lane and merchant of the alerts opened in the time range (the figures of store.AlertSummarySQL): opened, resolved since and still open, and the p50 and p90 hours to resolve (exact; 0 when none is resolved), the 500 groups with most alerts first. The service filter does not apply here.").
		Datasource(clickhouse()).
		GridPos(b.place(24, 10)).
		Filterable(true).
		Overrides(unitOf("h", "resolve_hours_p50", "resolve_hours_p90")).
		WithTarget(b.sql(bySummary, Table, `
SELECT type, carrier, lane, merchant,
    toInt64(count()) AS opened,
    toInt64(countIf(state = 'resolved')) AS resolved,
    toInt64(countIf(state = 'open')) AS open,
    if(resolved = 0, 0, quantileExactIf(0.5)(hours, state = 'resolved')) AS resolve_hours_p50,
    if(resolved = 0, 0, quantileExactIf(0.9)(hours, state = 'resolved')) AS resolve_hours_p90
FROM
(
    `+latestAlertsSQL+`
)
WHERE `+summaryFilters+`
GROUP BY type, carrier, lane, merchant
ORDER BY opened DESC, type, carrier, lane, merchant
LIMIT 500`, cols("type String", "carrier String", "lane String", "merchant String", "opened Int64", "resolved Int64", "open Int64",
			"resolve_hours_p50 Float64", "resolve_hours_p90 Float64"), true)))

	const notes = "Customer notifications by kind"
	b.add(timeseries.NewPanelBuilder().
		Title(notes).
		Description("Notifications sent to customers per hour (or longer bucket) of the scan that caused them, by kind: rows of the notifications table, which holds one per notification once ClickHouse has merged it (a retried write counts twice until then; counting distinct ids instead takes ten times as long over a million shipments).").
		Datasource(clickhouse()).
		GridPos(b.place(24, 8)).
		DrawStyle(common.GraphDrawStyleBars).
		FillOpacity(80).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
		DisplayName("${__field.labels.kind}").
		WithTarget(b.sql(notes, TimeSeries, `
SELECT `+timeBucket("occurred_at", 3600)+` AS time, kind, toInt64(count()) AS sent
FROM notifications
WHERE $__timeFilter(occurred_at)
    AND `+labelFilters+`
GROUP BY time, kind
ORDER BY time, kind`, cols("time DateTime", "kind String", "sent Int64"), true)))
	return b
}
