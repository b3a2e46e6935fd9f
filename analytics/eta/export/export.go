package export

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/schemas"
)

// Format is a file format of the export.
type Format string

// The formats an export can be written in.
const (
	Arrow   Format = "arrow"   // Arrow IPC file format (random access, ".arrow"), uncompressed
	Parquet Format = "parquet" // Parquet with the Arrow schema stored, zstd pages
)

var formats = []Format{Arrow, Parquet}

// ParseFormat returns the format named s ("arrow" or "parquet").
func ParseFormat(s string) (Format, error) {
	for _, f := range formats {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown export format %q; want one of %s", s, strings.Join(names, ", "))
}

// BatchRows is the number of rows a Writer holds before it writes them out
// as one Arrow record batch or one Parquet row group: large enough for
// Parquet's column statistics and compression to pay, small enough that a
// batch of typical records stays within a few MiB.
const BatchRows = 64 << 10

// The columns, in schema order; see the table in the package doc.
const (
	colTrackingNumber = iota
	colCarrier
	colService
	colLane
	colMerchant
	colStatus
	colMilestone
	colAsOf
	colPredicted
	colP10
	colP90
	colPromisedAt
	colModelVersion
	colBasis
	colRev
	numCols
)

var (
	timestamp = &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}
	enumType  = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
)

var fields = [numCols]arrow.Field{
	colTrackingNumber: {Name: "tracking_number", Type: arrow.BinaryTypes.String},
	colCarrier:        {Name: "carrier", Type: arrow.BinaryTypes.String},
	colService:        {Name: "service", Type: arrow.BinaryTypes.String},
	colLane:           {Name: "lane", Type: arrow.BinaryTypes.String},
	colMerchant:       {Name: "merchant", Type: arrow.BinaryTypes.String},
	colStatus:         {Name: "status", Type: enumType},
	colMilestone:      {Name: "milestone", Type: enumType},
	colAsOf:           {Name: "as_of", Type: timestamp},
	colPredicted:      {Name: "predicted_delivery", Type: timestamp},
	colP10:            {Name: "p10", Type: timestamp},
	colP90:            {Name: "p90", Type: timestamp},
	colPromisedAt:     {Name: "promised_at", Type: timestamp, Nullable: true},
	colModelVersion:   {Name: "model_version", Type: timestamp},
	colBasis:          {Name: "basis", Type: enumType},
	colRev:            {Name: "rev", Type: arrow.PrimitiveTypes.Uint64},
}

var schema = arrow.NewSchema(fields[:], nil)

// Schema returns the Arrow schema of an export: the columns of the table in
// the package doc, in that order.
func Schema() *arrow.Schema { return schema }

// enum is the fixed dictionary of a column whose values are the names of a
// uint8 code (schemas.Status, eta.Milestone, eta.Basis). Every code is
// covered, the invalid ones too, so a new status or basis needs no change
// here. Codes that share a name share an entry: every invalid status is
// "unknown", and a milestone of a destination-only status reads the same
// with or without its destination bit. A name reads back as the code its
// package's parser returns (the milestone with the bit, as NewMilestone
// makes it), else as the first code that has it.
type enum struct {
	column string
	names  []string
	index  [256]int8
	codes  map[string]uint8
}

func newEnum(column string, name func(uint8) string, parse func(string) (uint8, error)) *enum {
	e := &enum{column: column, codes: make(map[string]uint8)}
	pos := make(map[string]int)
	for c := range 256 {
		n := name(uint8(c))
		i, ok := pos[n]
		if !ok {
			i = len(e.names)
			pos[n] = i
			e.names = append(e.names, n)
			e.codes[n] = uint8(c)
			if p, err := parse(n); err == nil && name(p) == n {
				e.codes[n] = p
			}
		}
		e.index[c] = int8(i) // fewer than 128 names, checked in the test
	}
	return e
}

// code returns the code named n.
func (e *enum) code(n string) (uint8, error) {
	c, ok := e.codes[n]
	if !ok {
		return 0, fmt.Errorf("unknown %s %q", e.column, n)
	}
	return c, nil
}

var (
	statusEnum = newEnum("status",
		func(c uint8) string { return schemas.Status(c).String() },
		func(n string) (uint8, error) { s, err := schemas.ParseStatus(n); return uint8(s), err })
	milestoneEnum = newEnum("milestone",
		func(c uint8) string { return eta.Milestone(c).String() },
		parseMilestone)
	basisEnum = newEnum("basis",
		func(c uint8) string { return eta.Basis(c).String() },
		func(n string) (uint8, error) { b, err := eta.ParseBasis(n); return uint8(b), err })
)

// parseMilestone is eta.ParseMilestone, except that it reads a status code
// ending in "_destination" (arrived_destination) as that status, which
// eta.ParseMilestone takes for the suffix and rejects.
func parseMilestone(n string) (uint8, error) {
	if st, err := schemas.ParseStatus(n); err == nil {
		return uint8(eta.NewMilestone(st, false)), nil
	}
	m, err := eta.ParseMilestone(n)
	return uint8(m), err
}

// errClosed is returned by Write after Close.
var errClosed = errors.New("export writer is closed")

// Writer streams records into an export file, BatchRows rows at a time.
// It is not safe for concurrent use.
type Writer struct {
	format Format
	mem    memory.Allocator
	batch  int

	str   [colMerchant + 1]*array.StringBuilder // tracking_number ... merchant
	enums [3]*array.Int8Builder                 // status, milestone, basis
	dicts [3]arrow.Array
	times [colModelVersion - colAsOf + 1]*array.TimestampBuilder // as_of ... model_version
	rev   *array.Uint64Builder

	pending int   // rows in the builders
	rows    int64 // rows accepted by Write

	ipc *ipc.FileWriter
	pq  *pqarrow.FileWriter

	err    error // the first write error; every later call returns it
	closed bool
}

// NewWriter returns a Writer that writes an export in format f to w. The
// file is complete only once Close has returned nil.
func NewWriter(w io.Writer, f Format) (*Writer, error) {
	return newWriter(w, f, memory.DefaultAllocator, BatchRows)
}

// newWriter is NewWriter with the allocator and the batch size as
// parameters, so tests can check for leaks and make many small batches.
func newWriter(w io.Writer, f Format, mem memory.Allocator, batch int) (*Writer, error) {
	if _, err := ParseFormat(string(f)); err != nil {
		return nil, err
	}
	if batch <= 0 {
		return nil, fmt.Errorf("cannot write export in batches of %d rows", batch)
	}
	wr := &Writer{format: f, mem: mem, batch: batch}
	// pqarrow closes a sink that is an io.Closer; the caller owns w.
	sink := struct{ io.Writer }{w}
	switch f {
	case Arrow:
		iw, err := ipc.NewFileWriter(sink, ipc.WithSchema(schema), ipc.WithAllocator(mem))
		if err != nil {
			return nil, fmt.Errorf("cannot start arrow export: %w", err)
		}
		wr.ipc = iw
	case Parquet:
		props := parquet.NewWriterProperties(
			parquet.WithAllocator(mem),
			parquet.WithCompression(compress.Codecs.Zstd),
			parquet.WithMaxRowGroupLength(int64(batch)),
			// Unique in the file: a dictionary would only cost a hash
			// of every value (most of the writer's time) and be dropped
			// for plain encoding once it outgrew its page.
			parquet.WithDictionaryFor(fields[colTrackingNumber].Name, false),
			parquet.WithCreatedBy("shiplens eta export"),
		)
		pq, err := pqarrow.NewFileWriter(schema, sink, props,
			pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem)))
		if err != nil {
			return nil, fmt.Errorf("cannot start parquet export: %w", err)
		}
		wr.pq = pq
	}
	for i := range wr.str {
		wr.str[i] = array.NewStringBuilder(mem)
	}
	for i, e := range []*enum{statusEnum, milestoneEnum, basisEnum} {
		wr.enums[i] = array.NewInt8Builder(mem)
		b := array.NewStringBuilder(mem)
		b.AppendValues(e.names, nil)
		wr.dicts[i] = b.NewArray()
		b.Release()
	}
	for i := range wr.times {
		wr.times[i] = array.NewTimestampBuilder(mem, timestamp)
	}
	wr.rev = array.NewUint64Builder(mem)
	wr.reserve()
	return wr, nil
}

// reserve sizes the builders for a whole batch, so appending never grows
// them.
func (w *Writer) reserve() {
	for _, b := range w.str {
		b.Reserve(w.batch)
	}
	for _, b := range w.enums {
		b.Reserve(w.batch)
	}
	for _, b := range w.times {
		b.Reserve(w.batch)
	}
	w.rev.Reserve(w.batch)
}

// Write adds r to the export. Every BatchRows records it writes a batch to
// the underlying writer; an error from there is returned by this and every
// later call. Arrow strings are UTF-8, so bytes of r's strings that are not
// are written as U+FFFD.
func (w *Writer) Write(r eta.Record) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errClosed
	}
	w.str[colTrackingNumber].Append(validUTF8(r.TrackingNumber))
	w.str[colCarrier].Append(validUTF8(r.Carrier))
	w.str[colService].Append(validUTF8(r.Service))
	w.str[colLane].Append(validUTF8(r.Lane))
	w.str[colMerchant].Append(validUTF8(r.Merchant))
	w.enums[0].UnsafeAppend(statusEnum.index[r.Status])
	w.enums[1].UnsafeAppend(milestoneEnum.index[r.Milestone])
	w.enums[2].UnsafeAppend(basisEnum.index[r.Basis])
	t := w.times[:]
	t[colAsOf-colAsOf].UnsafeAppend(arrow.Timestamp(r.AsOf))
	t[colPredicted-colAsOf].UnsafeAppend(arrow.Timestamp(r.P50))
	t[colP10-colAsOf].UnsafeAppend(arrow.Timestamp(r.P10))
	t[colP90-colAsOf].UnsafeAppend(arrow.Timestamp(r.P90))
	if r.PromisedAt == 0 {
		t[colPromisedAt-colAsOf].AppendNull()
	} else {
		t[colPromisedAt-colAsOf].UnsafeAppend(arrow.Timestamp(r.PromisedAt))
	}
	t[colModelVersion-colAsOf].UnsafeAppend(arrow.Timestamp(r.Version))
	w.rev.UnsafeAppend(r.Rev)
	w.pending++
	w.rows++
	if w.pending == w.batch {
		return w.flush()
	}
	return nil
}

// validUTF8 returns s with each run of invalid UTF-8 replaced by U+FFFD.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// flush writes the pending rows as one record batch or row group.
func (w *Writer) flush() error {
	if w.pending == 0 {
		return nil
	}
	var cols [numCols]arrow.Array
	for i, b := range w.str {
		cols[i] = b.NewArray()
	}
	for i, col := range [...]int{colStatus, colMilestone, colBasis} {
		idx := w.enums[i].NewArray()
		cols[col] = array.NewDictionaryArray(enumType, idx, w.dicts[i])
		idx.Release()
	}
	for i, b := range w.times {
		cols[colAsOf+i] = b.NewArray()
	}
	cols[colRev] = w.rev.NewArray()
	rec := array.NewRecordBatch(schema, cols[:], int64(w.pending))
	for _, c := range cols {
		c.Release()
	}
	defer rec.Release()

	var err error
	switch w.format {
	case Arrow:
		err = w.ipc.Write(rec)
	case Parquet:
		err = w.pq.Write(rec)
	}
	if err != nil {
		w.err = fmt.Errorf("cannot write %s batch of %d rows: %w", w.format, w.pending, err)
		return w.err
	}
	w.pending = 0
	w.reserve()
	return nil
}

// Close writes the pending rows and the format's footer. It does not close
// the underlying io.Writer. Calling it again returns the first call's
// result.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	defer w.release()
	if w.err != nil {
		return w.err
	}
	if err := w.flush(); err != nil {
		return err
	}
	var err error
	switch w.format {
	case Arrow:
		err = w.ipc.Close()
	case Parquet:
		err = w.pq.Close()
	}
	if err != nil {
		w.err = fmt.Errorf("cannot close %s export: %w", w.format, err)
	}
	return w.err
}

func (w *Writer) release() {
	for _, b := range w.str {
		b.Release()
	}
	for i := range w.enums {
		w.enums[i].Release()
		w.dicts[i].Release()
	}
	for _, b := range w.times {
		b.Release()
	}
	w.rev.Release()
}

// Rows returns the number of records Write has accepted, written out or
// still pending.
func (w *Writer) Rows() int64 { return w.rows }
