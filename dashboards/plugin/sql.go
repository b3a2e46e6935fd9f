package plugin

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shiplens/shiplens/store"
)

// The plugin's own SQL: what package store has no query for. Values are
// inlined as numbers or quoted literals built here, never taken as text
// from a request. Every statement runs on ClickHouse 18.16 and on current
// releases.

// quote returns s as a ClickHouse string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func dateTime(sec int64) string { return "toDateTime(" + strconv.FormatInt(max(sec, 0), 10) + ")" }

// schemaVersion returns the highest migration recorded in schema_migrations.
func schemaVersion(ctx context.Context, st *store.Store) (uint32, error) {
	var v uint32
	if err := st.Conn().QueryRow(ctx, "SELECT toUInt32(max(version)) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("cannot read the schema version: %w", err)
	}
	return v, nil
}

// labelsSQL selects the distinct values of column (carrier or lane) in the
// carrier rollup, optionally of one carrier and of the delivery days from
// from to to. Position rows have an empty carrier.
func labelsSQL(column, carrier string, from, to time.Time) string {
	w := []string{"carrier != ''", column + " != ''"}
	if carrier != "" {
		w = append(w, "carrier = "+quote(carrier))
	}
	if !from.IsZero() {
		w = append(w, "day >= toDate('"+from.UTC().Format(time.DateOnly)+"')")
	}
	if !to.IsZero() {
		w = append(w, "day <= toDate('"+to.UTC().Format(time.DateOnly)+"')")
	}
	return "SELECT DISTINCT " + column + " FROM carrier_days WHERE " + strings.Join(w, " AND ") + " ORDER BY " + column
}

// labels runs labelsSQL.
func labels(ctx context.Context, st *store.Store, column, carrier string, from, to time.Time) ([]string, error) {
	rows, err := st.Conn().Query(ctx, labelsSQL(column, carrier, from, to))
	if err != nil {
		return nil, fmt.Errorf("cannot query the %ss: %w", column, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("cannot read the %ss: %w", column, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// statRow is what one partition of one processor did in one bucket of
// pipeline_stats: its events, and its lag at its latest flush there.
type statRow struct {
	T         uint32 // bucket start, Unix seconds
	Processor string
	Partition uint16
	Events    uint64
	Lag       int64
}

// statsSQL sums pipeline_stats per bucket of step seconds, processor and
// partition, over the buckets from..to (Unix seconds, multiples of step,
// inclusive). The table is sorted and partitioned by at, so the query reads
// the range only.
func statsSQL(from, to, step uint32) string {
	s := strconv.FormatUint(uint64(step), 10)
	return "SELECT toUInt32(intDiv(toUInt32(at), " + s + ") * " + s + ") AS t, processor, partition, toUInt64(sum(events)), argMax(lag, at)" +
		" FROM pipeline_stats WHERE at >= " + dateTime(int64(from)) + " AND at < " + dateTime(int64(to)+int64(step)) +
		" GROUP BY t, processor, partition ORDER BY t, processor, partition"
}

// stats runs statsSQL.
func stats(ctx context.Context, st *store.Store, from, to, step uint32) ([]statRow, error) {
	rows, err := st.Conn().Query(ctx, statsSQL(from, to, step))
	if err != nil {
		return nil, fmt.Errorf("cannot query pipeline_stats: %w", err)
	}
	defer rows.Close()
	var out []statRow
	for rows.Next() {
		var r statRow
		if err := rows.Scan(&r.T, &r.Processor, &r.Partition, &r.Events, &r.Lag); err != nil {
			return nil, fmt.Errorf("cannot read pipeline_stats: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// transition is one row of the alerts table as the alerts stream sends it.
type transition struct {
	At, OpenedAt, ResolvedAt                                         time.Time
	AlertID, TransitionID, Change                                    string
	Seq                                                              uint32
	Type, Rule, Tier, State                                          string
	TrackingNumber, Carrier, Service, Lane, Merchant, Status, Detail string
}

const transitionColumns = "at, opened_at, resolved_at, alert_id, transition_id, change, seq, type, rule, tier, state, " +
	"tracking_number, carrier, service, lane, merchant, status, detail"

func (t *transition) dest() []any {
	return []any{&t.At, &t.OpenedAt, &t.ResolvedAt, &t.AlertID, &t.TransitionID, &t.Change, &t.Seq, &t.Type, &t.Rule, &t.Tier, &t.State,
		&t.TrackingNumber, &t.Carrier, &t.Service, &t.Lane, &t.Merchant, &t.Status, &t.Detail}
}

// transitionsSQL selects up to limit rows of alerts after the key (at,
// transition_id) = (after, afterID), in that order. A transition written
// twice (a retried batch) comes back twice; the stream drops repeats.
// alerts is sorted by alert_id, so the condition on at reads that column
// of every part: the cost of a poll grows with the alerts stored, which
// are far fewer than events.
func transitionsSQL(after int64, afterID string, limit int) string {
	at := dateTime(after)
	return "SELECT " + transitionColumns + " FROM alerts WHERE at > " + at + " OR (at = " + at + " AND transition_id > " + quote(afterID) + ")" +
		" ORDER BY at, transition_id LIMIT " + strconv.Itoa(limit)
}

// latestAlertAt returns the latest at in alerts (1970 when empty).
func latestAlertAt(ctx context.Context, st *store.Store) (time.Time, error) {
	var t time.Time
	if err := st.Conn().QueryRow(ctx, "SELECT max(at) FROM alerts").Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("cannot query alert transitions: %w", err)
	}
	return t.UTC(), nil
}

// latestTransitionsSQL selects the latest limit transitions, newest first.
func latestTransitionsSQL(limit int) string {
	return "SELECT " + transitionColumns + " FROM alerts ORDER BY at DESC, transition_id DESC LIMIT " + strconv.Itoa(limit)
}

// transitions runs a query of transitionColumns.
func transitions(ctx context.Context, st *store.Store, query string) ([]transition, error) {
	rows, err := st.Conn().Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("cannot query alert transitions: %w", err)
	}
	defer rows.Close()
	var out []transition
	for rows.Next() {
		var t transition
		if err := rows.Scan(t.dest()...); err != nil {
			return nil, fmt.Errorf("cannot read alert transitions: %w", err)
		}
		t.At, t.OpenedAt, t.ResolvedAt = t.At.UTC(), t.OpenedAt.UTC(), t.ResolvedAt.UTC()
		out = append(out, t)
	}
	return out, rows.Err()
}
