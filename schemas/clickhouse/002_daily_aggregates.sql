-- Daily aggregates, and shipment facts laid out for restore and lookups.
--
-- shipment_facts replaces shipments (001), which is no longer written; this
-- migration copies its latest versions over, so history is kept, and the
-- old table can be dropped once you no longer need it. It is sorted by
-- (partition, tracking_number), so that a partition's restore reads only
-- that partition and a lookup of one shipment reads a granule. closed and
-- the four first-exception times by type are new.
CREATE TABLE IF NOT EXISTS shipment_facts
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
    customs_held_at DateTime,
    delivery_failed_at DateTime,
    returned_at DateTime,
    other_exception_at DateTime,
    closed UInt8,
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
ORDER BY (partition, tracking_number);

-- One row per carrier, lane, service, merchant and UTC day: what the
-- dashboards, reports and GET /v1/carriers read. Every count is a sum of
-- signed changes (a shipment that moves to another day adds -1 to the old
-- day and +1 to the new one), which SummingMergeTree folds together; the
-- *Map columns are sketch buckets (gamma 1.02) summed per bucket. Readers
-- always sum, so unmerged parts never matter.
--
-- Rows with day 1970-01-01 and carrier '' are not aggregates: they are the
-- sink's positions, one per Kafka partition (lane holds its number), and
-- sink_offset sums to the offset before which that partition's events are
-- in the aggregates. A write carries its positions in the same insert as
-- its changes, so both land or neither does; see package store.
CREATE TABLE IF NOT EXISTS shipment_days
(
    day Date,
    carrier String,
    lane String,
    service String,
    merchant String,
    delivered Int64,
    with_promise Int64,
    on_time Int64,
    exceptions Int64,
    exc_customs_held Int64,
    exc_delivery_failed Int64,
    exc_returned Int64,
    exc_exception Int64,
    transitMap Nested(bucket Int16, n Int64),
    customsMap Nested(bucket Int16, n Int64),
    sink_offset Int64
)
ENGINE = SummingMergeTree
ORDER BY (day, carrier, lane, service, merchant);

-- Upgrade: the latest version of every shipment of 001's table. Repeating
-- this insert is harmless (ReplacingMergeTree, same versions). 001 kept only
-- the first exception, not its type: it is attributed to the latest status
-- when that is an exception status, else to exception.
INSERT INTO shipment_facts (tracking_number, partition, carrier, service, merchant, lane,
    origin_country, destination_country, status, category, first_at, start_at, picked_up_at,
    active_at, delivered_at, exception_at, customs_in_at, customs_out_at, promised_at, last_at,
    delivered, delivered_day, transit_hours, transit_bucket, has_promise, on_time,
    entered_customs, customs_done, customs_dwell_hours, customs_bucket, has_exception,
    exception_day, customs_held_at, delivery_failed_at, returned_at, other_exception_at, closed,
    id_at, id_key, lane_at, lane_key, promise_at, promise_key, last_key, early_out, version, updated_at)
SELECT tracking_number, partition, carrier, service, merchant, lane,
    origin_country, destination_country, status, category, first_at, start_at, picked_up_at,
    active_at, delivered_at, exception_at, customs_in_at, customs_out_at, promised_at, last_at,
    delivered, delivered_day, transit_hours, transit_bucket, has_promise, on_time,
    entered_customs, customs_done, customs_dwell_hours, customs_bucket, has_exception,
    exception_day,
    if(status = 'customs_held', exception_at, toDateTime(0)),
    if(status = 'delivery_failed', exception_at, toDateTime(0)),
    if(status = 'returned', exception_at, toDateTime(0)),
    if(has_exception = 1 AND status NOT IN ('customs_held', 'delivery_failed', 'returned'), exception_at, toDateTime(0)),
    if(delivered = 1 OR status = 'returned', 1, 0),
    id_at, id_key, lane_at, lane_key, promise_at, promise_key, last_key, early_out, max_version, updated_at
FROM
(
    SELECT tracking_number,
        argMax(partition, version) AS partition, argMax(carrier, version) AS carrier,
        argMax(service, version) AS service, argMax(merchant, version) AS merchant,
        argMax(lane, version) AS lane, argMax(origin_country, version) AS origin_country,
        argMax(destination_country, version) AS destination_country,
        argMax(status, version) AS status, argMax(category, version) AS category,
        argMax(first_at, version) AS first_at, argMax(start_at, version) AS start_at,
        argMax(picked_up_at, version) AS picked_up_at, argMax(active_at, version) AS active_at,
        argMax(delivered_at, version) AS delivered_at, argMax(exception_at, version) AS exception_at,
        argMax(customs_in_at, version) AS customs_in_at, argMax(customs_out_at, version) AS customs_out_at,
        argMax(promised_at, version) AS promised_at, argMax(last_at, version) AS last_at,
        argMax(delivered, version) AS delivered, argMax(delivered_day, version) AS delivered_day,
        argMax(transit_hours, version) AS transit_hours, argMax(transit_bucket, version) AS transit_bucket,
        argMax(has_promise, version) AS has_promise, argMax(on_time, version) AS on_time,
        argMax(entered_customs, version) AS entered_customs, argMax(customs_done, version) AS customs_done,
        argMax(customs_dwell_hours, version) AS customs_dwell_hours,
        argMax(customs_bucket, version) AS customs_bucket, argMax(has_exception, version) AS has_exception,
        argMax(exception_day, version) AS exception_day, argMax(id_at, version) AS id_at,
        argMax(id_key, version) AS id_key, argMax(lane_at, version) AS lane_at,
        argMax(lane_key, version) AS lane_key, argMax(promise_at, version) AS promise_at,
        argMax(promise_key, version) AS promise_key, argMax(last_key, version) AS last_key,
        argMax(early_out, version) AS early_out, max(version) AS max_version,
        argMax(updated_at, version) AS updated_at
    FROM shipments
    GROUP BY tracking_number
);

-- Upgrade: the aggregates of the copied shipments, one row per shipment and
-- day it counts on (its delivery day, the day of its first exception, and
-- the day of each exception type), which SummingMergeTree folds together.
-- It runs only while shipment_days holds nothing, so a migration that
-- failed after it and runs again does not count twice.
INSERT INTO shipment_days (day, carrier, lane, service, merchant, delivered, with_promise, on_time,
    exceptions, exc_customs_held, exc_delivery_failed, exc_returned, exc_exception,
    transitMap.bucket, transitMap.n, customsMap.bucket, customsMap.n, sink_offset)
SELECT toDate('1970-01-01') + intDiv(toUInt32(at), 86400), carrier, lane, service, merchant,
    toInt64(piece = 1), toInt64(piece = 1 AND has_promise = 1), toInt64(piece = 1 AND has_promise = 1 AND on_time = 1),
    toInt64(piece = 2), toInt64(piece = 3), toInt64(piece = 4), toInt64(piece = 5), toInt64(piece = 6),
    if(piece = 1, [transit_bucket], emptyArrayInt16()), if(piece = 1, [toInt64(1)], emptyArrayInt64()),
    if(piece = 1 AND customs_done = 1, [customs_bucket], emptyArrayInt16()),
    if(piece = 1 AND customs_done = 1, [toInt64(1)], emptyArrayInt64()),
    toInt64(0)
FROM
(
    SELECT carrier, lane, service, merchant, has_promise, on_time, transit_bucket, customs_done, customs_bucket,
        [if(delivered = 1, delivered_at, toDateTime(0)), exception_at, customs_held_at, delivery_failed_at,
         returned_at, other_exception_at] AS ats
    FROM shipment_facts FINAL
)
ARRAY JOIN ats AS at, arrayEnumerate(ats) AS piece
WHERE at != toDateTime(0) AND (SELECT count() FROM shipment_days) = 0;
