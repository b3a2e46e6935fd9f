// Package alt is the alternative that shiplens' benchmark suite measures
// itself against: what a user might build instead of shiplens. Canonical
// events go straight into one ClickHouse table (Table) with clickhouse-go,
// in batches as they arrive, and the carrier scorecard is one SQL statement
// run at query time over the stored events.
//
// The scorecard is shiplens' own (DESIGN section 3; `shiplens report
// carriers` in section 7), read as the test reference, internal/reference,
// reads it: within a shipment the first copy of an event id in arrival
// order is the event; its events are ordered by occurred_at, ties by the
// status taxonomy, then by the FNV-1a hash of the event id, then by the id;
// carrier from the first event, lane from the first that carries both
// countries, the promise from the last that carries one; deliveries by the
// UTC day of the first delivered, exceptions by that of the first exception,
// both in from..to inclusive.
//
// Every figure equals the reference's, the quantiles too: SQL picks the
// nearest rank, ceil(q*n), from the sorted values and converts seconds to
// hours the way time.Duration.Hours does, so the float64 is the same. Two
// departures, neither met in valid input:
//
//   - Times are whole seconds (DateTime; 18.16 has no DateTime64), as in
//     shiplens' own tables: events less than a second apart may order
//     differently than the reference orders them, and a promised_at of
//     exactly 1970-01-01T00:00:00Z is taken for none.
//   - Duplicates are found within a shipment. DESIGN makes the event id the
//     identity of a scan, so a copy carries the same tracking number; an id
//     that recurs under another tracking number counts in both shipments,
//     where the reference keeps only its first copy.
//
// The table carries two columns that are not event fields but that exact
// figures need and that no SQL function of 18.16 gives: seq, the arrival
// order, and id_order, the event id's FNV-1a hash; Insert computes both.
// All SQL runs on ClickHouse 18.16 (hence per-shipment arrays instead of
// window functions) and on current releases.
//
// alt must stay what a user would write instead of shiplens: no aggregates
// maintained at ingest, no state kept between queries. A query reads, through
// the sorting key, the shipments with a delivered or exception scan in its
// range, and all their events; its cost follows the stored events of those
// shipments, which is the point of comparing with it.
package alt

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/shiplens/shiplens/schemas"
)

// Table is the table of raw events, in the connection's database.
const Table = "bench_raw_events"

// BatchSize is the number of events per INSERT.
const BatchSize = 100_000

// Row is one carrier and lane of the scorecard. A quantile is 0 when no
// shipment has its figure: the transit quantiles when Delivered is 0, the
// customs ones when WithCustoms is 0.
type Row struct {
	Carrier     string
	Lane        string // "CN-US"; "" for shipments whose events carry no lane
	Delivered   uint64 // first delivered on a day of the range
	WithPromise uint64 // of those, with a promised_at
	OnTime      uint64 // of those, delivered at or before the promise
	WithCustoms uint64 // delivered ones whose customs dwell is known
	Exceptions  uint64 // shipments whose first exception is on a day of the range

	TransitHoursP50, TransitHoursP90           float64
	CustomsDwellHoursP50, CustomsDwellHoursP90 float64
}

// Result is one run of the alternative: the ingest and the time each
// repetition of the scorecard took to answer.
type Result struct {
	Events          int             // inserted
	Ingest          time.Duration   // wall time of Insert
	EventsPerSecond float64         // Events over Ingest
	Answer          []time.Duration // wall time of Scorecard, one per repetition
	Rows            []Row           // the answer of the last repetition
}

// MedianAnswer returns the median of r.Answer (the upper one for an even
// count), or 0 when there is none.
func (r *Result) MedianAnswer() time.Duration {
	if len(r.Answer) == 0 {
		return 0
	}
	s := slices.Clone(r.Answer)
	slices.Sort(s)
	return s[len(s)/2]
}

// tableColumns are the columns of Table, in the order of
// batchColumns.values. status is an Enum8 whose values are the
// schemas.Status codes, the taxonomy order; a promised_at of 0 is none.
var tableColumns = []struct{ name, typ string }{
	{"seq", "UInt64"}, // arrival order, from 0 in the table
	{"event_id", "String"},
	{"id_order", "UInt64"}, // FNV-1a of event_id: the tie order
	{"tracking_number", "String"},
	{"carrier", "String"},
	{"service", "String"},
	{"origin_country", "String"},
	{"destination_country", "String"},
	{"status", "Enum8(" + statusEnum() + ")"},
	{"occurred_at", "DateTime"},
	{"promised_at", "DateTime"},
}

// createSQL creates table for raw events.
func createSQL(table string) string {
	defs := make([]string, len(tableColumns))
	for i, c := range tableColumns {
		defs[i] = c.name + " " + c.typ
	}
	return "CREATE TABLE " + table + " (" + strings.Join(defs, ", ") + ") ENGINE = MergeTree ORDER BY (tracking_number, occurred_at)"
}

// insertSQL starts an insert into table; 18.16 needs the column list.
func insertSQL(table string) string {
	names := make([]string, len(tableColumns))
	for i, c := range tableColumns {
		names[i] = c.name
	}
	return "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ")"
}

func statusEnum() string {
	var b strings.Builder
	for i, s := range schemas.Statuses() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "'%s' = %d", s, s)
	}
	return b.String()
}

// Reset drops Table and creates it empty.
func Reset(ctx context.Context, conn driver.Conn) error {
	if err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+Table); err != nil {
		return fmt.Errorf("cannot drop %s: %w", Table, err)
	}
	if err := conn.Exec(ctx, createSQL(Table)); err != nil {
		return fmt.Errorf("cannot create %s: %w", Table, err)
	}
	return nil
}

// Insert appends events to Table in batches of BatchSize, in order, and
// returns the wall time it took. Their arrival order (seq) continues that of
// the events already stored, so concurrent calls on one table leave the
// order between their events undefined.
//
// Each batch is sent column by column (Batch.Column(i).Append of a slice):
// here it beat Batch.Append row by row by about a quarter at 370k events
// (350k against 270k events/s), and two concurrent inserts gained nothing
// on two cores, where the server's part writing is the bottleneck.
func Insert(ctx context.Context, conn driver.Conn, events []schemas.Event) (time.Duration, error) {
	start := time.Now()
	var stored, last uint64
	if err := conn.QueryRow(ctx, "SELECT count(), max(seq) FROM "+Table).Scan(&stored, &last); err != nil {
		return 0, fmt.Errorf("cannot read the arrival order of %s: %w", Table, err)
	}
	var next uint64
	if stored > 0 {
		next = last + 1
	}
	var c batchColumns
	for lo := 0; lo < len(events); lo += BatchSize {
		hi := min(lo+BatchSize, len(events))
		c.fill(events[lo:hi], next+uint64(lo))
		if err := c.send(ctx, conn); err != nil {
			return time.Since(start), err
		}
	}
	return time.Since(start), nil
}

// batchColumns holds one batch as columns, reused from batch to batch.
type batchColumns struct {
	seq, idOrder                      []uint64
	id, tn, carrier, service, or, dst []string
	status                            []int8
	occurred, promised                []int64 // Unix seconds; 0 for no promise
}

// values returns the columns in the order of tableColumns.
func (c *batchColumns) values() []any {
	return []any{c.seq, c.id, c.idOrder, c.tn, c.carrier, c.service, c.or, c.dst, c.status, c.occurred, c.promised}
}

// fill sets the batch to events, the first of which arrived seq-th.
func (c *batchColumns) fill(events []schemas.Event, seq uint64) {
	*c = batchColumns{
		seq: c.seq[:0], idOrder: c.idOrder[:0], id: c.id[:0], tn: c.tn[:0], carrier: c.carrier[:0],
		service: c.service[:0], or: c.or[:0], dst: c.dst[:0], status: c.status[:0],
		occurred: c.occurred[:0], promised: c.promised[:0],
	}
	for i := range events {
		e := &events[i]
		var promised int64
		if !e.PromisedAt.IsZero() {
			promised = e.PromisedAt.Unix()
		}
		c.seq = append(c.seq, seq+uint64(i))
		c.idOrder = append(c.idOrder, idOrder(e.EventID))
		c.id = append(c.id, e.EventID)
		c.tn = append(c.tn, e.TrackingNumber)
		c.carrier = append(c.carrier, e.Carrier)
		c.service = append(c.service, e.Service)
		c.or = append(c.or, e.OriginCountry)
		c.dst = append(c.dst, e.DestinationCountry)
		c.status = append(c.status, int8(e.Status))
		c.occurred = append(c.occurred, e.OccurredAt.Unix())
		c.promised = append(c.promised, promised)
	}
}

// send inserts the batch with one INSERT, column by column.
func (c *batchColumns) send(ctx context.Context, conn driver.Conn) error {
	b, err := conn.PrepareBatch(ctx, insertSQL(Table))
	if err != nil {
		return fmt.Errorf("cannot prepare insert into %s: %w", Table, err)
	}
	defer b.Close()
	for i, v := range c.values() {
		if err := b.Column(i).Append(v); err != nil {
			return fmt.Errorf("cannot append column %s to the insert into %s: %w", tableColumns[i].name, Table, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("cannot insert batch into %s: %w", Table, err)
	}
	return nil
}

// idOrder is the tie order after the status: the event id's 64-bit FNV-1a
// hash, which ClickHouse has no function for.
func idOrder(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// statusSet lists the codes of the statuses that satisfy ok, for SQL IN.
func statusSet(ok func(schemas.Status) bool) string {
	var codes []string
	for _, s := range schemas.Statuses() {
		if ok(s) {
			codes = append(codes, strconv.Itoa(int(s)))
		}
	}
	return "(" + strings.Join(codes, ", ") + ")"
}

// hoursSQL converts Int64 seconds, at least 0, to hours as
// time.Duration.Hours does, whole hours plus the rest in nanoseconds over
// 3.6e12, so that the float64 is the reference's to the last bit.
const hoursSQL = "(intDiv(%[1]s, 3600) + ((%[1]s %% 3600) * 1000000000) / 3600000000000)"

// rankSQL picks the nearest-rank q-quantile, rank ceil(q*n), of the sorted
// array %[1]s; for an empty array, its element 1, which is 0.
const rankSQL = "%[1]s[greatest(toUInt64(ceil(%[2]s * length(%[1]s))), 1)]"

func hours(x string) string { return fmt.Sprintf(hoursSQL, x) }

func rank(arr, q string) string { return hours(fmt.Sprintf(rankSQL, arr, q)) }

// scorecardSQL is the scorecard of deliveries and first exceptions at Unix
// times in [lo, hi), from table.
//
// The innermost query reads the events of the shipments that have a
// delivered or exception event in the range (only they can count: the
// first one of either is such an event), through the sorting key. The
// middle one gathers each shipment's events into an array (18.16 has no
// window functions), keeps the first copy of every event id (sorted by id,
// then arrival), sorts the rest as the definitions read them and finds the
// shipment's figures by position. The outer ones count per carrier and lane
// and pick the quantiles from sorted arrays.
func scorecardSQL(table string, lo, hi int64) string {
	r := strings.NewReplacer(
		"{table}", table,
		"{lo}", strconv.FormatInt(lo, 10),
		"{hi}", strconv.FormatInt(hi, 10),
		"{picked_up}", strconv.Itoa(int(schemas.PickedUp)),
		"{info_received}", strconv.Itoa(int(schemas.InfoReceived)),
		"{delivered}", strconv.Itoa(int(schemas.Delivered)),
		"{starts_customs}", statusSet(schemas.Status.StartsCustoms),
		"{ends_customs}", statusSet(schemas.Status.EndsCustoms),
		"{exception}", statusSet(schemas.Status.IsException),
		"{counted}", statusSet(func(s schemas.Status) bool { return s == schemas.Delivered || s.IsException() }),
		"{transit_p50}", rank("transits", "0.5"),
		"{transit_p90}", rank("transits", "0.9"),
		"{dwell_p50}", rank("dwells", "0.5"),
		"{dwell_p90}", rank("dwells", "0.9"),
	)
	// Array elements are 1-based and element 0 is an error on 18.16, even
	// in a branch not taken: hence greatest(i, 1) wherever i may be 0.
	return r.Replace(`SELECT carrier, lane, n_delivered, n_with_promise, n_on_time, n_with_customs, n_exceptions,
	toFloat64({transit_p50}), toFloat64({transit_p90}), toFloat64({dwell_p50}), toFloat64({dwell_p90})
FROM (
	SELECT ship_carrier AS carrier, lane,
		toUInt64(countIf(delivered)) AS n_delivered,
		toUInt64(countIf(delivered AND promised > 0)) AS n_with_promise,
		toUInt64(countIf(delivered AND promised > 0 AND delivered_at <= promised)) AS n_on_time,
		toUInt64(countIf(delivered AND dwell_known)) AS n_with_customs,
		toUInt64(countIf(excepted)) AS n_exceptions,
		arraySort(groupArrayIf(transit_s, delivered)) AS transits,
		arraySort(groupArrayIf(dwell_s, delivered AND dwell_known)) AS dwells
	FROM (
		SELECT
			arraySort(groupArray((event_id, seq, toUInt32(occurred_at), toUInt8(status), id_order,
				carrier, origin_country, destination_country, toUInt32(promised_at)))) AS copies,
			arrayFilter((e, prev) -> tupleElement(e, 1) != prev, copies,
				arrayPushFront(arrayPopBack(arrayMap(e -> tupleElement(e, 1), copies)), '')) AS firsts,
			arraySort(arrayMap(e -> (tupleElement(e, 3), tupleElement(e, 4), tupleElement(e, 5), tupleElement(e, 1),
				tupleElement(e, 6), tupleElement(e, 7), tupleElement(e, 8), tupleElement(e, 9)), firsts)) AS evs,
			arrayMap(e -> tupleElement(e, 1), evs) AS ts,
			arrayMap(e -> tupleElement(e, 2), evs) AS sts,
			arrayMap(e -> tupleElement(e, 6), evs) AS origs,
			arrayMap(e -> tupleElement(e, 7), evs) AS dests,
			arrayMap(e -> tupleElement(e, 8), evs) AS proms,
			tupleElement(evs[1], 5) AS ship_carrier,
			arrayFirstIndex((o, d) -> o != '' AND d != '', origs, dests) AS lane_i,
			if(lane_i = 0, '', concat(origs[greatest(lane_i, 1)], '-', dests[greatest(lane_i, 1)])) AS lane,
			arrayFirstIndex(s -> s = {delivered}, sts) AS delivered_i,
			ts[greatest(delivered_i, 1)] AS delivered_at,
			delivered_i > 0 AND delivered_at >= {lo} AND delivered_at < {hi} AS delivered,
			arrayFirstIndex(s -> s = {picked_up}, sts) AS picked_i,
			if(picked_i > 0, picked_i, arrayFirstIndex(s -> s != {info_received}, sts)) AS start_i,
			greatest(toInt64(delivered_at) - toInt64(ts[greatest(start_i, 1)]), 0) AS transit_s,
			arrayFirst(p -> p != 0, arrayReverse(proms)) AS promised,
			arrayFirstIndex(s -> s IN {starts_customs}, sts) AS in_i,
			arrayFirstIndex((s, i) -> i > in_i AND s IN {ends_customs}, sts, arrayEnumerate(sts)) AS out_i,
			in_i > 0 AND out_i > 0 AS dwell_known,
			toInt64(ts[greatest(out_i, 1)]) - toInt64(ts[greatest(in_i, 1)]) AS dwell_s,
			arrayFirstIndex(s -> s IN {exception}, sts) AS exception_i,
			exception_i > 0 AND ts[greatest(exception_i, 1)] >= {lo} AND ts[greatest(exception_i, 1)] < {hi} AS excepted
		FROM {table}
		WHERE tracking_number IN (
			SELECT tracking_number FROM {table}
			WHERE toUInt8(status) IN {counted} AND occurred_at >= {lo} AND occurred_at < {hi}
		)
		GROUP BY tracking_number
		HAVING delivered OR excepted
	)
	GROUP BY ship_carrier, lane
)
ORDER BY carrier, lane`)
}

// day returns the start of the UTC day that contains t.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Scorecard computes the scorecard of the events in Table for the UTC days
// from..to, inclusive, in one query: one Row per carrier and lane with a
// delivery or a first exception in the range, sorted by carrier, then lane.
func Scorecard(ctx context.Context, conn driver.Conn, from, to time.Time) ([]Row, error) {
	lo, hi := day(from).Unix(), day(to).AddDate(0, 0, 1).Unix()
	if hi <= lo {
		return nil, fmt.Errorf("cannot compute a scorecard from %s to %s: the range is empty", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	rows, err := conn.Query(ctx, scorecardSQL(Table, lo, hi))
	if err != nil {
		return nil, fmt.Errorf("cannot query the scorecard from %s: %w", Table, err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.Carrier, &r.Lane, &r.Delivered, &r.WithPromise, &r.OnTime, &r.WithCustoms, &r.Exceptions,
			&r.TransitHoursP50, &r.TransitHoursP90, &r.CustomsDwellHoursP50, &r.CustomsDwellHoursP90); err != nil {
			return nil, fmt.Errorf("cannot read the scorecard from %s: %w", Table, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read the scorecard from %s: %w", Table, err)
	}
	return out, nil
}

// Run measures the alternative: it recreates Table, inserts events and
// answers the scorecard for from..to reps times (at least once).
func Run(ctx context.Context, conn driver.Conn, events []schemas.Event, from, to time.Time, reps int) (*Result, error) {
	if err := Reset(ctx, conn); err != nil {
		return nil, err
	}
	ingest, err := Insert(ctx, conn, events)
	if err != nil {
		return nil, err
	}
	r := &Result{Events: len(events), Ingest: ingest}
	if ingest > 0 {
		r.EventsPerSecond = float64(len(events)) / ingest.Seconds()
	}
	for range max(reps, 1) {
		start := time.Now()
		rows, err := Scorecard(ctx, conn, from, to)
		if err != nil {
			return nil, err
		}
		r.Answer = append(r.Answer, time.Since(start))
		r.Rows = rows
	}
	return r, nil
}
