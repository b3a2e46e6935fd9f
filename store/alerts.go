package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/internal/retry"
)

// The alert tables (schemas/clickhouse/005_alerts.sql).
//
// alerts holds one row per transition of an alert (alerts.Alert): a
// ReplacingMergeTree(seq) sorted by alert_id, whose row with the highest
// seq is the alert's state. notifications holds one row per notification
// sent (alerts.Notification), a ReplacingMergeTree sorted by Kafka
// partition, tracking number and notification id. Both are written with
// deterministic keys, so a retried batch repeats rows that merges fold
// away; until then every read collapses them itself (LIMIT 1 BY the key,
// the highest seq first), so writing the same records again changes no
// answer. Their columns are defined once, below, as the ETA tables' are in
// eta.go; etaFailed checks them the same way.
//
// What they cost:
//
//   - The alerts are partitioned by month of opened_at, which is part of an
//     alert's identity (alerts.AlertID hashes it), so all transitions of an
//     alert share a partition. ListAlerts and the summary with a range of
//     opened_at read the months of that range only; their deduplication
//     sorts the transitions read, spilling to disk past spillBytes.
//   - OpenAlerts, run when a partition owner is assigned, reads four narrow
//     columns (partition, alert_id, seq, state) of every alert to find the
//     partition's open ones, then the full rows of those only, through the
//     sorting key. Its cost grows with the alerts ever opened, not with the
//     notifications or the events, and alerts are far fewer than either.
//   - Notified reads the months of notifications since its bound, and in
//     them the granules of one Kafka partition (the sorting key's prefix),
//     without the subject and body.
const (
	alertsTable        = "alerts"
	notificationsTable = "notifications"
)

// The alert tables join the ETA tables' schema list, so that etaFailed (and
// insertETA and etaQuery, which call it) says how one of them differs from
// what this build writes, wrapping ErrSchemaMismatch.
func init() {
	etaSchema[alertsTable] = columnDefs(alertColumns)
	etaSchema[notificationsTable] = columnDefs(notificationColumns)
}

// maxDateTime is the last second a DateTime holds (2106-02-07).
const maxDateTime = math.MaxUint32

// dateTimeOf returns t as a DateTime value: whole UTC seconds, and
// 1970-01-01 00:00:00 for the zero time (none).
func dateTimeOf(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return time.Unix(t.Unix(), 0).UTC()
}

// timeOf is the inverse of dateTimeOf: 1970-01-01 00:00:00 is the zero time.
func timeOf(v time.Time) time.Time {
	if v.Unix() <= 0 {
		return time.Time{}
	}
	return v.UTC()
}

// checkTime reports a time that a DateTime cannot hold: one before
// 1970-01-01 00:00:01 or after 2106-02-07, other than the zero time (none).
func checkTime(name string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if sec := t.Unix(); sec < 1 || sec > maxDateTime {
		return fmt.Errorf("%s %s is outside ClickHouse's DateTime range (1970 to 2106)", name, t.Format(time.RFC3339))
	}
	return nil
}

// textCol builds a String column over a string field of R, or of a string
// type such as alerts.Type.
func textCol[R any, S ~string](name string, field func(r *R) *S) etaColumn[R] {
	return etaCol(name, "String",
		func(r *R) string { return string(*field(r)) },
		func(r *R, v string) error { *field(r) = S(v); return nil })
}

// timeCol builds a DateTime column over a time of R, the zero time stored
// as 1970-01-01 00:00:00 (see dateTimeOf).
func timeCol[R any](name string, field func(r *R) *time.Time) etaColumn[R] {
	return etaCol(name, "DateTime",
		func(r *R) time.Time { return dateTimeOf(*field(r)) },
		func(r *R, v time.Time) error { *field(r) = timeOf(v); return nil })
}

// partitionCol builds the UInt16 column of a Kafka partition; writers check
// its range first (checkPartition).
func partitionCol[R any](field func(r *R) *int) etaColumn[R] {
	return etaCol("partition", "UInt16",
		func(r *R) uint16 { return uint16(*field(r)) },
		func(r *R, v uint16) error { *field(r) = int(v); return nil })
}

// alertColumns are the columns of alerts, in migration order: every field
// of alerts.Alert. The INSERT, the batches, the SELECTs and their scans
// are read off them.
var alertColumns = []etaColumn[alerts.Alert]{
	textCol("alert_id", func(a *alerts.Alert) *string { return &a.ID }),
	textCol("transition_id", func(a *alerts.Alert) *string { return &a.TransitionID }),
	textCol("change", func(a *alerts.Alert) *alerts.Change { return &a.Change }),
	etaCol("seq", "UInt32",
		func(a *alerts.Alert) uint32 { return a.Seq },
		func(a *alerts.Alert, v uint32) error { a.Seq = v; return nil }),
	textCol("type", func(a *alerts.Alert) *alerts.Type { return &a.Type }),
	textCol("rule", func(a *alerts.Alert) *string { return &a.Rule }),
	textCol("tier", func(a *alerts.Alert) *alerts.Tier { return &a.Tier }),
	textCol("state", func(a *alerts.Alert) *alerts.State { return &a.State }),
	textCol("tracking_number", func(a *alerts.Alert) *string { return &a.TrackingNumber }),
	partitionCol(func(a *alerts.Alert) *int { return &a.Partition }),
	textCol("carrier", func(a *alerts.Alert) *string { return &a.Carrier }),
	textCol("service", func(a *alerts.Alert) *string { return &a.Service }),
	textCol("lane", func(a *alerts.Alert) *string { return &a.Lane }),
	textCol("merchant", func(a *alerts.Alert) *string { return &a.Merchant }),
	textCol("status", func(a *alerts.Alert) *string { return &a.Status }),
	textCol("milestone", func(a *alerts.Alert) *string { return &a.Milestone }),
	etaCol("attempts", "UInt32",
		func(a *alerts.Alert) uint32 { return uint32(a.Attempts) },
		func(a *alerts.Alert, v uint32) error { a.Attempts = int(v); return nil }),
	timeCol("last_event_at", func(a *alerts.Alert) *time.Time { return &a.LastEventAt }),
	timeCol("opened_at", func(a *alerts.Alert) *time.Time { return &a.OpenedAt }),
	timeCol("escalated_at", func(a *alerts.Alert) *time.Time { return &a.EscalatedAt }),
	timeCol("resolved_at", func(a *alerts.Alert) *time.Time { return &a.ResolvedAt }),
	timeCol("at", func(a *alerts.Alert) *time.Time { return &a.At }),
	etaCol("limit_hours", "Float64",
		func(a *alerts.Alert) float64 { return a.LimitHours },
		func(a *alerts.Alert, v float64) error { a.LimitHours = v; return nil }),
	textCol("detail", func(a *alerts.Alert) *string { return &a.Detail }),
	timeCol("promised_at", func(a *alerts.Alert) *time.Time { return &a.PromisedAt }),
	timeCol("predicted_at", func(a *alerts.Alert) *time.Time { return &a.PredictedAt }),
}

// notificationColumns are the columns of notifications, in migration
// order: every field of alerts.Notification.
var notificationColumns = []etaColumn[alerts.Notification]{
	textCol("notification_id", func(n *alerts.Notification) *string { return &n.ID }),
	textCol("kind", func(n *alerts.Notification) *alerts.Kind { return &n.Kind }),
	textCol("exception_type", func(n *alerts.Notification) *string { return &n.ExceptionType }),
	textCol("tracking_number", func(n *alerts.Notification) *string { return &n.TrackingNumber }),
	partitionCol(func(n *alerts.Notification) *int { return &n.Partition }),
	textCol("carrier", func(n *alerts.Notification) *string { return &n.Carrier }),
	textCol("service", func(n *alerts.Notification) *string { return &n.Service }),
	textCol("lane", func(n *alerts.Notification) *string { return &n.Lane }),
	textCol("merchant", func(n *alerts.Notification) *string { return &n.Merchant }),
	textCol("status", func(n *alerts.Notification) *string { return &n.Status }),
	textCol("locale", func(n *alerts.Notification) *string { return &n.Locale }),
	textCol("locale_source", func(n *alerts.Notification) *string { return &n.LocaleSource }),
	textCol("subject", func(n *alerts.Notification) *string { return &n.Subject }),
	textCol("body", func(n *alerts.Notification) *string { return &n.Body }),
	textCol("place", func(n *alerts.Notification) *string { return &n.Place }),
	timeCol("occurred_at", func(n *alerts.Notification) *time.Time { return &n.OccurredAt }),
	timeCol("eta", func(n *alerts.Notification) *time.Time { return &n.ETA }),
	timeCol("eta_from", func(n *alerts.Notification) *time.Time { return &n.ETAFrom }),
	timeCol("eta_to", func(n *alerts.Notification) *time.Time { return &n.ETATo }),
	timeCol("previous_eta", func(n *alerts.Notification) *time.Time { return &n.PreviousETA }),
	etaCol("attempts", "UInt32",
		func(n *alerts.Notification) uint32 { return uint32(n.Attempts) },
		func(n *alerts.Notification, v uint32) error { n.Attempts = int(v); return nil }),
}

// notifiedColumns are the notificationColumns Notified reads: all but the
// rendered subject and body, which a restore does not need.
var notifiedColumns = func() []etaColumn[alerts.Notification] {
	var out []etaColumn[alerts.Notification]
	for _, c := range notificationColumns {
		if c.name != "subject" && c.name != "body" {
			out = append(out, c)
		}
	}
	return out
}()

// checkPartition reports a Kafka partition that the UInt16 column cannot hold.
func checkPartition(p int) error {
	if p < 0 || p > math.MaxUint16 {
		return fmt.Errorf("partition %d is out of range 0 to %d", p, math.MaxUint16)
	}
	return nil
}

// checkAlert reports an alert transition that the readers could not give
// back as written, or whose state they could not tell.
func checkAlert(a *alerts.Alert) error {
	switch {
	case a.ID == "":
		return errors.New("empty alert id")
	case a.TrackingNumber == "":
		return errors.New("empty tracking number")
	case a.State != alerts.Open && a.State != alerts.Resolved:
		return fmt.Errorf("invalid state %q: want %s or %s", a.State, alerts.Open, alerts.Resolved)
	case a.OpenedAt.IsZero():
		// It is part of the alert's identity and its table partition.
		return errors.New("no opened_at")
	case a.State == alerts.Resolved && a.ResolvedAt.IsZero():
		return errors.New("resolved without resolved_at")
	case a.State == alerts.Resolved && a.ResolvedAt.Before(a.OpenedAt):
		return fmt.Errorf("resolved at %s, before it opened at %s", a.ResolvedAt.Format(time.RFC3339), a.OpenedAt.Format(time.RFC3339))
	case a.Attempts < 0 || int64(a.Attempts) > math.MaxUint32:
		return fmt.Errorf("attempts %d is out of range", a.Attempts)
	}
	if err := checkPartition(a.Partition); err != nil {
		return err
	}
	for _, t := range [...]struct {
		name string
		t    time.Time
	}{{"last_event_at", a.LastEventAt}, {"opened_at", a.OpenedAt}, {"escalated_at", a.EscalatedAt}, {"resolved_at", a.ResolvedAt},
		{"at", a.At}, {"promised_at", a.PromisedAt}, {"predicted_at", a.PredictedAt}} {
		if err := checkTime(t.name, t.t); err != nil {
			return err
		}
	}
	return nil
}

// checkNotification reports a notification that the readers could not give
// back as written.
func checkNotification(n *alerts.Notification) error {
	switch {
	case n.ID == "":
		return errors.New("empty notification id")
	case n.TrackingNumber == "":
		return errors.New("empty tracking number")
	case n.OccurredAt.IsZero():
		// Notified selects by it, and the table is partitioned by it.
		return errors.New("no occurred_at")
	case n.Attempts < 0 || int64(n.Attempts) > math.MaxUint32:
		return fmt.Errorf("attempts %d is out of range", n.Attempts)
	}
	if err := checkPartition(n.Partition); err != nil {
		return err
	}
	for _, t := range [...]struct {
		name string
		t    time.Time
	}{{"occurred_at", n.OccurredAt}, {"eta", n.ETA}, {"eta_from", n.ETAFrom}, {"eta_to", n.ETATo}, {"previous_eta", n.PreviousETA}} {
		if err := checkTime(t.name, t.t); err != nil {
			return err
		}
	}
	return nil
}

// WriteAlerts stores alert transitions as one batch, in any order: the one
// with the highest Seq of each alert ID is its state for every reader.
// Writing the same transitions again is harmless. Times are stored in whole
// seconds. An invalid transition (no ID, tracking number or OpenedAt, a
// state other than open or resolved, a resolved one without its
// ResolvedAt, or a value the columns cannot hold) fails the whole call with
// a permanent error, before anything is written.
//
// Every transition of an alert must carry the same OpenedAt (AlertID hashes
// it): the readers that bound opened_at rely on it.
func (s *Store) WriteAlerts(ctx context.Context, as []alerts.Alert) error {
	if len(as) == 0 {
		return nil
	}
	for i := range as {
		if err := checkAlert(&as[i]); err != nil {
			return retry.Permanent(fmt.Errorf("cannot write alert transition %d of %d (%q of %q): %w", i+1, len(as), as[i].ID, as[i].TrackingNumber, err))
		}
	}
	return insertETA(ctx, s, alertsTable, alertColumns, as)
}

// WriteNotifications stores sent notifications as one batch. Writing the
// same notifications again is harmless: readers take one row per ID. Times
// are stored in whole seconds. An invalid notification (no ID, tracking
// number or OccurredAt, or a value the columns cannot hold) fails the whole
// call with a permanent error, before anything is written.
func (s *Store) WriteNotifications(ctx context.Context, ns []alerts.Notification) error {
	if len(ns) == 0 {
		return nil
	}
	for i := range ns {
		if err := checkNotification(&ns[i]); err != nil {
			return retry.Permanent(fmt.Errorf("cannot write notification %d of %d (%q of %q): %w", i+1, len(ns), ns[i].ID, ns[i].TrackingNumber, err))
		}
	}
	return insertETA(ctx, s, notificationsTable, notificationColumns, ns)
}

// latestAlerts selects the alertColumns of the latest transition (the
// highest seq) of every alert with a row where cond holds, a condition
// over the alerts table that holds for all or none of an alert's rows (its
// identity: partition, opened_at, tracking_number, type). LIMIT BY over
// the sorted rows is cheaper than argMax over every column: merges leave
// few transitions per alert.
func latestAlerts(cond string) string {
	cols := columnNames(alertColumns)
	return "SELECT " + cols + " FROM " + alertsTable + " WHERE " + cond + " ORDER BY alert_id, seq DESC LIMIT 1 BY alert_id"
}

// openAlertsSQL selects the latest transition of every open alert of a
// Kafka partition. The innermost query picks them from four narrow columns
// of the partition's rows; only their rows are then read in full, through
// the sorting key. The outer WHERE drops an alert whose latest row, read
// there, is no longer open.
func openAlertsSQL(partition int) string {
	p := "partition = " + strconv.Itoa(partition)
	return "SELECT " + columnNames(alertColumns) + " FROM (" +
		latestAlerts(p+" AND alert_id IN (SELECT alert_id FROM "+alertsTable+" WHERE "+p+
			" GROUP BY alert_id HAVING argMax(state, seq) = "+quote(string(alerts.Open))+")") +
		") WHERE state = " + quote(string(alerts.Open))
}

// OpenAlerts calls fn with the latest transition of every alert of Kafka
// partition partition whose latest state is open, each once, in no
// particular order: what the partition's owner restores when it is
// assigned. It is correct before ReplacingMergeTree has merged.
func (s *Store) OpenAlerts(ctx context.Context, partition int, fn func(alerts.Alert)) error {
	if err := checkPartition(partition); err != nil {
		return retry.Permanent(fmt.Errorf("cannot read the open alerts: %w", err))
	}
	return eachRow(ctx, s, alertColumns, openAlertsSQL(partition), alertsTable, fmt.Sprintf("the open alerts of partition %d", partition), fn)
}

// notifiedSQL selects the notifiedColumns of the notifications of a Kafka
// partition that occurred at or after since (Unix seconds), each ID once,
// sorted by tracking number, occurred_at and ID.
func notifiedSQL(partition int, since int64) string {
	return "SELECT " + columnNames(notifiedColumns) + " FROM " + notificationsTable +
		" WHERE partition = " + strconv.Itoa(partition) + " AND occurred_at >= " + dateTime(since) +
		" ORDER BY tracking_number, occurred_at, notification_id LIMIT 1 BY notification_id"
}

// Notified calls fn with every notification of Kafka partition partition
// that occurred at or after since, each ID once, sorted by tracking number,
// then occurred_at: what the partition's shipments were already told. The
// notifications come without Subject and Body. The cost follows the range:
// only the months since since are read, and in them the partition's rows.
func (s *Store) Notified(ctx context.Context, partition int, since time.Time, fn func(alerts.Notification)) error {
	if err := checkPartition(partition); err != nil {
		return retry.Permanent(fmt.Errorf("cannot read the notifications: %w", err))
	}
	from := max(since.Unix(), 0) // the zero time too: all
	if from > maxDateTime {
		return nil
	}
	what := fmt.Sprintf("the notifications of partition %d since %s", partition, since.UTC().Format(time.RFC3339))
	return eachRow(spilling(ctx), s, notifiedColumns, notifiedSQL(partition, from), notificationsTable, what, fn)
}

// AlertQuery selects the alerts ListAlerts returns.
type AlertQuery struct {
	Open     bool        // only the alerts whose latest state is open
	Merchant string      // optional filter
	Type     alerts.Type // optional filter
	Carrier  string      // optional filter
	Lane     string      // optional filter, e.g. "CN-US"
	// From and To bound opened_at: From <= opened_at < To; the zero time
	// leaves that end open.
	From, To time.Time
	Limit    int // at most this many, the newest opened; 0 for all
}

// Validate reports a query that cannot be answered.
func (q AlertQuery) Validate() error {
	for _, b := range [...]struct {
		name string
		t    time.Time
	}{{"from", q.From}, {"to", q.To}} {
		if sec := b.t.Unix(); !b.t.IsZero() && (sec < 0 || sec > maxDateTime) {
			return fmt.Errorf("invalid alert query: %s %s is outside ClickHouse's DateTime range (1970 to 2106)", b.name, b.t.Format(time.RFC3339))
		}
	}
	switch {
	case !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From):
		return fmt.Errorf("invalid alert query: to %s is before from %s", q.To.UTC().Format(time.RFC3339), q.From.UTC().Format(time.RFC3339))
	case q.Limit < 0:
		return fmt.Errorf("invalid alert query: limit %d is negative", q.Limit)
	}
	return nil
}

// openedRange returns the condition on opened_at of [from, to), either end
// open when zero.
func openedRange(from, to time.Time) string {
	cond := []string{"1"}
	if !from.IsZero() {
		cond = append(cond, "opened_at >= "+dateTime(from.Unix()))
	}
	if !to.IsZero() {
		cond = append(cond, "opened_at < "+dateTime(to.Unix()))
	}
	return strings.Join(cond, " AND ")
}

// sql returns q's query: the latest transition of every alert opened in
// its range, then the filters on those (an alert's carrier, lane and
// merchant can change between transitions, as the shipment's do), newest
// opened first.
func (q AlertQuery) sql() string {
	var where []string
	if q.Open {
		where = append(where, "state = "+quote(string(alerts.Open)))
	}
	for _, f := range [...]struct{ col, v string }{{"type", string(q.Type)}, {"carrier", q.Carrier}, {"lane", q.Lane}, {"merchant", q.Merchant}} {
		if f.v != "" {
			where = append(where, f.col+" = "+quote(f.v))
		}
	}
	if len(where) == 0 {
		where = []string{"1"}
	}
	sql := "SELECT " + columnNames(alertColumns) + " FROM (" + latestAlerts(openedRange(q.From, q.To)) + ") WHERE " +
		strings.Join(where, " AND ") + " ORDER BY opened_at DESC, alert_id"
	if q.Limit > 0 {
		sql += " LIMIT " + strconv.Itoa(q.Limit)
	}
	return sql
}

// ListAlerts returns the latest state of the alerts q selects, each once,
// newest opened first (then by ID).
func (s *Store) ListAlerts(ctx context.Context, q AlertQuery) ([]alerts.Alert, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var out []alerts.Alert
	err := eachRow(spilling(ctx), s, alertColumns, q.sql(), alertsTable, "the alerts", func(a alerts.Alert) { out = append(out, a) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AlertSummarySQL is the alerts summary of the dashboards, one row per
// type, carrier, lane and merchant of the alerts opened in [%FROM%, %TO%)
// (DateTime expressions, such as toDateTime(1790812800) or Grafana's
// $__fromTime and $__toTime), each alert in its latest state: type,
// carrier, lane, merchant, opened (the alerts), resolved (those resolved
// since), open (those still open), resolve_hours_p50 and
// resolve_hours_p90 (of the resolved ones, the hours from opened_at to
// resolved_at, 0 when none is resolved). The percentiles are ClickHouse's
// quantileExact: the value at index ⌊level × n⌋ of the n sorted hours
// (counting from 0), which are exact and the same on every release. It
// reads the months of the range only.
const AlertSummarySQL = `SELECT type, carrier, lane, merchant,
    toInt64(count()) AS opened,
    toInt64(countIf(state = 'resolved')) AS resolved,
    toInt64(countIf(state = 'open')) AS open,
    if(resolved = 0, 0, quantileExactIf(0.5)(hours, state = 'resolved')) AS resolve_hours_p50,
    if(resolved = 0, 0, quantileExactIf(0.9)(hours, state = 'resolved')) AS resolve_hours_p90
FROM
(
    SELECT alert_id, seq, type, carrier, lane, merchant, state,
        (toInt64(toUInt32(resolved_at)) - toInt64(toUInt32(opened_at))) / 3600 AS hours
    FROM alerts
    WHERE opened_at >= %FROM% AND opened_at < %TO%
    ORDER BY alert_id, seq DESC
    LIMIT 1 BY alert_id
)
GROUP BY type, carrier, lane, merchant
ORDER BY type, carrier, lane, merchant`

// alertSummarySQL returns AlertSummarySQL over [from, to), either end open
// when zero.
func alertSummarySQL(from, to time.Time) string {
	f, t := int64(0), int64(maxDateTime)
	if !from.IsZero() {
		f = from.Unix()
	}
	if !to.IsZero() {
		t = to.Unix()
	}
	return strings.NewReplacer("%FROM%", dateTime(f), "%TO%", dateTime(t)).Replace(AlertSummarySQL)
}

// AlertSummaryRow counts the alerts of one type, carrier, lane and
// merchant opened in a range, each in its latest state.
type AlertSummaryRow struct {
	Type     alerts.Type `json:"type"`
	Carrier  string      `json:"carrier"`
	Lane     string      `json:"lane"`
	Merchant string      `json:"merchant"`
	Opened   int64       `json:"opened"`
	Resolved int64       `json:"resolved"` // of Opened, those resolved since
	Open     int64       `json:"open"`     // of Opened, those still open
	// Hours from opened to resolved of the resolved ones (see
	// AlertSummarySQL); nil when none is resolved.
	ResolveHoursP50 *float64 `json:"resolve_hours_p50"`
	ResolveHoursP90 *float64 `json:"resolve_hours_p90"`
}

// AlertSummary counts the alerts opened in [from, to) (either end open
// when zero), each in its latest state, per type, carrier, lane and
// merchant, sorted by them: AlertSummarySQL.
func (s *Store) AlertSummary(ctx context.Context, from, to time.Time) ([]AlertSummaryRow, error) {
	if err := (AlertQuery{From: from, To: to}).Validate(); err != nil {
		return nil, err
	}
	var out []AlertSummaryRow
	err := s.etaQuery(spilling(ctx), alertSummarySQL(from, to), []string{alertsTable}, "the alerts summary", func(scan func(...any) error) error {
		var r AlertSummaryRow
		var typ string
		var p50, p90 float64
		if err := scan(&typ, &r.Carrier, &r.Lane, &r.Merchant, &r.Opened, &r.Resolved, &r.Open, &p50, &p90); err != nil {
			return err
		}
		r.Type = alerts.Type(typ)
		if r.Resolved > 0 {
			r.ResolveHoursP50, r.ResolveHoursP90 = &p50, &p90
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachRow runs query, which selects cols from table, and calls fn with
// each row.
func eachRow[R any](ctx context.Context, s *Store, cols []etaColumn[R], query, table, what string, fn func(R)) error {
	dest := make([]any, len(cols))
	sets := make([]func(*R) error, len(cols))
	for i, c := range cols {
		dest[i], sets[i] = c.scan()
	}
	return s.etaQuery(ctx, query, []string{table}, what, func(scan func(...any) error) error {
		if err := scan(dest...); err != nil {
			return err
		}
		var r R
		for _, set := range sets {
			if err := set(&r); err != nil {
				return retry.Permanent(fmt.Errorf("cannot read %s: %w", what, err))
			}
		}
		fn(r)
		return nil
	})
}
