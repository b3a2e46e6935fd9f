-- The daily aggregates rolled up over service and merchant: one row per
-- carrier, lane and day, which the scorecard and the series read whenever
-- they filter on neither service nor merchant. shipment_days has a row for
-- every carrier, lane, service, merchant and day with a shipment, nearly
-- one per two shipments on a wide merchant base; this table has one per
-- carrier, lane and day, so a full-history scorecard reads thousands of
-- rows instead of millions.
--
-- A materialized view fills it from every insert into shipment_days, in
-- the same INSERT: the changes, and the position rows with them, reach
-- both tables or, if the insert fails before its data is written, neither.
-- Stop the processors while this migration runs: the copy of what
-- shipment_days already holds and the view start one after the other.
CREATE TABLE IF NOT EXISTS carrier_days
(
    day Date,
    carrier String,
    lane String,
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
ORDER BY (day, carrier, lane);

-- The copy runs only while carrier_days is empty, so that running this
-- migration again does not count twice.
INSERT INTO carrier_days (day, carrier, lane, delivered, with_promise, on_time, exceptions,
    exc_customs_held, exc_delivery_failed, exc_returned, exc_exception,
    transitMap.bucket, transitMap.n, customsMap.bucket, customsMap.n, sink_offset)
SELECT day, carrier, lane, sum(delivered), sum(with_promise), sum(on_time), sum(exceptions),
    sum(exc_customs_held), sum(exc_delivery_failed), sum(exc_returned), sum(exc_exception),
    (sumMap(transitMap.bucket, transitMap.n) AS transit).1, transit.2,
    (sumMap(customsMap.bucket, customsMap.n) AS customs).1, customs.2,
    sum(sink_offset)
FROM shipment_days
WHERE (SELECT count() FROM carrier_days) = 0
GROUP BY day, carrier, lane;

-- The view projects each inserted row onto carrier, lane and day;
-- SummingMergeTree folds rows with the same key as it merges parts, and
-- readers sum, as for shipment_days.
CREATE MATERIALIZED VIEW IF NOT EXISTS carrier_days_mv TO carrier_days AS
SELECT day, carrier, lane, delivered, with_promise, on_time, exceptions,
    exc_customs_held, exc_delivery_failed, exc_returned, exc_exception,
    transitMap.bucket, transitMap.n, customsMap.bucket, customsMap.n, sink_offset
FROM shipment_days;
