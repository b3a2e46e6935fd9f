-- Alerts and customer notifications (package analytics/alerts); see the
-- alert tables in package store (alerts.go). Every time is a DateTime (UTC
-- seconds), 1970-01-01 00:00:00 for none.
--
-- One row per transition of an alert (alerts.Alert), as the processor
-- publishes it to shiplens.alerts; the row with the highest seq of an
-- alert_id is the alert's state. A retried batch repeats the same
-- (alert_id, seq) rows, which merges fold away and readers collapse
-- themselves (LIMIT 1 BY alert_id over seq DESC, or FINAL) without waiting
-- for merges. opened_at is part of an alert's identity (alerts.AlertID
-- hashes it), so every transition of an alert lands in the same monthly
-- partition and a dashboard that bounds opened_at reads the months of its
-- range only.
CREATE TABLE IF NOT EXISTS alerts
(
    alert_id String,
    transition_id String,
    change String,
    seq UInt32,
    type String,
    rule String,
    tier String,
    state String,
    tracking_number String,
    partition UInt16,
    carrier String,
    service String,
    lane String,
    merchant String,
    status String,
    milestone String,
    attempts UInt32,
    last_event_at DateTime,
    opened_at DateTime,
    escalated_at DateTime,
    resolved_at DateTime,
    at DateTime,
    limit_hours Float64,
    detail String,
    promised_at DateTime,
    predicted_at DateTime
)
ENGINE = ReplacingMergeTree(seq)
PARTITION BY toYYYYMM(opened_at)
ORDER BY alert_id;

-- One row per notification sent to a shipment's customer
-- (alerts.Notification), subject and body included for audit. The id is
-- deterministic, so a retried batch repeats the same keys; readers take one
-- row per notification_id. A partition owner restoring what its shipments
-- were told reads its Kafka partition's rows (the sorting key's prefix) of
-- the months since a bound on occurred_at only.
CREATE TABLE IF NOT EXISTS notifications
(
    notification_id String,
    kind String,
    exception_type String,
    tracking_number String,
    partition UInt16,
    carrier String,
    service String,
    lane String,
    merchant String,
    status String,
    locale String,
    locale_source String,
    subject String,
    body String,
    place String,
    occurred_at DateTime,
    eta DateTime,
    eta_from DateTime,
    eta_to DateTime,
    previous_eta DateTime,
    attempts UInt32
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (partition, tracking_number, notification_id);
