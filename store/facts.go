package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/internal/retry"
)

// Fact is one version of a shipment's state, ready to be written.
type Fact = analytics.Fact

// WriteFacts inserts facts as one batch. Writing the same facts again is
// harmless: readers keep one row per (tracking_number, version). Errors that
// retrying cannot fix, such as a shipments table that does not match
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
		return s.failed(ctx, err, "cannot prepare insert into shipments")
	}
	defer batch.Close()
	for i, col := range cols {
		if err := batch.Column(i).Append(col); err != nil {
			return s.failed(ctx, err, "cannot fill column %s of shipments batch", factColumns[i].name)
		}
	}
	if err := batch.Send(); err != nil {
		return s.failed(ctx, err, "cannot insert %d rows into shipments", len(facts))
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

// restoreSQL selects the latest state of a partition's shipments: the
// restoredColumns, in their order.
func restoreSQL(partition int) string {
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
	return "SELECT " + strings.Join(sel, ", ") +
		" FROM shipments WHERE partition = " + strconv.Itoa(partition) + " GROUP BY tracking_number"
}

// Restore calls fn with the latest stored state of every shipment last
// written from Kafka partition partition. A shipments table that does not
// match what this package writes gives an error marked retry.Permanent that
// wraps ErrSchemaMismatch.
func (s *Store) Restore(ctx context.Context, partition int, fn func(trackingNumber string, st analytics.Shipment)) error {
	rows, err := s.conn.Query(ctx, restoreSQL(partition))
	if err != nil {
		return s.failed(ctx, err, "cannot read state of partition %d", partition)
	}
	defer rows.Close()
	dest := make([]any, len(restoredColumns))
	sets := make([]func(*restoring), len(restoredColumns))
	for i, c := range restoredColumns {
		dest[i], sets[i] = c.scan()
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return s.failed(ctx, err, "cannot read state of partition %d", partition)
		}
		var r restoring
		for _, set := range sets {
			set(&r)
		}
		st, err := r.shipment()
		if err != nil {
			// A value this build cannot read will not change on retry.
			return retry.Permanent(fmt.Errorf("cannot restore shipment %s of partition %d: %w", r.trackingNumber, partition, err))
		}
		fn(r.trackingNumber, st)
	}
	if err := rows.Err(); err != nil {
		return s.failed(ctx, err, "cannot read state of partition %d", partition)
	}
	return nil
}
