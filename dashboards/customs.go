package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// destination is a lane's destination country; lanes without countries
// are left out by lane LIKE '%-%' where it is used.
const destination = "splitByChar('-', lane)[2]"

// customs is customs dwell: how long import clearance holds parcels, where,
// with which carrier, and how often it stops them.
func customs() *board {
	b := newBoard(CustomsUID, "customs.json", "Customs",
		"Customs dwell (first customs_clearance or customs_held scan to the first later release, out-for-delivery, pickup point or delivery) of the delivered shipments that went through customs, on the day of their delivery, and customs holds on the day of their first hold, by destination country and carrier.")
	b.filterVars(true)

	const totals = "Customs in the selection"
	b.add(figures().
		Title(totals).
		Description("Delivered shipments that cleared customs, their dwell p50 and p90, customs holds, and holds per delivered shipment.").
		Datasource(clickhouse()).
		GridPos(b.place(24, 4)).
		Overrides(append(unitOf("h", "dwell_p50_hours", "dwell_p90_hours"), unitOf("percentunit", "holds_per_delivered")...)).
		WithTarget(b.sql(totals, Table, `
SELECT arraySum(customs.2) AS cleared,
    `+sketchQuantile("customs", 0.5)+` AS dwell_p50_hours,
    `+sketchQuantile("customs", 0.9)+` AS dwell_p90_hours,
    holds, `+ratio("holds", "delivered")+` AS holds_per_delivered
FROM
(
    SELECT sum(delivered) AS delivered, sum(exc_customs_held) AS holds, sumMap(customsMap.bucket, customsMap.n) AS customs
    FROM `+aggregates+`
    WHERE `+daysWhere+`
)`, cols("cleared Int64", "dwell_p50_hours Nullable(Float64)", "dwell_p90_hours Nullable(Float64)", "holds Int64",
			"holds_per_delivered Nullable(Float64)"), true)))

	const byCountry = "Dwell by destination country"
	b.add(table.NewPanelBuilder().
		Title(byCountry).
		Description("Customs dwell per destination country, slowest p90 first (store's customs_by_destination series).").
		Datasource(clickhouse()).
		GridPos(b.place(8, 10)).
		Overrides(unitOf("h", "dwell_p50_hours", "dwell_p90_hours")).
		WithTarget(b.sql(byCountry, Table, `
SELECT destination, sum(n) AS cleared, `+bucketQuantile(0.5, "b", "n")+` AS dwell_p50_hours,
    `+bucketQuantile(0.9, "b", "n")+` AS dwell_p90_hours
FROM
(
`+series("customs_by_destination")+`
)
WHERE n > 0
GROUP BY destination
ORDER BY dwell_p90_hours DESC, destination`, cols("destination String", "cleared Int64", "dwell_p50_hours Float64", "dwell_p90_hours Float64"), true)))

	const byCarrier = "Dwell and holds by destination and carrier"
	b.add(table.NewPanelBuilder().
		Title(byCarrier).
		Description("Per destination country and carrier: deliveries, how many cleared customs, holds and holds per delivery, and the dwell p50 and p90. A carrier whose dwell is far above its country's is a broker or paperwork problem, not the country's.").
		Datasource(clickhouse()).
		GridPos(b.place(16, 10)).
		Filterable(true).
		Overrides(append(unitOf("h", "dwell_p50_hours", "dwell_p90_hours"), unitOf("percentunit", "holds_per_delivered")...)).
		WithTarget(b.sql(byCarrier, Table, `
SELECT destination, carrier, delivered, arraySum(customs.2) AS cleared, holds, `+ratio("holds", "delivered")+` AS holds_per_delivered,
    `+sketchQuantile("customs", 0.5)+` AS dwell_p50_hours,
    `+sketchQuantile("customs", 0.9)+` AS dwell_p90_hours
FROM
(
    SELECT `+destination+` AS destination, carrier, sum(delivered) AS delivered, sum(exc_customs_held) AS holds,
        sumMap(customsMap.bucket, customsMap.n) AS customs
    FROM `+aggregates+`
    WHERE `+daysWhere+` AND lane LIKE '%-%'
    GROUP BY destination, carrier
)
WHERE delivered != 0 OR holds != 0
ORDER BY destination, dwell_p90_hours DESC, carrier`, cols("destination String", "carrier String", "delivered Int64", "cleared Int64", "holds Int64",
			"holds_per_delivered Nullable(Float64)", "dwell_p50_hours Nullable(Float64)", "dwell_p90_hours Nullable(Float64)"), true)))

	const trend = "Customs dwell p50 and p90, per day"
	b.add(timeseries.NewPanelBuilder().
		Title(trend).
		Description("Dwell of the shipments delivered each day that went through customs.").
		Datasource(clickhouse()).
		GridPos(b.place(12, 8)).
		Unit("h").
		WithTarget(b.sql(trend, TimeSeries, `
SELECT day AS time, `+bucketQuantile(0.5, "b", "n")+` AS p50_hours, `+bucketQuantile(0.9, "b", "n")+` AS p90_hours
FROM
(
    SELECT day, b, sum(c) AS n
    FROM `+aggregates+`
    ARRAY JOIN customsMap.bucket AS b, customsMap.n AS c
    WHERE `+daysWhere+`
    GROUP BY day, b
    HAVING n > 0
)
GROUP BY day
ORDER BY day`, cols("time Date", "p50_hours Float64", "p90_hours Float64"), true)))

	const countryTrend = "Dwell p90 by destination country, per week"
	b.add(timeseries.NewPanelBuilder().
		Title(countryTrend).
		Description("The 90th percentile of customs dwell per destination country and week (from Monday).").
		Datasource(clickhouse()).
		GridPos(b.place(12, 8)).
		Unit("h").
		DisplayName("${__field.labels.destination}").
		WithTarget(b.sql(countryTrend, TimeSeries, `
SELECT week AS time, destination, `+bucketQuantile(0.9, "b", "n")+` AS p90_hours
FROM
(
    SELECT toMonday(day) AS week, `+destination+` AS destination, b, sum(c) AS n
    FROM `+aggregates+`
    ARRAY JOIN customsMap.bucket AS b, customsMap.n AS c
    WHERE `+daysWhere+` AND lane LIKE '%-%'
    GROUP BY week, destination, b
    HAVING n > 0
)
GROUP BY week, destination
ORDER BY week, destination`, cols("time Date", "destination String", "p90_hours Float64"), true)))

	const holds = "Customs holds by destination country"
	b.add(timeseries.NewPanelBuilder().
		Title(holds).
		Description("Shipments whose first customs hold (customs_held) fell on each day, stacked by destination country.").
		Datasource(clickhouse()).
		GridPos(b.place(24, 8)).
		DrawStyle(common.GraphDrawStyleBars).
		FillOpacity(80).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
		DisplayName("${__field.labels.destination}").
		WithTarget(b.sql(holds, TimeSeries, `
SELECT `+dayBucket+` AS time, `+destination+` AS destination, sum(exc_customs_held) AS holds
FROM `+aggregates+`
WHERE `+daysWhere+` AND lane LIKE '%-%'
GROUP BY time, destination
HAVING holds != 0
ORDER BY time, destination`, cols("time Date", "destination String", "holds Int64"), true)))
	return b
}
