package dashboards

import (
	"fmt"

	"github.com/shiplens/shiplens/analytics"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// heatmapRow is how many sketch buckets (of 2% each) one heatmap row
// holds: 12 make rows of 27%, about 30 from an hour to 60 days.
const heatmapRow = 12

// lanes is lane transit times: how long parcels take on a lane, how that
// spreads and moves, and which carriers and parcels are slow.
func lanes() *board {
	b := newBoard(LanesUID, "lanes.json", "Lane transit",
		"Transit time (first pickup to first delivery) per lane: its distribution per day straight from the sketch buckets of the daily aggregates, its percentiles over time, and the carriers and shipments behind it. Select lanes and carriers above; a lane in the table opens the carrier scorecard for it.")
	b.filterVars(true)

	const dist = "Transit time distribution, per day"
	b.add(heatmap.NewPanelBuilder().
		Title(dist).
		Description(fmt.Sprintf("Shipments delivered each day by transit time. Each row merges %d sketch buckets (a factor of %.2f) and is labelled by its upper bound in hours; transit times under an hour share the first row.", heatmapRow, pow(heatmapRow))).
		Datasource(clickhouse()).
		GridPos(b.place(24, 10)).
		Calculate(false).
		RowsFrame(heatmap.NewRowsHeatmapOptionsBuilder().Layout(common.HeatmapCellLayoutLe).Value("shipments")).
		YAxis(heatmap.NewYAxisConfigBuilder().Unit("h").AxisLabel("transit time (h, upper bound)")).
		Color(heatmap.NewHeatmapColorOptionsBuilder().Mode(heatmap.HeatmapColorModeScheme).Scheme("Oranges").Scale(heatmap.HeatmapColorScaleExponential).Exponent(0.5).Steps(64)).
		CellGap(1).
		Tooltip(heatmap.NewHeatmapTooltipBuilder().Mode(common.TooltipDisplayModeSingle).YHistogram(true)).
		// One field per row after the long-to-wide conversion: its le
		// label is its numeric name, which the heatmap sorts rows by.
		DisplayName("${__field.labels.le}").
		WithTarget(b.sql(dist, TimeSeries, fmt.Sprintf(`
SELECT day AS time, toString(round(pow(%g, %d * (r + 1)), 1)) AS le, sum(n) AS shipments
FROM
(
    SELECT day, if(b < 0, -1, intDiv(b, %d)) AS r, n
    FROM
    (
%s
    )
    WHERE n > 0
)
GROUP BY day, r
ORDER BY day, r`, gamma, heatmapRow, heatmapRow, series("transit_per_day")), cols("time Date", "le String", "shipments Int64"), true)))

	const pcts = "Transit time percentiles, per day"
	b.add(timeseries.NewPanelBuilder().
		Title(pcts).
		Description("p50, p75, p90 and p95 of the transit time of the shipments delivered each day on the selection.").
		Datasource(clickhouse()).
		GridPos(b.place(12, 8)).
		Unit("h").
		WithTarget(b.sql(pcts, TimeSeries, `
SELECT day AS time, `+bucketQuantile(0.5, "b", "n")+` AS p50_hours,
    `+bucketQuantile(0.75, "b", "n")+` AS p75_hours,
    `+bucketQuantile(0.9, "b", "n")+` AS p90_hours,
    `+bucketQuantile(0.95, "b", "n")+` AS p95_hours
FROM
(
`+series("transit_per_day")+`
)
WHERE n > 0
GROUP BY day
ORDER BY day`, cols("time Date", "p50_hours Float64", "p75_hours Float64", "p90_hours Float64", "p95_hours Float64"), true)))

	const byLane = "Transit time p90 by lane, per week"
	b.add(timeseries.NewPanelBuilder().
		Title(byLane).
		Description("The 90th percentile of the transit time of each lane's deliveries, per week (from Monday).").
		Datasource(clickhouse()).
		GridPos(b.place(12, 8)).
		Unit("h").
		DisplayName("${__field.labels.lane}").
		WithTarget(b.sql(byLane, TimeSeries, `
SELECT week AS time, lane, `+bucketQuantile(0.9, "b", "n")+` AS p90_hours
FROM
(
    SELECT toMonday(day) AS week, lane, b, sum(c) AS n
    FROM `+aggregates+`
    ARRAY JOIN transitMap.bucket AS b, transitMap.n AS c
    WHERE `+daysWhere+`
    GROUP BY week, lane, b
    HAVING n > 0
)
GROUP BY week, lane
ORDER BY week, lane`, cols("time Date", "lane String", "p90_hours Float64"), true)))

	const laneTable = "Lanes"
	b.add(table.NewPanelBuilder().
		Title(laneTable).
		Description("One row per lane, slowest p90 first: deliveries, on-time rate, transit percentiles and the spread p90 / p50 (how unpredictable the lane is). Click a lane for its carrier scorecard.").
		Datasource(clickhouse()).
		GridPos(b.place(12, 10)).
		Overrides(append(append(unitOf("percentunit", "on_time_rate"), unitOf("h", "p50_hours", "p90_hours", "p95_hours")...),
			links("lane", link("Carrier scorecard of ${__value.raw}", dashURL(CarriersUID, []string{"carrier", "service", "merchant"}, "var-lane=${__value.raw}"))))).
		WithTarget(b.sql(laneTable, Table, `
SELECT lane, delivered, `+ratio("on_time", "with_promise")+` AS on_time_rate,
    `+sketchQuantile("transit", 0.5)+` AS p50_hours,
    `+sketchQuantile("transit", 0.9)+` AS p90_hours,
    `+sketchQuantile("transit", 0.95)+` AS p95_hours,
    p90_hours / p50_hours AS p90_over_p50
FROM
(
    SELECT lane, sum(delivered) AS delivered, sum(with_promise) AS with_promise, sum(on_time) AS on_time,
        sumMap(transitMap.bucket, transitMap.n) AS transit
    FROM `+aggregates+`
    WHERE `+daysWhere+`
    GROUP BY lane
    HAVING delivered != 0
)
ORDER BY p90_hours DESC, lane`, cols("lane String", "delivered Int64", "on_time_rate Nullable(Float64)", "p50_hours Nullable(Float64)",
			"p90_hours Nullable(Float64)", "p95_hours Nullable(Float64)", "p90_over_p50 Nullable(Float64)"), true)))

	const carriersOn = "Carriers on these lanes"
	b.add(table.NewPanelBuilder().
		Title(carriersOn).
		Description("The carriers of the selected lanes, fastest median first.").
		Datasource(clickhouse()).
		GridPos(b.place(12, 10)).
		Overrides(append(unitOf("percentunit", "on_time_rate"), unitOf("h", "p50_hours", "p90_hours")...)).
		WithTarget(b.sql(carriersOn, Table, `
SELECT carrier, delivered, `+ratio("on_time", "with_promise")+` AS on_time_rate,
    `+sketchQuantile("transit", 0.5)+` AS p50_hours,
    `+sketchQuantile("transit", 0.9)+` AS p90_hours
FROM
(
    SELECT carrier, sum(delivered) AS delivered, sum(with_promise) AS with_promise, sum(on_time) AS on_time,
        sumMap(transitMap.bucket, transitMap.n) AS transit
    FROM `+aggregates+`
    WHERE `+daysWhere+`
    GROUP BY carrier
    HAVING delivered != 0
)
ORDER BY p50_hours, carrier`, cols("carrier String", "delivered Int64", "on_time_rate Nullable(Float64)",
			"p50_hours Nullable(Float64)", "p90_hours Nullable(Float64)"), true)))

	const slowest = "Slowest deliveries"
	b.add(table.NewPanelBuilder().
		Title(slowest).
		Description("The 100 shipments of the selection delivered in the time range with the longest transit, from the shipment facts (each shipment's latest version, among the shipments of the 1,000 longest-transit versions): the parcels behind a long tail.").
		Datasource(clickhouse()).
		GridPos(b.place(24, 10)).
		Filterable(true).
		Overrides(unitOf("h", "transit_hours", "customs_dwell_hours")).
		WithTarget(b.sql(slowest, Table, `
SELECT tracking_number, carrier, service, lane, merchant, delivered_at, transit_hours, customs_dwell_hours, on_time, promised_at
FROM
(
    SELECT tracking_number, argMax(carrier, version) AS carrier, argMax(service, version) AS service,
        argMax(lane, version) AS lane, argMax(merchant, version) AS merchant,
        argMax(delivered, version) AS is_delivered, argMax(delivered_day, version) AS day,
        argMax(delivered_at, version) AS delivered_at, argMax(transit_hours, version) AS transit_hours,
        argMax(customs_dwell_hours, version) AS customs_dwell_hours, argMax(on_time, version) AS on_time,
        argMax(promised_at, version) AS promised_at
    FROM shipment_facts
    WHERE tracking_number IN
    (
        -- Candidates: the shipments of the 1,000 versions with the longest
        -- transit in range. A latest version in the top 100 is among them
        -- unless 900 superseded versions outrank it; reading the latest
        -- version of every shipment instead takes ten times as long.
        SELECT tracking_number
        FROM shipment_facts
        WHERE delivered = 1 AND $__dateFilter(delivered_day)
            AND `+labelFilters+`
        ORDER BY transit_hours DESC, tracking_number
        LIMIT 1000
    )
    GROUP BY tracking_number
)
WHERE is_delivered = 1 AND $__dateFilter(day)
    AND `+labelFilters+`
ORDER BY transit_hours DESC, tracking_number
LIMIT 100`, cols("tracking_number String", "carrier String", "service String", "lane String", "merchant String",
			"delivered_at DateTime", "transit_hours Float64", "customs_dwell_hours Float64", "on_time UInt8", "promised_at DateTime"), true)))
	return b
}

// gamma is the sketch's bucket ratio.
const gamma = analytics.Gamma

// pow returns gamma to the n.
func pow(n int) float64 {
	x := 1.0
	for range n {
		x *= gamma
	}
	return x
}
