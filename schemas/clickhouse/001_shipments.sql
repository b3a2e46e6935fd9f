-- One row per version of a shipment's state. The processor writes a new row
-- whenever a shipment's figures change; readers take the row with the highest
-- version per tracking_number (argMax), so a retried or replayed batch, which
-- repeats the same (tracking_number, version) rows, never double-counts.
-- ReplacingMergeTree folds old versions away in the background.
-- The state columns (id_*, lane_*, promise_*, last_key, early_out) let a
-- processor restore a partition's state from this table alone.
CREATE TABLE IF NOT EXISTS shipments
(
    tracking_number String,
    partition UInt16,
    carrier String,
    service String,
    merchant String,
    lane String,
    origin_country String,
    destination_country String,
    status String,
    category String,
    first_at DateTime,
    start_at DateTime,
    picked_up_at DateTime,
    active_at DateTime,
    delivered_at DateTime,
    exception_at DateTime,
    customs_in_at DateTime,
    customs_out_at DateTime,
    promised_at DateTime,
    last_at DateTime,
    delivered UInt8,
    delivered_day Date,
    transit_hours Float64,
    transit_bucket Int16,
    has_promise UInt8,
    on_time UInt8,
    entered_customs UInt8,
    customs_done UInt8,
    customs_dwell_hours Float64,
    customs_bucket Int16,
    has_exception UInt8,
    exception_day Date,
    id_at Int64,
    id_key Int64,
    lane_at Int64,
    lane_key Int64,
    promise_at Int64,
    promise_key Int64,
    last_key Int64,
    early_out Array(Int64),
    version UInt32,
    updated_at DateTime
)
ENGINE = ReplacingMergeTree(version)
ORDER BY tracking_number;
