package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/barchart"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// The dashboards' uids, stable: links and bookmarks name them.
const (
	CarriersUID   = "shiplens-carriers"
	LanesUID      = "shiplens-lanes"
	CustomsUID    = "shiplens-customs"
	ExceptionsUID = "shiplens-exceptions"
	ETAUID        = "shiplens-eta"
	PipelineUID   = "shiplens-pipeline"
)

// carriers is the carrier scorecard: which carrier delivers on time and
// fast, overall and per lane.
func carriers() *board {
	b := newBoard(CarriersUID, "carriers.json", "Carrier scorecard",
		"On-time rate, transit times, volume and exceptions per carrier, from the daily aggregates (shipments counted on the UTC day of their first delivery, exceptions on the day of their first exception). Click a carrier to filter on it, a lane to open its transit times.")
	b.filterVars(true)

	const totals = "Selection"
	b.add(figures().
		Title(totals).
		Description("The deliveries of the selection in the time range: how many, the share of those with a promised date delivered by it, transit time p50 and p90 (first pickup to first delivery), and exceptions per delivery.").
		Datasource(clickhouse()).
		GridPos(b.place(24, 4)).
		Overrides(append(unitOf("percentunit", "on_time_rate", "exceptions_per_delivered"), unitOf("h", "transit_p50_hours", "transit_p90_hours")...)).
		WithTarget(b.sql(totals, Table, `
SELECT delivered, `+ratio("on_time", "with_promise")+` AS on_time_rate,
    `+sketchQuantile("transit", 0.5)+` AS transit_p50_hours,
    `+sketchQuantile("transit", 0.9)+` AS transit_p90_hours,
    exceptions, `+ratio("exceptions", "delivered")+` AS exceptions_per_delivered
FROM
(
    SELECT sum(delivered) AS delivered, sum(with_promise) AS with_promise, sum(on_time) AS on_time,
        sum(exceptions) AS exceptions, sumMap(transitMap.bucket, transitMap.n) AS transit
    FROM `+aggregates+`
    WHERE `+daysWhere+`
)`, cols("delivered Int64", "on_time_rate Nullable(Float64)", "transit_p50_hours Nullable(Float64)",
			"transit_p90_hours Nullable(Float64)", "exceptions Int64", "exceptions_per_delivered Nullable(Float64)"), true)))

	const ranking = "Carrier ranking"
	b.add(table.NewPanelBuilder().
		Title(ranking).
		Description("One row per carrier, best on-time rate first. Quantiles are nearest-rank over the transit and customs sketches (within 1% of the exact value), customs over the shipments that went through customs. Click a carrier to filter the dashboard on it.").
		Datasource(clickhouse()).
		GridPos(b.place(24, 9)).
		Overrides(append(append(unitOf("percentunit", "on_time_rate", "exceptions_per_delivered"),
			unitOf("h", "transit_p50_hours", "transit_p90_hours", "customs_p50_hours", "customs_p90_hours")...),
			links("carrier", link("Filter on ${__value.raw}", dashURL(CarriersUID, []string{"lane", "service", "merchant"}, "var-carrier=${__value.raw}"))))).
		WithTarget(b.sql(ranking, Table, scorecardSQL("carrier", "on_time_rate DESC, delivered DESC, carrier"),
			append(cols("carrier String"), scorecardCols...), true)))

	const onTime = "On-time rate by carrier, per week"
	b.add(timeseries.NewPanelBuilder().
		Title(onTime).
		Description("Of the deliveries of each week (from Monday) that had a promised date, the share delivered by it.").
		Datasource(clickhouse()).
		GridPos(b.place(12, 8)).
		Unit("percentunit").
		Min(0).Max(1).
		DisplayName("${__field.labels.carrier}").
		WithTarget(b.sql(onTime, TimeSeries, `
SELECT toMonday(day) AS time, carrier, sum(on_time) / sum(with_promise) AS on_time_rate
FROM `+aggregates+`
WHERE `+daysWhere+`
GROUP BY time, carrier
HAVING sum(with_promise) > 0
ORDER BY time, carrier`, cols("time Date", "carrier String", "on_time_rate Float64"), true)))

	const volume = "Deliveries by carrier"
	b.add(timeseries.NewPanelBuilder().
		Title(volume).
		Description("Shipments delivered per day (per longer bucket on long ranges), stacked by carrier.").
		Datasource(clickhouse()).
		GridPos(b.place(12, 8)).
		DrawStyle(common.GraphDrawStyleBars).
		FillOpacity(80).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
		DisplayName("${__field.labels.carrier}").
		WithTarget(b.sql(volume, TimeSeries, `
SELECT `+dayBucket+` AS time, carrier, sum(delivered) AS delivered
FROM `+aggregates+`
WHERE `+daysWhere+`
GROUP BY time, carrier
HAVING delivered != 0
ORDER BY time, carrier`, cols("time Date", "carrier String", "delivered Int64"), true)))

	const transit = "Transit time p50 and p90, per day"
	b.add(timeseries.NewPanelBuilder().
		Title(transit).
		Description("Transit time (first pickup to first delivery) of the shipments delivered each day, over the whole selection.").
		Datasource(clickhouse()).
		GridPos(b.place(12, 8)).
		Unit("h").
		WithTarget(b.sql(transit, TimeSeries, `
SELECT day AS time, `+bucketQuantile(0.5, "b", "n")+` AS p50_hours, `+bucketQuantile(0.9, "b", "n")+` AS p90_hours
FROM
(
`+series("transit_per_day")+`
)
WHERE n > 0
GROUP BY day
ORDER BY day`, cols("time Date", "p50_hours Float64", "p90_hours Float64"), true)))

	const byCarrier = "Volume by carrier"
	b.add(barchart.NewPanelBuilder().
		Title(byCarrier).
		Description("Deliveries and exceptions of each carrier in the time range.").
		Datasource(clickhouse()).
		GridPos(b.place(12, 8)).
		XField("carrier").
		Orientation(common.VizOrientationHorizontal).
		WithTarget(b.sql(byCarrier, Table, `
SELECT carrier, sum(delivered) AS delivered, sum(exceptions) AS exceptions
FROM `+aggregates+`
WHERE `+daysWhere+`
GROUP BY carrier
HAVING delivered != 0 OR exceptions != 0
ORDER BY delivered DESC, carrier`, cols("carrier String", "delivered Int64", "exceptions Int64"), true)))

	const perLane = "Carriers per lane"
	b.add(table.NewPanelBuilder().
		Title(perLane).
		Description("The scorecard per carrier and lane, as `shiplens report carriers` prints it. Click a lane for its transit times with this carrier.").
		Datasource(clickhouse()).
		GridPos(b.place(24, 12)).
		Filterable(true).
		Overrides(append(append(unitOf("percentunit", "on_time_rate", "exceptions_per_delivered"),
			unitOf("h", "transit_p50_hours", "transit_p90_hours", "customs_p50_hours", "customs_p90_hours")...),
			links("lane", link("Transit times of ${__data.fields.carrier} on ${__value.raw}",
				dashURL(LanesUID, []string{"service", "merchant"}, "var-carrier=${__data.fields.carrier}", "var-lane=${__value.raw}"))),
			links("carrier", link("Filter on ${__value.raw}", dashURL(CarriersUID, []string{"lane", "service", "merchant"}, "var-carrier=${__value.raw}"))))).
		WithTarget(b.sql(perLane, Table, scorecardSQL("carrier, lane", "carrier, delivered DESC, lane"),
			append(cols("carrier String", "lane String"), scorecardCols...), true)))
	return b
}
