-- ETA predictions (package analytics/eta), their outcomes and the model
-- snapshots; see "ETA tables" in package store. Every time is a DateTime
-- (UTC seconds), 1970-01-01 00:00:00 for none.
--
-- The current prediction of each shipment, and for a delivered one a final
-- row (status and basis 'delivered', p10 = p50 = p90 = its delivery): what
-- planners look up by tracking number and the export streams. Readers take
-- the row with the highest rev per tracking number (argMax), so a
-- retried batch or a row older than the stored one never shows. Granules of
-- 1024 rows make a lookup read an eighth of the default.
CREATE TABLE IF NOT EXISTS eta_latest
(
    tracking_number String,
    carrier String,
    service String,
    lane String,
    merchant String,
    status String,
    milestone String,
    as_of DateTime,
    p10 DateTime,
    p50 DateTime,
    p90 DateTime,
    promised_at DateTime,
    model_version DateTime,
    basis String,
    rev UInt64,
    start DateTime,
    learn DateTime
)
ENGINE = ReplacingMergeTree(rev)
ORDER BY tracking_number
SETTINGS index_granularity = 1024;

-- Every prediction, one row per shipment, event time, milestone and learn
-- day (learn in the key: a change that keeps the latest scan, such as a late
-- promise, predicts again at the same as_of, and the model counts that scan
-- at its first learn day, which merges must not take away): a
-- rewritten (retried) batch repeats the same keys, which readers collapse
-- (GROUP BY or LIMIT 1 BY the key, the highest rev) without waiting for
-- merges. Monthly partitions let a query that bounds as_of skip the months
-- outside its range; within them, the tracking numbers of the shipments it
-- reads select granules through the sorting key.
CREATE TABLE IF NOT EXISTS eta_history
(
    tracking_number String,
    carrier String,
    service String,
    lane String,
    merchant String,
    status String,
    milestone String,
    as_of DateTime,
    p10 DateTime,
    p50 DateTime,
    p90 DateTime,
    promised_at DateTime,
    model_version DateTime,
    basis String,
    rev UInt64,
    start DateTime,
    learn DateTime
)
ENGINE = ReplacingMergeTree(rev)
PARTITION BY toYYYYMM(as_of)
ORDER BY (tracking_number, as_of, milestone, learn);

-- One row per delivered shipment and learn day, written at delivery (the
-- model learns a shipment from its first row, which merges must therefore
-- not take away); a later write with a higher rev (a late, earlier
-- delivered event) supersedes it, and readers take argMax(..., rev) per
-- tracking number. Monthly partitions by delivery
-- let the accuracy and learning queries read the months around their range
-- only; two rows of one shipment in different months are never merged,
-- which readers do not need.
CREATE TABLE IF NOT EXISTS eta_outcomes
(
    tracking_number String,
    carrier String,
    service String,
    lane String,
    merchant String,
    start DateTime,
    delivered_at DateTime,
    promised_at DateTime,
    rev UInt64,
    learn DateTime
)
ENGINE = ReplacingMergeTree(rev)
PARTITION BY toYYYYMM(delivered_at)
ORDER BY (tracking_number, learn);

-- Model snapshots (binary, up to megabytes each), one per version; the
-- latest version is what a processor loads. A granule per row, so that
-- reading one snapshot does not read its neighbours' blobs.
CREATE TABLE IF NOT EXISTS eta_models
(
    version DateTime,
    built_at DateTime,
    model String
)
ENGINE = ReplacingMergeTree
ORDER BY version
SETTINGS index_granularity = 1;

-- Per Kafka partition, the latest model version whose content the
-- partition has written in full (eta.Complete): a processor builds version
-- v once every partition that holds aggregates positions has reached v.
CREATE TABLE IF NOT EXISTS eta_progress
(
    partition UInt16,
    version DateTime
)
ENGINE = ReplacingMergeTree(version)
ORDER BY partition;
