package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/internal/retry"
	"github.com/shiplens/shiplens/schemas"
)

// The ETA tables (schemas/clickhouse/004_eta.sql); see "ETA tables" in the
// package documentation.
const (
	latestTable   = "eta_latest"
	historyTable  = "eta_history"
	outcomesTable = "eta_outcomes"
	modelsTable   = "eta_models"
	progressTable = "eta_progress"
)

// journeyBound is eta.JourneyBound: the accuracy and learning queries read
// the history, and the outcomes, that far around their range and no
// further, so that their cost follows the range.
const journeyBound = eta.JourneyBound

// spillBytes is the memory a query that may read a large range (the export,
// the accuracy, the deliveries) may use to aggregate or sort before
// ClickHouse moves the work to disk, so that the server's memory does not
// grow with the tables either.
const spillBytes = 256 << 20

// spilling returns ctx with the settings that let a large read spill to disk.
func spilling(ctx context.Context) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
		"max_bytes_before_external_group_by": spillBytes,
		"max_bytes_before_external_sort":     spillBytes,
	}))
}

// etaColumn is one column of an ETA table: its name and type as
// system.columns spells them, how a batch of rows R fills it and how a
// scanned value is put back into an R.
type etaColumn[R any] struct {
	name, typ string
	// values returns the column of a batch, a []T: clickhouse-go appends
	// whole typed columns far faster than rows of any.
	values func(rows []R) any
	// scan returns a destination for rows.Scan and the function that moves
	// the scanned value into a row.
	scan func() (dest any, set func(*R) error)
}

// etaCol builds a column of Go type T.
func etaCol[R, T any](name, typ string, get func(r *R) T, set func(r *R, v T) error) etaColumn[R] {
	return etaColumn[R]{name: name, typ: typ,
		values: func(rows []R) any {
			v := make([]T, len(rows))
			for i := range rows {
				v[i] = get(&rows[i])
			}
			return v
		},
		scan: func() (any, func(*R) error) {
			v := new(T)
			return v, func(r *R) error { return set(r, *v) }
		},
	}
}

// etaStamp builds a DateTime column over a time of R in Unix seconds.
func etaStamp[R any](name string, field func(r *R) *uint32) etaColumn[R] {
	return etaCol(name, "DateTime",
		func(r *R) time.Time { return ts(*field(r)) },
		func(r *R, v time.Time) error { *field(r) = u32(v); return nil })
}

// etaString builds a String column over a string field of R.
func etaString[R any](name string, field func(r *R) *string) etaColumn[R] {
	return etaCol(name, "String",
		func(r *R) string { return *field(r) },
		func(r *R, v string) error { *field(r) = v; return nil })
}

// recordColumns are the columns of eta_latest and eta_history, in the order
// of their migration; TestETAColumnsMatchMigration checks them. The INSERT,
// the batches, the SELECT and the scan of predictions are read off them.
var recordColumns = []etaColumn[eta.Record]{
	etaString("tracking_number", func(r *eta.Record) *string { return &r.TrackingNumber }),
	etaString("carrier", func(r *eta.Record) *string { return &r.Carrier }),
	etaString("service", func(r *eta.Record) *string { return &r.Service }),
	etaString("lane", func(r *eta.Record) *string { return &r.Lane }),
	etaString("merchant", func(r *eta.Record) *string { return &r.Merchant }),
	etaCol("status", "String",
		func(r *eta.Record) string { return r.Status.String() },
		func(r *eta.Record, v string) (err error) { r.Status, err = schemas.ParseStatus(v); return err }),
	etaCol("milestone", "String",
		func(r *eta.Record) string { return r.Milestone.String() },
		func(r *eta.Record, v string) (err error) { r.Milestone, err = eta.ParseMilestone(v); return err }),
	etaStamp("as_of", func(r *eta.Record) *uint32 { return &r.AsOf }),
	etaStamp("p10", func(r *eta.Record) *uint32 { return &r.P10 }),
	etaStamp("p50", func(r *eta.Record) *uint32 { return &r.P50 }),
	etaStamp("p90", func(r *eta.Record) *uint32 { return &r.P90 }),
	etaStamp("promised_at", func(r *eta.Record) *uint32 { return &r.PromisedAt }),
	etaStamp("model_version", func(r *eta.Record) *uint32 { return &r.Version }),
	etaCol("basis", "String",
		func(r *eta.Record) string { return r.Basis.String() },
		func(r *eta.Record, v string) (err error) { r.Basis, err = eta.ParseBasis(v); return err }),
	etaCol("rev", "UInt64",
		func(r *eta.Record) uint64 { return r.Rev },
		func(r *eta.Record, v uint64) error { r.Rev = v; return nil }),
	etaStamp("start", func(r *eta.Record) *uint32 { return &r.Start }),
	etaStamp("learn", func(r *eta.Record) *uint32 { return &r.Learn }),
}

// outcomeColumns are the columns of eta_outcomes, in migration order.
var outcomeColumns = []etaColumn[eta.Outcome]{
	etaString("tracking_number", func(o *eta.Outcome) *string { return &o.TrackingNumber }),
	etaString("carrier", func(o *eta.Outcome) *string { return &o.Carrier }),
	etaString("service", func(o *eta.Outcome) *string { return &o.Service }),
	etaString("lane", func(o *eta.Outcome) *string { return &o.Lane }),
	etaString("merchant", func(o *eta.Outcome) *string { return &o.Merchant }),
	etaStamp("start", func(o *eta.Outcome) *uint32 { return &o.Start }),
	etaStamp("delivered_at", func(o *eta.Outcome) *uint32 { return &o.DeliveredAt }),
	etaStamp("promised_at", func(o *eta.Outcome) *uint32 { return &o.PromisedAt }),
	etaCol("rev", "UInt64",
		func(o *eta.Outcome) uint64 { return o.Rev },
		func(o *eta.Outcome, v uint64) error { o.Rev = v; return nil }),
	etaStamp("learn", func(o *eta.Outcome) *uint32 { return &o.Learn }),
}

// modelColumns are the columns of eta_models, in migration order; SaveModel
// and LatestModel name them in their statements.
var modelColumns = []struct{ name, typ string }{{"version", "DateTime"}, {"built_at", "DateTime"}, {"model", "String"}}

// etaSchema lists, per ETA table, its columns as "name type".
var etaSchema = map[string][]string{
	latestTable:   columnDefs(recordColumns),
	historyTable:  columnDefs(recordColumns),
	outcomesTable: columnDefs(outcomeColumns),
	progressTable: {"partition UInt16", "version DateTime"},
	modelsTable: func() []string {
		var out []string
		for _, c := range modelColumns {
			out = append(out, c.name+" "+c.typ)
		}
		return out
	}(),
}

func columnDefs[R any](cols []etaColumn[R]) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name + " " + c.typ
	}
	return out
}

func columnNames[R any](cols []etaColumn[R]) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// insertETA inserts rows into table as one batch, column by column.
func insertETA[R any](ctx context.Context, s *Store, table string, cols []etaColumn[R], rows []R) error {
	vals := make([]any, len(cols)) // before PrepareBatch takes a connection
	for i, c := range cols {
		vals[i] = c.values(rows)
	}
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+columnNames(cols)+")")
	if err != nil {
		return s.etaFailed(ctx, err, []string{table}, "cannot prepare insert into %s", table)
	}
	defer batch.Close()
	for i, v := range vals {
		if err := batch.Column(i).Append(v); err != nil {
			return s.etaFailed(ctx, err, []string{table}, "cannot fill column %s of the %s batch", cols[i].name, table)
		}
	}
	if err := batch.Send(); err != nil {
		return s.etaFailed(ctx, err, []string{table}, "cannot insert %d rows into %s", len(rows), table)
	}
	return nil
}

// etaFailed is failed for a call on the ETA tables: failed decides whether
// err is retryable, and a permanent error also says how the first of
// tables that differs from what this build reads and writes does, wrapping
// ErrSchemaMismatch (as on a database migrated before 004).
func (s *Store) etaFailed(ctx context.Context, err error, tables []string, format string, args ...any) error {
	out := s.failed(ctx, err, format, args...)
	if !retry.IsPermanent(out) || errors.Is(out, ErrSchemaMismatch) || errors.Is(out, ErrNoDatabase) {
		return out
	}
	for _, table := range tables {
		if mismatch := s.checkETATable(ctx, table); mismatch != nil {
			return retry.Permanent(fmt.Errorf("%s: %w (%w)", fmt.Sprintf(format, args...), mismatch, err))
		}
	}
	return out
}

// checkETATable compares table with etaSchema, as checkSchema does the
// facts; nil when it matches or cannot be read.
func (s *Store) checkETATable(ctx context.Context, table string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rows, err := s.conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = "+quote(s.cfg.Database)+" AND table = "+quote(table))
	if err != nil {
		return nil
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil
		}
		have[name+" "+typ] = true
	}
	if rows.Err() != nil {
		return nil
	}
	var missing []string
	for _, c := range etaSchema[table] {
		if !have[c] {
			missing = append(missing, c)
		}
	}
	diff := "lacks column " + strings.Join(missing, ", ")
	switch {
	case len(have) == 0:
		diff = "does not exist"
	case len(missing) == 0:
		return nil
	}
	return fmt.Errorf("%w: table %s.%s %s; its schema version differs from this build's: apply the migrations (migrate), or run the shiplens version that migrated it",
		ErrSchemaMismatch, s.cfg.Database, table, diff)
}

// etaQuery runs query, which reads tables, and calls row with each row's
// Scan. An error of row is returned as it is; those of the query and of
// Scan go through etaFailed.
func (s *Store) etaQuery(ctx context.Context, query string, tables []string, what string, row func(scan func(...any) error) error) error {
	rows, err := s.conn.Query(ctx, query)
	if err != nil {
		return s.etaFailed(ctx, err, tables, "cannot read %s", what)
	}
	defer rows.Close()
	scan := func(dest ...any) error {
		if err := rows.Scan(dest...); err != nil {
			return s.etaFailed(ctx, err, tables, "cannot read %s", what)
		}
		return nil
	}
	for rows.Next() {
		if err := row(scan); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return s.etaFailed(ctx, err, tables, "cannot read %s", what)
	}
	return nil
}

// checkRecord reports a record that the tables could not give back as
// written: its status, milestone and basis are stored by name.
func checkRecord(r *eta.Record) error {
	switch {
	case r.TrackingNumber == "":
		return errors.New("empty tracking number")
	case !r.Status.Valid():
		return fmt.Errorf("invalid status %d", r.Status)
	case !r.Milestone.Status().Valid():
		return fmt.Errorf("invalid milestone %d", r.Milestone)
	case r.Basis.String() == "unknown":
		return fmt.Errorf("invalid basis %d", r.Basis)
	}
	return nil
}

// WritePredictions stores recs, the predictions the processor made: each
// into eta_history and, per tracking number, the one with the largest Rev
// (the later of equal ones) into eta_latest. A record with Basis
// eta.BasisDelivered is a delivered shipment's final row and goes to
// eta_latest only. Writing the same records again is harmless: readers
// keep the highest rev per shipment (eta_latest) and per shipment, event
// time and milestone (eta_history). An invalid record (no tracking number,
// an invalid status, milestone or basis) fails the whole call with a
// permanent error, before anything is written.
func (s *Store) WritePredictions(ctx context.Context, recs []eta.Record) error {
	if len(recs) == 0 {
		return nil
	}
	latest := make(map[string]int, len(recs)) // tracking number to index in recs
	delivered := 0
	for i := range recs {
		r := &recs[i]
		if err := checkRecord(r); err != nil {
			return retry.Permanent(fmt.Errorf("cannot write prediction %d of %d (%q): %w", i+1, len(recs), r.TrackingNumber, err))
		}
		if r.Basis == eta.BasisDelivered {
			delivered++
		}
		if j, ok := latest[r.TrackingNumber]; !ok || r.Rev >= recs[j].Rev {
			latest[r.TrackingNumber] = i
		}
	}
	history := recs
	if delivered > 0 {
		history = make([]eta.Record, 0, len(recs)-delivered)
		for _, r := range recs {
			if r.Basis != eta.BasisDelivered {
				history = append(history, r)
			}
		}
	}
	current := recs
	if len(latest) < len(recs) {
		current = make([]eta.Record, 0, len(latest))
		for i, r := range recs {
			if latest[r.TrackingNumber] == i {
				current = append(current, r)
			}
		}
	}
	// History first: eta_latest never shows a prediction the history lacks.
	if len(history) > 0 {
		if err := insertETA(ctx, s, historyTable, recordColumns, history); err != nil {
			return err
		}
	}
	return insertETA(ctx, s, latestTable, recordColumns, current)
}

// WriteOutcomes stores the outcomes of delivered shipments. Writing the
// same outcomes again is harmless, and a later outcome of a shipment with a
// larger Rev supersedes the earlier one.
func (s *Store) WriteOutcomes(ctx context.Context, outs []eta.Outcome) error {
	if len(outs) == 0 {
		return nil
	}
	return insertETA(ctx, s, outcomesTable, outcomeColumns, outs)
}

// latestRecordsSQL selects, per tracking number, the recordColumns of its
// row with the highest rev in eta_latest, of the rows where prewhere (a
// condition over eta_latest's columns) holds, and only the shipments whose
// latest row satisfies having (a condition over the latest values, by
// column name). PREWHERE reads the other columns only of the granules
// where the condition holds: a lookup checks a granule of every part, and
// finds its shipment in one. argMax keeps a column's value from the row
// with the highest rev; an alias named rev would replace it inside every
// argMax.
func latestRecordsSQL(prewhere, having string) string {
	sel := make([]string, len(recordColumns))
	for i, c := range recordColumns {
		switch c.name {
		case "tracking_number":
			sel[i] = c.name
		case "rev":
			sel[i] = "max(rev) AS latest_rev"
		default:
			sel[i] = "argMax(" + c.name + ", rev) AS " + c.name
		}
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + latestTable
	if prewhere != "" {
		q += " PREWHERE " + prewhere
	}
	q += " GROUP BY tracking_number"
	if having != "" {
		q += " HAVING " + having
	}
	return q
}

// etasSQL selects the latest predictions of trackingNumbers.
func etasSQL(trackingNumbers []string) string {
	q := make([]string, len(trackingNumbers))
	for i, tn := range trackingNumbers {
		q[i] = quote(tn)
	}
	return latestRecordsSQL("tracking_number IN ("+strings.Join(q, ", ")+")", "")
}

// eachPredictionSQL selects the latest prediction of every shipment whose
// latest row is not a delivery.
var eachPredictionSQL = latestRecordsSQL("", "basis != "+quote(eta.BasisDelivered.String()))

// ETAs returns the latest stored prediction of each of trackingNumbers, or
// for a delivered shipment its final row (Basis eta.BasisDelivered, P10 =
// P50 = P90 = the delivery); the numbers without any are absent. Long lists
// are sent in chunks, as Lookup does.
func (s *Store) ETAs(ctx context.Context, trackingNumbers []string) (map[string]eta.Record, error) {
	out := make(map[string]eta.Record, len(trackingNumbers))
	for len(trackingNumbers) > 0 {
		n := min(len(trackingNumbers), lookupChunk)
		// The uncompressed cache spares a short lookup the decompression of
		// a block per column and part; ClickHouse bypasses it for large reads.
		settings := clickhouse.Settings{"use_uncompressed_cache": 1}
		if n > 1000 { // a long list can pass the default max_query_size of 256 KiB
			settings["max_query_size"] = lookupQuerySize
		}
		qctx := clickhouse.Context(ctx, clickhouse.WithSettings(settings))
		err := s.eachRecord(qctx, etasSQL(trackingNumbers[:n]), fmt.Sprintf("the ETAs of %d shipments", n), func(r eta.Record) error {
			out[r.TrackingNumber] = r
			return nil
		})
		if err != nil {
			return nil, err
		}
		trackingNumbers = trackingNumbers[n:]
	}
	return out, nil
}

// EachPrediction calls fn with the latest prediction of every shipment that
// is not delivered, in no particular order, as ClickHouse streams them: the
// export. The server aggregates every shipment's latest row (spilling to
// disk past spillBytes); this process holds one row at a time. An error of
// fn stops the stream and is returned as it is.
func (s *Store) EachPrediction(ctx context.Context, fn func(eta.Record) error) error {
	return s.eachRecord(spilling(ctx), eachPredictionSQL, "the current predictions", fn)
}

// eachRecord runs query, which selects recordColumns, and calls fn with each
// row. A value this build cannot read (a status, milestone or basis it does
// not know) fails with a permanent error: it will not change on retry.
func (s *Store) eachRecord(ctx context.Context, query, what string, fn func(eta.Record) error) error {
	dest := make([]any, len(recordColumns))
	sets := make([]func(*eta.Record) error, len(recordColumns))
	for i, c := range recordColumns {
		dest[i], sets[i] = c.scan()
	}
	return s.etaQuery(ctx, query, []string{latestTable}, what, func(scan func(...any) error) error {
		if err := scan(dest...); err != nil {
			return err
		}
		var r eta.Record
		for i, set := range sets {
			if err := set(&r); err != nil {
				return retry.Permanent(fmt.Errorf("cannot read %s: column %s of %q: %w (written by another shiplens version?)", what, recordColumns[i].name, r.TrackingNumber, err))
			}
		}
		return fn(r)
	})
}

// dateTime returns Unix time t as a DateTime literal, the same in every
// server time zone.
func dateTime(t int64) string { return "toDateTime(" + strconv.FormatInt(t, 10) + ")" }

// deliveredSQL selects, per tracking number, the latest outcome (argMax by
// rev) of the shipments delivered in [%FROM%, %TO%) whose latest labels
// satisfy %WHERE%: tracking_number, delivered (DateTime), start, carrier,
// service, lane, merchant. It reads the outcomes delivered up to
// journeyBound around the range, pruned by month: a shipment's superseded
// outcome lies within its journey of the latest, so none in range can hide
// a latest one out of range.
var deliveredSQL = `SELECT tracking_number, argMax(delivered_at, rev) AS delivered, argMax(start, rev) AS start,
        argMax(carrier, rev) AS carrier, argMax(service, rev) AS service, argMax(lane, rev) AS lane,
        argMax(merchant, rev) AS merchant
    FROM ` + outcomesTable + `
    WHERE delivered_at >= %FROM% - ` + seconds(journeyBound) + ` AND delivered_at < %TO% + ` + seconds(journeyBound) + `
    GROUP BY tracking_number
    HAVING delivered >= %FROM% AND delivered < %TO% AND %WHERE%`

// historyRange restricts eta_history to the predictions that the shipments
// of deliveredSQL can have: made before %TO% and at most journeyBound
// before %FROM%, of those tracking numbers, through the sorting key.
var historyRange = `as_of >= %FROM% - ` + seconds(journeyBound) + ` AND as_of < %TO%
            AND tracking_number IN (SELECT tracking_number FROM (` + deliveredSQL + `))`

// accuracySQL is the accuracy query ("the plain query"), per UTC delivery
// day and %MILESTONE% (milestone, or an empty string for all), over every
// stored prediction made before the delivery of the shipments of
// deliveredSQL: each (tracking number, as_of, milestone) once, with the
// values of its highest rev. err is p50 − delivered, perr promised_at −
// delivered, in seconds; the promised figures count the predictions with a
// promise, and are 0 without any.
var accuracySQL = `SELECT day, m AS milestone,
    toInt64(count()) AS predictions,
    avg(abs(err)) / 3600 AS mae_hours,
    avg(abs(err) <= 86400) AS within_24h,
    avg(on_day) AS same_day,
    avg(covered) AS coverage,
    avg(err) / 3600 AS bias_hours,
    toInt64(countIf(with_promise)) AS promised_predictions,
    sumIf(abs(perr), with_promise) / greatest(countIf(with_promise), 1) / 3600 AS promised_mae_hours,
    sumIf(abs(perr) <= 86400, with_promise) / greatest(countIf(with_promise), 1) AS promised_within_24h
FROM
(
    SELECT toDate('1970-01-01') + intDiv(toUInt32(delivered), 86400) AS day, %MILESTONE% AS m,
        toInt64(toUInt32(mid)) - toInt64(toUInt32(delivered)) AS err,
        toInt64(toUInt32(promised)) - toInt64(toUInt32(delivered)) AS perr,
        intDiv(toUInt32(mid), 86400) = intDiv(toUInt32(delivered), 86400) AS on_day,
        lo <= delivered AND delivered <= hi AS covered,
        toUInt32(promised) != 0 AS with_promise
    FROM
    (
        SELECT tracking_number, as_of, milestone, argMax(p10, rev) AS lo, argMax(p50, rev) AS mid,
            argMax(p90, rev) AS hi, argMax(promised_at, rev) AS promised
        FROM ` + historyTable + `
        WHERE ` + historyRange + `
        GROUP BY tracking_number, as_of, milestone
    ) AS predicted
    ALL INNER JOIN
    (
    ` + deliveredSQL + `
    ) AS outcome USING tracking_number
    WHERE as_of < delivered
)
GROUP BY day, milestone
ORDER BY day, milestone`

// AccuracySQL returns the accuracy query, one row per UTC delivery day (and
// milestone when byMilestone; else the milestone column is empty): day,
// milestone, predictions, mae_hours, within_24h, same_day, coverage,
// bias_hours, promised_predictions, promised_mae_hours,
// promised_within_24h, as AccuracyRow says. from and to are DateTime
// expressions, the first second of the range and the one after it (such
// as toDateTime(1788220800), or a dashboard's macros); where is a
// condition over the delivered shipments' latest carrier, service, lane
// and merchant, "1" for all. Its cost follows the range: it reads the
// outcomes of the months within journeyBound of it and the predictions
// made from journeyBound before it to its end.
func AccuracySQL(from, to, where string, byMilestone bool) string {
	m := "''"
	if byMilestone {
		m = "milestone"
	}
	return strings.NewReplacer("%FROM%", from, "%TO%", to, "%WHERE%", where, "%MILESTONE%", m).Replace(accuracySQL)
}

// AccuracyQuery selects the deliveries whose predictions Accuracy rates.
type AccuracyQuery struct {
	From, To    time.Time // inclusive UTC days of delivery
	Carrier     string    // optional filter
	Lane        string    // optional filter, e.g. "CN-US"
	ByMilestone bool      // a row per day and milestone, not per day
}

// Validate reports a query that cannot be answered.
func (q AccuracyQuery) Validate() error {
	if q.From.IsZero() || q.To.IsZero() {
		return errors.New("invalid accuracy query: from and to days are required")
	}
	if q.To.Before(q.From) {
		return fmt.Errorf("invalid accuracy query: to %s is before from %s", q.To.Format(time.DateOnly), q.From.Format(time.DateOnly))
	}
	return nil
}

// sql returns q's accuracy query.
func (q AccuracyQuery) sql() string {
	from := analytics.Day(u32(q.From.UTC()))
	to := analytics.Day(u32(q.To.UTC())).AddDate(0, 0, 1)
	var where []string
	for _, f := range [...]struct{ col, v string }{{"carrier", q.Carrier}, {"lane", q.Lane}} {
		if f.v != "" {
			where = append(where, f.col+" = "+quote(f.v))
		}
	}
	if len(where) == 0 {
		where = []string{"1"}
	}
	return AccuracySQL(dateTime(from.Unix()), dateTime(to.Unix()), strings.Join(where, " AND "), q.ByMilestone)
}

// AccuracyRow rates the predictions of the shipments delivered on one UTC
// day (at one milestone, with ByMilestone). The error of a prediction is
// p50 − delivery; ratios are fractions of Predictions (0 to 1).
type AccuracyRow struct {
	Day         time.Time `json:"day"`
	Milestone   string    `json:"milestone,omitempty"` // empty unless ByMilestone
	Predictions int64     `json:"predictions"`
	MAEHours    float64   `json:"mae_hours"`  // mean absolute error
	Within24h   float64   `json:"within_24h"` // |error| <= 24 h
	SameDay     float64   `json:"same_day"`   // p50 on the UTC day of delivery
	Coverage    float64   `json:"coverage"`   // p10 <= delivery <= p90
	BiasHours   float64   `json:"bias_hours"` // mean error: > 0 predicts late
	// PromisedPredictions counts the predictions made when the shipment had
	// a promised date; the two figures after it rate that date the same way
	// (error promised_at − delivery), 0 when there are none.
	PromisedPredictions int64   `json:"promised_predictions"`
	PromisedMAEHours    float64 `json:"promised_mae_hours"`
	PromisedWithin24h   float64 `json:"promised_within_24h"`
}

// Accuracy rates the stored predictions of the shipments delivered in q's
// days, per day (and milestone): every prediction made before the delivery,
// each counted once however often it was written.
func (s *Store) Accuracy(ctx context.Context, q AccuracyQuery) ([]AccuracyRow, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var out []AccuracyRow
	err := s.etaQuery(spilling(ctx), q.sql(), []string{historyTable, outcomesTable}, "the prediction accuracy", func(scan func(...any) error) error {
		var r AccuracyRow
		if err := scan(&r.Day, &r.Milestone, &r.Predictions, &r.MAEHours, &r.Within24h, &r.SameDay, &r.Coverage, &r.BiasHours,
			&r.PromisedPredictions, &r.PromisedMAEHours, &r.PromisedWithin24h); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// deliveriesSQL selects the shipments delivered in [%FROM%, %TO%) with
// their visits: the distinct (as_of, milestone) of their stored
// predictions, as two arrays in no order. The visits are grouped on the
// left, where the aggregation can spill to disk; the deliveries, which the
// join holds in memory, on the right, so that one without a prediction
// comes too (its arrays empty). It is sorted by delivery and tracking
// number.
var deliveriesSQL = `SELECT o_tn, carrier, service, lane, toUInt32(start), toUInt32(delivered), visit_at, visit_milestone
FROM
(
    SELECT tracking_number, groupArray(as_of) AS visit_at, groupArray(milestone) AS visit_milestone
    FROM
    (
        SELECT DISTINCT tracking_number, as_of, milestone
        FROM ` + historyTable + `
        WHERE ` + historyRange + `
    )
    GROUP BY tracking_number
) AS visits
ALL RIGHT JOIN
(
    SELECT tracking_number, tracking_number AS o_tn, delivered, start, carrier, service, lane
    FROM
    (
    ` + deliveredSQL + `
    )
) AS outcome USING tracking_number
ORDER BY delivered, o_tn`

// Deliveries calls fn with every shipment whose latest outcome was
// delivered in [from, to) (Unix seconds), sorted by delivery time and
// tracking number, so that learning from them is deterministic. Its labels
// and start come from the outcome; its Visits are its stored predictions
// made before the delivery, each (as_of, milestone) once, sorted by At and
// then Milestone. A shipment without predictions comes with no visits. A
// milestone this build cannot parse fails the call with a permanent error
// naming it: the tables hold what this package wrote from eta.Milestone,
// so another milestone means another shiplens version wrote them, which
// learning should not silently paper over. An error of fn stops the call
// and is returned as it is.
func (s *Store) Deliveries(ctx context.Context, from, to uint32, fn func(eta.Delivery) error) error {
	q := strings.NewReplacer("%FROM%", dateTime(int64(from)), "%TO%", dateTime(int64(to)), "%WHERE%", "1").Replace(deliveriesSQL)
	what := fmt.Sprintf("the deliveries of [%s, %s)", ts(from).Format(time.RFC3339), ts(to).Format(time.RFC3339))
	var (
		ats        []time.Time
		milestones []string
	)
	return s.etaQuery(spilling(ctx), q, []string{historyTable, outcomesTable}, what, func(scan func(...any) error) error {
		var d eta.Delivery
		if err := scan(&d.TrackingNumber, &d.Carrier, &d.Service, &d.Lane, &d.Start, &d.DeliveredAt, &ats, &milestones); err != nil {
			return err
		}
		if err := setVisits(&d, ats, milestones, what); err != nil {
			return err
		}
		return fn(d)
	})
}

// setVisits fills d.Visits from the parallel arrays of its predictions'
// as_of and milestone (groupArray fills both in the same order): those
// before the delivery, sorted by At then Milestone.
func setVisits(d *eta.Delivery, ats []time.Time, milestones []string, what string) error {
	for i, at := range ats {
		v := eta.Visit{At: u32(at)}
		if v.At >= d.DeliveredAt {
			continue
		}
		var err error
		if v.Milestone, err = eta.ParseMilestone(milestones[i]); err != nil {
			return retry.Permanent(fmt.Errorf("cannot read %s: a prediction of %q at %s: %w (written by another shiplens version?)",
				what, d.TrackingNumber, at.UTC().Format(time.RFC3339), err))
		}
		d.Visits = append(d.Visits, v)
	}
	slices.SortFunc(d.Visits, func(a, b eta.Visit) int {
		return cmp.Or(cmp.Compare(a.At, b.At), cmp.Compare(a.Milestone, b.Milestone))
	})
	return nil
}

// SaveModel stores a model snapshot of version (Unix seconds). Saving a
// version again replaces its snapshot for LatestModel, unless both saves
// fall in the same second.
func (s *Store) SaveModel(ctx context.Context, version uint32, blob []byte) error {
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+modelsTable+" (version, built_at, model)")
	if err != nil {
		return s.etaFailed(ctx, err, []string{modelsTable}, "cannot prepare insert into %s", modelsTable)
	}
	defer batch.Close()
	if err := batch.Append(ts(version), time.Now().UTC().Truncate(time.Second), blob); err != nil {
		return s.etaFailed(ctx, err, []string{modelsTable}, "cannot fill the %s batch", modelsTable)
	}
	if err := batch.Send(); err != nil {
		return s.etaFailed(ctx, err, []string{modelsTable}, "cannot insert model %d (%d bytes) into %s", version, len(blob), modelsTable)
	}
	return nil
}

// latestModelSQL selects the highest version's latest snapshot. The
// scalar subquery reads the version column only; the snapshot is then read
// through the sorting key from its own granule.
const latestModelSQL = "SELECT toUInt32(version), model FROM " + modelsTable +
	" WHERE version = (SELECT max(version) FROM " + modelsTable + ") ORDER BY built_at DESC LIMIT 1"

// LatestModel returns the model snapshot with the highest version; ok is
// false when none is stored.
func (s *Store) LatestModel(ctx context.Context) (version uint32, blob []byte, ok bool, err error) {
	rows, err := s.conn.Query(ctx, latestModelSQL)
	if err != nil {
		return 0, nil, false, s.etaFailed(ctx, err, []string{modelsTable}, "cannot read the latest model")
	}
	defer rows.Close()
	if rows.Next() {
		var model string
		if err := rows.Scan(&version, &model); err != nil {
			return 0, nil, false, s.etaFailed(ctx, err, []string{modelsTable}, "cannot read the latest model")
		}
		blob, ok = []byte(model), true
	}
	if err := rows.Err(); err != nil {
		return 0, nil, false, s.etaFailed(ctx, err, []string{modelsTable}, "cannot read the latest model")
	}
	return version, blob, ok, nil
}
