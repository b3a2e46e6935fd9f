package dashboards

import (
	"fmt"
	"math"
	"strings"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/store"
)

// The SQL pieces the dashboards share. Every query must run on ClickHouse
// 18.16 and current releases: no toStartOfInterval ($__timeInterval), no
// functions newer than 18.16, explicit casts where the two would type a
// result differently.

// aggregates is where a panel names the daily aggregates table: the hidden
// variable of that name.
const aggregates = "${aggregates}"

// aggregatesSQL picks the table: $__conditionalAll(0, $v) is 0 while v is
// filtered and 1=1 on All, so carrier_days answers exactly when neither
// service nor merchant is filtered, and shipment_days, which has both
// columns, otherwise.
const aggregatesSQL = `SELECT if(($__conditionalAll(0, $service)) AND ($__conditionalAll(0, $merchant)), 'carrier_days', 'shipment_days') AS aggregates`

// The variables' options: the values seen in the time range.
const (
	carrierOptionsSQL = `SELECT DISTINCT carrier
FROM carrier_days
WHERE $__dateFilter(day) AND carrier != ''
ORDER BY carrier`
	laneOptionsSQL = `SELECT DISTINCT lane
FROM carrier_days
WHERE $__dateFilter(day) AND carrier != '' AND lane != ''
    AND $__conditionalAll(carrier IN (${carrier:singlequote}), $carrier)
ORDER BY lane`
	serviceOptionsSQL = `SELECT DISTINCT service
FROM shipment_days
WHERE $__dateFilter(day) AND carrier != '' AND service != ''
    AND $__conditionalAll(carrier IN (${carrier:singlequote}), $carrier)
ORDER BY service`
	merchantOptionsSQL = `SELECT DISTINCT merchant
FROM shipment_days
WHERE $__dateFilter(day) AND carrier != '' AND merchant != ''
ORDER BY merchant`
)

// in is the filter of column by variable v: nothing (1=1) on All.
func in(column, v string) string {
	return fmt.Sprintf("$__conditionalAll(%s IN (${%s:singlequote}), $%s)", column, v, v)
}

// labelFilters filters rows on the four label variables.
var labelFilters = strings.Join([]string{in("carrier", "carrier"), in("lane", "lane"), in("service", "service"), in("merchant", "merchant")}, "\n    AND ")

// daysWhere selects the rows of the daily aggregates in the time range
// that match the variables; carrier != ” leaves out the sink's position
// rows. On carrier_days the service and merchant filters are always 1=1
// (aggregatesSQL), so their columns are never named there.
var daysWhere = "$__dateFilter(day) AND carrier != ''\n    AND " + labelFilters

// series returns store's dashboard series name over the selected
// aggregates and filters.
func series(name string) string { return store.SeriesSQL(name, aggregates, daysWhere) }

// dayBucket is the first day of the time bucket of day: one day, or
// $__interval_s rounded down to whole days when that is longer. toUInt32
// of a Date is its day number, so this is the same in every time zone.
const dayBucket = "toDate('1970-01-01') + intDiv(toUInt32(day), greatest(intDiv($__interval_s, 86400), 1)) * greatest(intDiv($__interval_s, 86400), 1)"

// timeBucket is the start of the $__interval_s bucket of the DateTime
// column c, at least min seconds long (toStartOfInterval is newer than 18.16).
func timeBucket(c string, min int) string {
	n := "$__interval_s"
	if min > 1 {
		n = fmt.Sprintf("greatest($__interval_s, %d)", min)
	}
	return fmt.Sprintf("toDateTime(intDiv(toUInt32(%s), %s) * %s)", c, n, n)
}

// bucketValue is the value, in hours, that represents the sketch bucket b
// (analytics.BucketValue), naming b alias inside the expression so that it
// is written once.
func bucketValue(b, alias string) string {
	return fmt.Sprintf("if((%s AS %s) = %d, 0, 2 * pow(%g, %s + 1) / %g)", b, alias, analytics.ZeroBucket, analytics.Gamma, alias, analytics.Gamma+1)
}

// bucketQuantile is the nearest-rank q-quantile, in hours, over rows of
// sketch buckets b with counts n (which must be positive): the bucket of
// rank ceil(q * sum(n)), as analytics.Sketch.Quantile. quantileExactWeighted
// is that rank on every release.
func bucketQuantile(q float64, b, n string) string {
	return bucketValue(fmt.Sprintf("quantileExactWeighted(%g)(%s, toUInt64(%s))", q, b, n), quantileAlias(b, q))
}

// sketchQuantile is the nearest-rank q-quantile, in hours, of a summed
// sketch sk (sumMap(m.bucket, m.n): its buckets ascending and their
// counts), NULL when it is empty: the first bucket whose cumulative count
// reaches ceil(q * total). It avoids the ARRAY JOIN that bucketQuantile
// needs, which takes about twice as long (see store's scorecard).
func sketchQuantile(sk string, q float64) string {
	total := "arraySum(" + sk + ".2)"
	// arrayElement, not sk.1[...]: 18.16 cannot parse a subscript after .1.
	first := fmt.Sprintf("arrayElement(%s.1, arrayFirstIndex(c -> c >= ceil(%g * %s), arrayCumSum(%s.2)))", sk, q, total, sk)
	return fmt.Sprintf("if(%s <= 0, NULL, %s)", total, bucketValue(first, quantileAlias(sk, q)))
}

// quantileAlias names the bucket of the q-quantile of x inside its
// expression, e.g. transit_q90.
func quantileAlias(x string, q float64) string {
	return fmt.Sprintf("%s_q%d", x, int(math.Round(q*100)))
}

// ratio is a / b, NULL when b is 0.
func ratio(a, b string) string { return fmt.Sprintf("if(%s = 0, NULL, %s / %s)", b, a, b) }

// scorecardSQL returns one row per group (carrier, or carrier and lane, or
// lane) of the selected aggregates: the scorecard's counts, rates and
// quantiles. order is its ORDER BY.
func scorecardSQL(group, order string) string {
	return `SELECT ` + group + `, delivered, with_promise, on_time,
    ` + ratio("on_time", "with_promise") + ` AS on_time_rate,
    ` + sketchQuantile("transit", 0.5) + ` AS transit_p50_hours,
    ` + sketchQuantile("transit", 0.9) + ` AS transit_p90_hours,
    ` + sketchQuantile("customs", 0.5) + ` AS customs_p50_hours,
    ` + sketchQuantile("customs", 0.9) + ` AS customs_p90_hours,
    exceptions, ` + ratio("exceptions", "delivered") + ` AS exceptions_per_delivered
FROM
(
    SELECT ` + group + `, sum(delivered) AS delivered, sum(with_promise) AS with_promise, sum(on_time) AS on_time,
        sum(exceptions) AS exceptions,
        sumMap(transitMap.bucket, transitMap.n) AS transit, sumMap(customsMap.bucket, customsMap.n) AS customs
    FROM ` + aggregates + `
    WHERE ` + daysWhere + `
    GROUP BY ` + group + `
    HAVING delivered != 0 OR exceptions != 0
)
ORDER BY ` + order
}

// scorecardCols are the columns of scorecardSQL after its group.
var scorecardCols = cols("delivered Int64", "with_promise Int64", "on_time Int64", "on_time_rate Nullable(Float64)",
	"transit_p50_hours Nullable(Float64)", "transit_p90_hours Nullable(Float64)",
	"customs_p50_hours Nullable(Float64)", "customs_p90_hours Nullable(Float64)",
	"exceptions Int64", "exceptions_per_delivered Nullable(Float64)")

// latestAlertsSQL selects the latest state of each alert opened in the
// time range, with hours from opening to resolution. FINAL folds each
// alert's transitions to the one with the highest seq (alerts is a
// ReplacingMergeTree(seq) by alert_id), as a complete merge would: the
// same answer as store's LIMIT 1 BY alert_id, whatever the merges, at a
// third of its cost. Filtering opened_at before the fold is safe: every
// transition of an alert has its opened_at (part of its identity), which
// also limits the read to the months of the range. Filters on anything
// else belong outside this query, after the fold.
const latestAlertsSQL = `SELECT alert_id, type, tier, state, tracking_number, carrier, service, lane, merchant, status,
        opened_at, resolved_at, last_event_at, detail,
        (toInt64(toUInt32(resolved_at)) - toInt64(toUInt32(opened_at))) / 3600 AS hours
    FROM alerts FINAL
    WHERE $__timeFilter(opened_at)`

// url of a dashboard with the time range and the variables not named in set.
func dashURL(uid string, keep []string, set ...string) string {
	parts := []string{"${__url_time_range}"}
	for _, v := range keep {
		parts = append(parts, "${"+v+":queryparam}")
	}
	return "/d/" + uid + "?" + strings.Join(append(parts, set...), "&")
}
