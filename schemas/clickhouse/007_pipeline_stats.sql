-- The processor's own figures, one row per partition flush: what the
-- pipeline-health dashboard and the plugin's throughput stream read. They
-- are written to ClickHouse beside the data, so that the dashboards need no
-- other source (no Prometheus) and the panels are SQL like the others.
-- `at` is the wall clock of the flush (UTC); events, applied and rejected
-- count the messages the flush covers; lag is the partition's messages
-- behind its end at the flush; flush_ms the whole flush (publish, write,
-- commit) and insert_ms the ClickHouse write inside it; rejected by reason
-- in the nested columns.
CREATE TABLE IF NOT EXISTS pipeline_stats
(
    at DateTime,
    processor String,
    partition UInt16,
    events UInt32,
    applied UInt32,
    rejected UInt32,
    lag Int64,
    flush_ms Float64,
    insert_ms Float64,
    published UInt32,
    reasons Nested(reason String, n UInt32)
)
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(at)
ORDER BY (at, processor, partition);
