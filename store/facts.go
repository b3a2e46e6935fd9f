package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/internal/retry"
)

// Fact is one version of a shipment's state, ready to be written.
type Fact = analytics.Fact

// WriteFacts inserts facts as one batch. Writing the same facts again is
// harmless: readers keep one row per (tracking_number, version). Errors that
// retrying cannot fix, such as a facts table that does not match
// factColumns, are marked retry.Permanent.
func (s *Store) WriteFacts(ctx context.Context, facts []Fact) error {
	if len(facts) == 0 {
		return nil
	}
	now := time.Now().UTC().Truncate(time.Second)
	cols := make([]any, len(factColumns)) // before PrepareBatch takes a connection
	for i, c := range factColumns {
		cols[i] = c.values(facts, now)
	}
	batch, err := s.conn.PrepareBatch(ctx, insertFacts)
	if err != nil {
		return s.failed(ctx, err, "cannot prepare insert into "+factsTable)
	}
	defer batch.Close()
	for i, col := range cols {
		if err := batch.Column(i).Append(col); err != nil {
			return s.failed(ctx, err, "cannot fill column %s of the facts batch", factColumns[i].name)
		}
	}
	if err := batch.Send(); err != nil {
		return s.failed(ctx, err, "cannot insert %d rows into %s", len(facts), factsTable)
	}
	return nil
}

// latestColumns selects, per tracking number, the columns of its highest
// version. argMax keeps the query correct on every ClickHouse release, where
// FINAL with filters has changed meaning over time.
func latestColumns(cols ...string) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "argMax(%s, version) AS %s", c, c)
	}
	return b.String()
}

// restoredSelect is the SELECT list of restoredColumns, per tracking number.
func restoredSelect() string {
	sel := make([]string, len(restoredColumns))
	for i, c := range restoredColumns {
		switch c.name {
		case "tracking_number": // the group key
			sel[i] = c.name
		case "version": // an alias named version would replace it inside every argMax
			sel[i] = "max(version) AS last_version"
		default:
			sel[i] = latestColumns(c.name)
		}
	}
	return strings.Join(sel, ", ")
}

// seconds returns d as whole seconds for SQL.
func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// keepSQL is analytics.Retention.Keep over the expressions closed and
// lastAt, with w the partition's watermark (an expression).
func keepSQL(r analytics.Retention, w, closed, lastAt string) string {
	last := "toInt64(toUInt32(" + lastAt + "))"
	open := "1"
	if r.Lost > 0 {
		open = last + " >= " + w + " - " + seconds(r.Lost)
	}
	return "if(" + closed + " = 1, " + last + " >= " + w + " - " + seconds(r.Closed) + ", " + open + ")"
}

// restoreSQL selects the latest state of the shipments of a partition that
// retention r keeps at the partition's watermark (its latest last_at): the
// restoredColumns, in their order. The innermost query picks the candidates
// from every version's last_at and closed, two narrow columns; only their
// rows are read in full, the latest version of each kept by LIMIT BY
// (cheaper than argMax over 40 columns: ReplacingMergeTree leaves few
// versions), so that the cost follows what is kept, not the history. A
// version that is kept but not the latest can make a candidate whose latest
// version is not kept: the outer WHERE drops it.
func restoreSQL(partition int, r analytics.Retention) string {
	p := strconv.Itoa(partition)
	w := "(SELECT toInt64(toUInt32(max(last_at))) FROM " + factsTable + " WHERE partition = " + p + ")"
	names := make([]string, len(restoredColumns))
	for i, c := range restoredColumns {
		names[i] = c.name
	}
	cols := strings.Join(names, ", ")
	return "SELECT " + cols + " FROM (SELECT " + cols + ", closed FROM " + factsTable +
		" WHERE partition = " + p + " AND tracking_number IN (SELECT tracking_number FROM " + factsTable +
		" WHERE partition = " + p + " AND " + keepSQL(r, w, "closed", "last_at") + ")" +
		" ORDER BY tracking_number, version DESC LIMIT 1 BY tracking_number) WHERE " + keepSQL(r, w, "closed", "last_at")
}

// lookupSQL selects the latest state of the given shipments of a partition.
func lookupSQL(partition int, trackingNumbers []string) string {
	q := make([]string, len(trackingNumbers))
	for i, tn := range trackingNumbers {
		q[i] = quote(tn)
	}
	return "SELECT " + restoredSelect() + " FROM " + factsTable + " WHERE partition = " + strconv.Itoa(partition) +
		" AND tracking_number IN (" + strings.Join(q, ", ") + ") GROUP BY tracking_number"
}

// lookupChunk bounds the tracking numbers of one lookup query. A lookup of
// random tracking numbers reads most granules of the partition whatever
// their number, so fewer, larger queries are cheaper; the query text
// (about 20 bytes a number) is allowed lookupQuerySize instead of
// ClickHouse's default max_query_size of 256 KiB. ClickHouse 18.16 also
// refuses a query of more than 50000 syntax-tree nodes (max_ast_elements):
// each number is one, and the select list about 150.
const (
	lookupChunk     = 20000
	lookupQuerySize = 8 << 20
)

// Restore calls fn with the latest stored state of every shipment written
// from Kafka partition partition that retention r keeps at the partition's
// watermark: the shipments its owner holds in memory. A shipment facts table
// that does not match what this package writes gives an error marked
// retry.Permanent that wraps ErrSchemaMismatch.
func (s *Store) Restore(ctx context.Context, partition int, r analytics.Retention, fn func(trackingNumber string, st analytics.Shipment)) error {
	return s.readStates(ctx, restoreSQL(partition, r), fmt.Sprintf("state of partition %d", partition), fn)
}

// Lookup calls fn with the latest stored state of each of trackingNumbers
// that partition's facts hold; the others have none.
func (s *Store) Lookup(ctx context.Context, partition int, trackingNumbers []string, fn func(trackingNumber string, st analytics.Shipment)) error {
	for len(trackingNumbers) > 0 {
		n := min(len(trackingNumbers), lookupChunk)
		qctx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_query_size": lookupQuerySize}))
		if err := s.readStates(qctx, lookupSQL(partition, trackingNumbers[:n]), fmt.Sprintf("%d shipments of partition %d", n, partition), fn); err != nil {
			return err
		}
		trackingNumbers = trackingNumbers[n:]
	}
	return nil
}

func (s *Store) readStates(ctx context.Context, query, what string, fn func(trackingNumber string, st analytics.Shipment)) error {
	rows, err := s.conn.Query(ctx, query)
	if err != nil {
		return s.failed(ctx, err, "cannot read %s", what)
	}
	defer rows.Close()
	dest := make([]any, len(restoredColumns))
	sets := make([]func(*restoring), len(restoredColumns))
	for i, c := range restoredColumns {
		dest[i], sets[i] = c.scan()
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return s.failed(ctx, err, "cannot read %s", what)
		}
		var r restoring
		for _, set := range sets {
			set(&r)
		}
		st, err := r.shipment()
		if err != nil {
			// A value this build cannot read will not change on retry.
			return retry.Permanent(fmt.Errorf("cannot restore shipment %s (%s): %w", r.trackingNumber, what, err))
		}
		fn(r.trackingNumber, st)
	}
	if err := rows.Err(); err != nil {
		return s.failed(ctx, err, "cannot read %s", what)
	}
	return nil
}
