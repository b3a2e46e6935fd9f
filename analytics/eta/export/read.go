package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/schemas"
)

// ErrUnknownFormat is returned by Read for a file that starts with neither
// the Arrow IPC file magic nor the Parquet one.
var ErrUnknownFormat = errors.New("not an Arrow IPC file (ARROW1) nor a Parquet file (PAR1)")

var (
	arrowMagic   = []byte("ARROW1")
	parquetMagic = []byte("PAR1")
)

// Read reads an export from r, a file of size bytes, and calls fn with each
// record in file order; it stops at the first error fn returns and returns
// it as is. The format is told by the magic bytes at the start of the file,
// so the file name does not matter.
//
// Columns are found by name and may come in any order; extra columns are
// ignored, so a file a planner's tool rewrote with a column added still
// reads. Strings may be plain or dictionary-encoded and timestamps in any
// unit (whole seconds are kept). A file that is neither format, lacks a
// column, has one of another type, holds a null outside promised_at or a
// name that no status, milestone or basis has, is an error.
//
// So is a corrupt file, which Read may get from a user: before the arrow-go
// readers see the file, Read checks the lengths in its Arrow schema (which
// they would allocate without a bound) and refuses any allocation larger
// than an export's batch needs (256 MiB); it recovers a panic of the
// readers and returns it as an error. A panic in fn is not recovered.
func Read(r io.ReaderAt, size int64, fn func(eta.Record) error) error {
	return read(r, size, memory.DefaultAllocator, fn)
}

func read(r io.ReaderAt, size int64, mem memory.Allocator, fn func(eta.Record) error) (err error) {
	mem = boundedAllocator{mem}
	var head [6]byte
	n, rerr := io.NewSectionReader(r, 0, size).ReadAt(head[:], 0)
	if n < len(head) && rerr != nil && rerr != io.EOF {
		return fmt.Errorf("cannot read export header: %w", rerr)
	}
	var readBatches func(io.ReaderAt, int64, memory.Allocator, func(arrow.RecordBatch) error) error
	switch {
	case n >= len(arrowMagic) && bytes.Equal(head[:len(arrowMagic)], arrowMagic):
		readBatches = readArrow
	case n >= len(parquetMagic) && bytes.Equal(head[:len(parquetMagic)], parquetMagic):
		readBatches = readParquet
	default:
		return fmt.Errorf("cannot read export starting with %q: %w", head[:n], ErrUnknownFormat)
	}

	// inFn tells a panic in fn, which is the caller's to see, from one
	// in the readers, which a corrupt file can cause.
	inFn := false
	row := 0 // in the file
	defer func() {
		if p := recover(); p != nil {
			if inFn {
				panic(p)
			}
			err = fmt.Errorf("cannot read export: corrupt file: %v", p)
		}
	}()
	return readBatches(r, size, mem, func(rec arrow.RecordBatch) error {
		cols, err := bind(rec)
		if err != nil {
			return err
		}
		for i := range int(rec.NumRows()) {
			rr, err := cols.record(i)
			if err != nil {
				return fmt.Errorf("cannot read export: row %d: %w", row, err)
			}
			row++
			inFn = true
			err = fn(rr)
			inFn = false
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func readArrow(r io.ReaderAt, size int64, mem memory.Allocator, batch func(arrow.RecordBatch) error) error {
	if err := checkArrowFooter(r, size); err != nil {
		return fmt.Errorf("cannot open arrow export: %w", err)
	}
	fr, err := ipc.NewFileReader(io.NewSectionReader(r, 0, size), ipc.WithAllocator(mem))
	if err != nil {
		return fmt.Errorf("cannot open arrow export: %w", err)
	}
	defer fr.Close()
	for i := range fr.NumRecords() {
		rec, err := fr.RecordBatch(i) // owned by fr until the next call
		if err != nil {
			return fmt.Errorf("cannot read arrow export: record batch %d: %w", i, err)
		}
		if err := batch(rec); err != nil {
			return err
		}
	}
	return nil
}

func readParquet(r io.ReaderAt, size int64, mem memory.Allocator, batch func(arrow.RecordBatch) error) error {
	props := parquet.NewReaderProperties(mem)
	pf, err := file.NewParquetReader(io.NewSectionReader(r, 0, size), file.WithReadProps(props))
	if err != nil {
		return fmt.Errorf("cannot open parquet export: %w", err)
	}
	defer pf.Close()
	if v := pf.MetaData().KeyValueMetadata().FindValue("ARROW:schema"); v != nil {
		if err := checkStoredSchema(*v); err != nil {
			return fmt.Errorf("cannot open parquet export: %w", err)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: BatchRows}, mem)
	if err != nil {
		return fmt.Errorf("cannot open parquet export: %w", err)
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		return fmt.Errorf("cannot read parquet export: %w", err)
	}
	defer rr.Release()
	for rr.Next() {
		if err := batch(rr.RecordBatch()); err != nil {
			return err
		}
	}
	if err := rr.Err(); err != nil && err != io.EOF {
		return fmt.Errorf("cannot read parquet export: %w", err)
	}
	return nil
}

// columns are the columns of one record batch, bound by name.
type columns struct {
	str   [colMerchant + 1]stringColumn
	enums [3]stringColumn // status, milestone, basis
	times [colModelVersion - colAsOf + 1]timeColumn
	rev   *array.Uint64
}

// stringColumn is a utf8 column, plain or dictionary-encoded.
type stringColumn struct {
	name  string
	plain *array.String
	dict  *array.Dictionary
	words *array.String // dict's dictionary
}

// timeColumn is a timestamp column and the divisor that makes its unit
// seconds.
type timeColumn struct {
	name string
	a    *array.Timestamp
	div  int64
}

func bind(rec arrow.RecordBatch) (*columns, error) {
	sc := rec.Schema()
	n := int(rec.NumRows())
	find := func(col int) (arrow.Array, error) {
		name := fields[col].Name
		idx := sc.FieldIndices(name)
		if len(idx) == 0 {
			return nil, fmt.Errorf("cannot read export: no column %s", name)
		}
		a := rec.Column(idx[0])
		if a.Len() < n {
			return nil, fmt.Errorf("cannot read export: column %s has %d rows, want %d", name, a.Len(), n)
		}
		if !fields[col].Nullable && a.NullN() > 0 {
			return nil, fmt.Errorf("cannot read export: column %s has %d nulls", name, a.NullN())
		}
		return a, nil
	}
	str := func(col int) (stringColumn, error) {
		a, err := find(col)
		if err != nil {
			return stringColumn{}, err
		}
		c := stringColumn{name: fields[col].Name}
		switch a := a.(type) {
		case *array.String:
			c.plain = a
			err = a.Validate()
		case *array.Dictionary:
			words, ok := a.Dictionary().(*array.String)
			if !ok {
				return c, fmt.Errorf("cannot read export: column %s is %s, want utf8", c.name, a.DataType())
			}
			c.dict, c.words = a, words
			err = words.Validate()
		default:
			return c, fmt.Errorf("cannot read export: column %s is %s, want utf8", c.name, a.DataType())
		}
		if err != nil {
			return c, fmt.Errorf("cannot read export: column %s: %w", c.name, err)
		}
		return c, nil
	}

	var cs columns
	var err error
	for i := range cs.str {
		if cs.str[i], err = str(i); err != nil {
			return nil, err
		}
	}
	for i, col := range [...]int{colStatus, colMilestone, colBasis} {
		if cs.enums[i], err = str(col); err != nil {
			return nil, err
		}
	}
	for i := range cs.times {
		col := colAsOf + i
		a, err := find(col)
		if err != nil {
			return nil, err
		}
		ts, ok := a.(*array.Timestamp)
		if !ok {
			return nil, fmt.Errorf("cannot read export: column %s is %s, want timestamp", fields[col].Name, a.DataType())
		}
		cs.times[i] = timeColumn{name: fields[col].Name, a: ts, div: perSecond(ts.DataType().(*arrow.TimestampType).Unit)}
	}
	a, err := find(colRev)
	if err != nil {
		return nil, err
	}
	if cs.rev, _ = a.(*array.Uint64); cs.rev == nil {
		return nil, fmt.Errorf("cannot read export: column rev is %s, want uint64", a.DataType())
	}
	return &cs, nil
}

// perSecond returns the number of ticks of unit u in a second.
func perSecond(u arrow.TimeUnit) int64 {
	switch u {
	case arrow.Millisecond:
		return 1e3
	case arrow.Microsecond:
		return 1e6
	case arrow.Nanosecond:
		return 1e9
	}
	return 1
}

func (c *stringColumn) value(i int) (string, error) {
	if c.plain != nil {
		return c.plain.Value(i), nil
	}
	j := c.dict.GetValueIndex(i)
	if j < 0 || j >= c.words.Len() {
		return "", fmt.Errorf("column %s: dictionary index %d out of range [0, %d)", c.name, j, c.words.Len())
	}
	return c.words.Value(j), nil
}

// value returns row i in Unix seconds, or 0 for a null.
func (c *timeColumn) value(i int) (uint32, error) {
	if c.a.IsNull(i) {
		return 0, nil
	}
	v := int64(c.a.Value(i))
	if v < 0 || v/c.div > math.MaxUint32 {
		return 0, fmt.Errorf("column %s: time %d (1/%ds) out of the uint32 Unix seconds range", c.name, v, c.div)
	}
	return uint32(v / c.div), nil
}

func (cs *columns) record(i int) (eta.Record, error) {
	var r eta.Record
	var err error
	for j, p := range [...]*string{&r.TrackingNumber, &r.Carrier, &r.Service, &r.Lane, &r.Merchant} {
		if *p, err = cs.str[j].value(i); err != nil {
			return r, err
		}
	}
	var codes [3]uint8
	for j, e := range [...]*enum{statusEnum, milestoneEnum, basisEnum} {
		name, err := cs.enums[j].value(i)
		if err != nil {
			return r, err
		}
		if codes[j], err = e.code(name); err != nil {
			return r, err
		}
	}
	r.Status, r.Milestone, r.Basis = schemas.Status(codes[0]), eta.Milestone(codes[1]), eta.Basis(codes[2])
	for j, p := range [...]*uint32{&r.AsOf, &r.P50, &r.P10, &r.P90, &r.PromisedAt, &r.Version} {
		if *p, err = cs.times[j].value(i); err != nil {
			return r, err
		}
	}
	r.Rev = cs.rev.Value(i)
	return r, nil
}
