package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/text"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// whyClickHouse says why the pipeline's figures come from ClickHouse.
const whyClickHouse = `The processor writes one row per partition flush to ClickHouse (pipeline_stats, beside the data it writes):
events read, applied and dead-lettered (by reason), the partition's lag, and how long the flush and its ClickHouse insert took.
These panels read that table, not Prometheus, because

* there is no other service to run, scrape or keep: Grafana already reads this ClickHouse;
* every panel is SQL like the other dashboards', which the tests run on ClickHouse 18.16 and current ClickHouse;
* the shiplens plugin streams the same table live, so a panel and the stream cannot disagree.

The processor's Prometheus metrics (` + "`--metrics-listen`" + `) stay for alerting on the process itself.`

// statsWhere selects the flushes in the time range of the selected processors.
const statsWhere = "$__timeFilter(at)\n    AND $__conditionalAll(processor IN (${processor:singlequote}), $processor)"

// pipeline is pipeline health: throughput, lag, write latency and dead
// letters of the processors.
func pipeline() *board {
	b := newBoard(PipelineUID, "pipeline.json", "Pipeline health",
		"The processors' throughput, consumer lag, ClickHouse write latency and dead-letter rate, from pipeline_stats (one row per partition flush). "+
			"Why ClickHouse and not Prometheus: no extra service to run; the panels are SQL that the tests run on both ClickHouse versions; the shiplens plugin streams the same table.")
	b.b.Time("now-6h", "now").Refresh("30s")
	b.b.WithVariable(b.queryVar("processor", "Processor", "Processes (host and pid) that flushed in the time range.", `
SELECT DISTINCT processor
FROM pipeline_stats
WHERE $__timeFilter(at)
ORDER BY processor`))

	const totals = "Over the range"
	b.add(figures().
		Title(totals).
		Description("Events read per second over the time range, the share that changed a shipment and the share dead-lettered, the 99th percentile of a flush's ClickHouse insert, and flushes.").
		Datasource(clickhouse()).
		GridPos(b.place(16, 4)).
		Overrides(append(append(unitOf("percentunit", "applied_share", "rejected_share"), unitOf("ms", "insert_p99_ms")...), unitOf("suffix: events/s", "events_per_s")...)).
		WithTarget(b.sql(totals, Table, `
SELECT sum(events) / greatest(toUInt32($__toTime) - toUInt32($__fromTime), 1) AS events_per_s,
    `+ratio("sum(applied)", "sum(events)")+` AS applied_share,
    `+ratio("sum(rejected)", "sum(events)")+` AS rejected_share,
    quantileExact(0.99)(insert_ms) AS insert_p99_ms, toInt64(count()) AS flushes
FROM pipeline_stats
WHERE `+statsWhere, cols("events_per_s Float64", "applied_share Nullable(Float64)", "rejected_share Nullable(Float64)",
			"insert_p99_ms Float64", "flushes Int64"), true)))

	const lagNow = "Lag now"
	b.add(figures().
		Title(lagNow).
		Description("Messages behind the end of their partition, summed over the partitions at their latest flush in the range, and the partitions flushing.").
		Datasource(clickhouse()).
		GridPos(b.place(8, 4)).
		WithTarget(b.sql(lagNow, Table, `
SELECT toInt64(sum(latest_lag)) AS lag, toInt64(count()) AS partitions
FROM
(
    SELECT partition, argMax(lag, at) AS latest_lag
    FROM pipeline_stats
    WHERE `+statsWhere+`
    GROUP BY partition
)`, cols("lag Int64", "partitions Int64"), true)))

	const throughput = "Events per second"
	b.add(timeseries.NewPanelBuilder().
		Title(throughput).
		Description("Messages read per second, those that changed a shipment, and those dead-lettered, per interval.").
		Datasource(clickhouse()).
		GridPos(b.place(12, 8)).
		Unit("suffix: events/s").
		WithTarget(b.sql(throughput, TimeSeries, `
SELECT `+timeBucket("at", 1)+` AS time, sum(events) / $__interval_s AS read_per_s,
    sum(applied) / $__interval_s AS applied_per_s, sum(rejected) / $__interval_s AS rejected_per_s
FROM pipeline_stats
WHERE `+statsWhere+`
GROUP BY time
ORDER BY time`, cols("time DateTime", "read_per_s Float64", "applied_per_s Float64", "rejected_per_s Float64"), true)))

	const lag = "Consumer lag by partition"
	b.add(timeseries.NewPanelBuilder().
		Title(lag).
		Description("The most messages each partition was behind its end at a flush in the interval: a partition that keeps growing is not keeping up.").
		Datasource(clickhouse()).
		GridPos(b.place(12, 8)).
		DisplayName("partition ${__field.labels.part}").
		WithTarget(b.sql(lag, TimeSeries, `
SELECT `+timeBucket("at", 1)+` AS time, toString(partition) AS part, max(lag) AS lag
FROM pipeline_stats
WHERE `+statsWhere+`
GROUP BY time, part
ORDER BY time, part`, cols("time DateTime", "part String", "lag Int64"), true)))

	const latency = "Flush and insert latency"
	b.add(timeseries.NewPanelBuilder().
		Title(latency).
		Description("Per interval: the median and 99th percentile of a flush's ClickHouse insert, and the 99th percentile of the whole flush (publish, write, commit).").
		Datasource(clickhouse()).
		GridPos(b.place(12, 8)).
		Unit("ms").
		WithTarget(b.sql(latency, TimeSeries, `
SELECT `+timeBucket("at", 1)+` AS time, quantileExact(0.5)(insert_ms) AS insert_p50_ms,
    quantileExact(0.99)(insert_ms) AS insert_p99_ms, quantileExact(0.99)(flush_ms) AS flush_p99_ms
FROM pipeline_stats
WHERE `+statsWhere+`
GROUP BY time
ORDER BY time`, cols("time DateTime", "insert_p50_ms Float64", "insert_p99_ms Float64", "flush_p99_ms Float64"), true)))

	const dlq = "Dead letters per second by reason"
	b.add(timeseries.NewPanelBuilder().
		Title(dlq).
		Description("Records the processor sent to the dead-letter queue per second, by reason (malformed_json, unknown_status, ...).").
		Datasource(clickhouse()).
		GridPos(b.place(12, 8)).
		Unit("suffix: records/s").
		DisplayName("${__field.labels.reason}").
		WithTarget(b.sql(dlq, TimeSeries, `
SELECT `+timeBucket("at", 1)+` AS time, reason, sum(n) / $__interval_s AS dead_letters_per_s
FROM pipeline_stats
ARRAY JOIN reasons.reason AS reason, reasons.n AS n
WHERE `+statsWhere+`
GROUP BY time, reason
ORDER BY time, reason`, cols("time DateTime", "reason String", "dead_letters_per_s Float64"), true)))

	const parts = "Partitions"
	b.add(table.NewPanelBuilder().
		Title(parts).
		Description("Per processor and partition over the range: flushes, events, applied and dead-lettered, the latest flush and the lag then, and the 99th percentiles of flush and insert.").
		Datasource(clickhouse()).
		GridPos(b.place(24, 9)).
		Overrides(unitOf("ms", "flush_p99_ms", "insert_p99_ms")).
		WithTarget(b.sql(parts, Table, `
SELECT processor, partition, toInt64(count()) AS flushes, toInt64(sum(events)) AS events, toInt64(sum(applied)) AS applied,
    toInt64(sum(rejected)) AS rejected, max(at) AS last_flush, argMax(lag, at) AS lag_then,
    quantileExact(0.99)(flush_ms) AS flush_p99_ms, quantileExact(0.99)(insert_ms) AS insert_p99_ms
FROM pipeline_stats
WHERE `+statsWhere+`
GROUP BY processor, partition
ORDER BY processor, partition`, cols("processor String", "partition UInt16", "flushes Int64", "events Int64", "applied Int64", "rejected Int64",
			"last_flush DateTime", "lag_then Int64", "flush_p99_ms Float64", "insert_p99_ms Float64"), true)))

	b.add(text.NewPanelBuilder().
		Title("Why these figures come from ClickHouse").
		GridPos(b.place(24, 6)).
		Mode(text.TextModeMarkdown).
		Content(whyClickHouse))
	return b
}
