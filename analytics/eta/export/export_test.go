package export

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/schemas"
)

// testBatch makes the tests' files hold several batches of a few rows.
const testBatch = 10

// testRecords returns n records that cover the edges: empty and non-ASCII
// strings, no promise (null promised_at), zero and maximal times and revs,
// every status and basis, and invalid codes.
func testRecords(n int) []eta.Record {
	carriers := []string{"yunexpress", "", "4px", "cainiao"}
	services := []string{"standard", "", "express"}
	lanes := []string{"CN-US", "", "CN-DE"}
	merchants := []string{"商户", "", "acme", "Ünïcødé shop 🚚"}
	statuses := append([]schemas.Status{schemas.StatusUnknown, 200}, schemas.Statuses()...)
	bases := []eta.Basis{eta.BasisCarrierServiceLane, eta.BasisCarrierLane, eta.BasisLane, eta.BasisDestination,
		eta.BasisGlobal, eta.BasisPromised, eta.BasisPrior, eta.BasisDelivered}
	out := make([]eta.Record, n)
	for i := range out {
		st := statuses[i%len(statuses)]
		r := eta.Record{
			TrackingNumber: fmt.Sprintf("SL%08d", i),
			Carrier:        carriers[i%len(carriers)],
			Service:        services[i%len(services)],
			Lane:           lanes[i%len(lanes)],
			Merchant:       merchants[i%len(merchants)],
			Status:         st,
			PromisedAt:     1_760_000_000 + uint32(i),
			Rev:            uint64(i) * 1_000_003,
			Prediction: eta.Prediction{
				AsOf:      1_750_000_000 + uint32(i)*37,
				Milestone: eta.NewMilestone(st, i%2 == 0),
				P10:       1_750_100_000 + uint32(i),
				P50:       1_750_200_000 + uint32(i),
				P90:       1_750_300_000 + uint32(i),
				Version:   1_749_945_600,
				Basis:     bases[i%len(bases)],
			},
		}
		switch i % 7 {
		case 0:
			r.PromisedAt = 0
		case 3:
			r.AsOf, r.P10, r.P50, r.P90, r.PromisedAt, r.Version = 0, 0, 0, 0, math.MaxUint32, 0
		case 5:
			r.AsOf, r.P10, r.P50, r.P90, r.Version = math.MaxUint32, math.MaxUint32, math.MaxUint32, math.MaxUint32, math.MaxUint32
			r.Rev = math.MaxUint64
		}
		if i%11 == 4 {
			r.TrackingNumber = ""
		}
		out[i] = r
	}
	return out
}

// writeFile writes recs in format f, testBatch rows a batch, and checks
// that the writer released all it allocated.
func writeFile(t testing.TB, f Format, recs []eta.Record) []byte {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var buf bytes.Buffer
	w, err := newWriter(&buf, f, mem, testBatch)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.Rows(); got != int64(len(recs)) {
		t.Fatalf("Rows() = %d, want %d", got, len(recs))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// wantRecord is what r reads back as: a status or milestone is written as
// its name, and a name reads back as the code that the schemas and eta
// parsers give it; the invalid statuses all read as the zero status
// "unknown", the milestones of invalid statuses as the first two codes.
func wantRecord(r eta.Record) eta.Record {
	if !r.Status.Valid() {
		r.Status = schemas.StatusUnknown
	}
	if m := r.Milestone; !m.Status().Valid() {
		r.Milestone = eta.Milestone(0)
		if m.InDestination() {
			r.Milestone = 1
		}
	} else {
		r.Milestone = eta.NewMilestone(m.Status(), m.InDestination())
	}
	return r
}

func TestRoundTrip(t *testing.T) {
	for _, f := range []Format{Arrow, Parquet} {
		for _, n := range []int{0, 1, testBatch, 3*testBatch + 7} {
			t.Run(fmt.Sprintf("%s/%d", f, n), func(t *testing.T) {
				recs := testRecords(n)
				data := writeFile(t, f, recs)

				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				var got []eta.Record
				if err := read(bytes.NewReader(data), int64(len(data)), mem, func(r eta.Record) error {
					got = append(got, r)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if len(got) != len(recs) {
					t.Fatalf("read %d records, want %d", len(got), len(recs))
				}
				for i := range recs {
					if want := wantRecord(recs[i]); got[i] != want {
						t.Fatalf("record %d:\n got %+v\nwant %+v", i, got[i], want)
					}
				}
			})
		}
	}
}

// TestReadTempFile reads through an *os.File, as the CLI does, with the
// exported entry points.
func TestReadTempFile(t *testing.T) {
	recs := testRecords(25)
	for _, f := range []Format{Arrow, Parquet} {
		t.Run(string(f), func(t *testing.T) {
			fh, err := os.CreateTemp(t.TempDir(), "eta-*."+string(f))
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			w, err := NewWriter(fh, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if err := w.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			// Close left the file open: this write would fail otherwise.
			if _, err := fh.Write(nil); err != nil {
				t.Fatalf("the export closed the file: %v", err)
			}
			st, err := fh.Stat()
			if err != nil {
				t.Fatal(err)
			}
			i := 0
			if err := Read(fh, st.Size(), func(r eta.Record) error {
				if want := wantRecord(recs[i]); r != want {
					t.Errorf("record %d:\n got %#v\nwant %#v", i, r, want)
				}
				i++
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if i != len(recs) {
				t.Fatalf("read %d records, want %d", i, len(recs))
			}
		})
	}
}

// The checks below read the files with arrow-go alone and compare them
// with the input, column by column, against the documented contract.

var wantColumns = []struct {
	name, typ string
	nullable  bool
}{
	{"tracking_number", "utf8", false},
	{"carrier", "utf8", false},
	{"service", "utf8", false},
	{"lane", "utf8", false},
	{"merchant", "utf8", false},
	{"status", "dictionary<values=utf8, indices=int8, ordered=false>", false},
	{"milestone", "dictionary<values=utf8, indices=int8, ordered=false>", false},
	{"as_of", "timestamp[s, tz=UTC]", false},
	{"predicted_delivery", "timestamp[s, tz=UTC]", false},
	{"p10", "timestamp[s, tz=UTC]", false},
	{"p90", "timestamp[s, tz=UTC]", false},
	{"promised_at", "timestamp[s, tz=UTC]", true},
	{"model_version", "timestamp[s, tz=UTC]", false},
	{"basis", "dictionary<values=utf8, indices=int8, ordered=false>", false},
	{"rev", "uint64", false},
}

func TestSchema(t *testing.T) {
	checkSchema(t, Schema(), "s")
}

// checkSchema checks sc against wantColumns, with timestamps in unit.
func checkSchema(t *testing.T, sc *arrow.Schema, unit string) {
	t.Helper()
	if sc.NumFields() != len(wantColumns) {
		t.Fatalf("schema has %d fields, want %d:\n%s", sc.NumFields(), len(wantColumns), sc)
	}
	for i, c := range wantColumns {
		f := sc.Field(i)
		typ := strings.Replace(c.typ, "timestamp[s,", "timestamp["+unit+",", 1)
		if f.Name != c.name || f.Type.String() != typ || f.Nullable != c.nullable {
			t.Errorf("field %d is %s %s nullable=%v, want %s %s nullable=%v", i, f.Name, f.Type, f.Nullable, c.name, typ, c.nullable)
		}
	}
}

// checkBatch compares rec, rows [from, from+rec.NumRows()) of the file,
// with recs; ticks is the number of timestamp ticks per second.
func checkBatch(t *testing.T, rec arrow.RecordBatch, recs []eta.Record, from int, ticks int64) {
	t.Helper()
	str := func(col, i int) string {
		switch a := rec.Column(col).(type) {
		case *array.String:
			return a.Value(i)
		case *array.Dictionary:
			return a.Dictionary().(*array.String).Value(a.GetValueIndex(i))
		}
		t.Fatalf("column %d is %T", col, rec.Column(col))
		return ""
	}
	ts := func(col, i int) (int64, bool) {
		a := rec.Column(col).(*array.Timestamp)
		return int64(a.Value(i)), a.IsValid(i)
	}
	for i := range int(rec.NumRows()) {
		r := recs[from+i]
		for col, want := range []string{r.TrackingNumber, r.Carrier, r.Service, r.Lane, r.Merchant,
			r.Status.String(), r.Milestone.String()} {
			if got := str(col, i); got != want {
				t.Errorf("row %d %s = %q, want %q", from+i, wantColumns[col].name, got, want)
			}
		}
		if got, want := str(13, i), r.Basis.String(); got != want {
			t.Errorf("row %d basis = %q, want %q", from+i, got, want)
		}
		for j, want := range []uint32{r.AsOf, r.P50, r.P10, r.P90, r.PromisedAt, r.Version} {
			col := 7 + j
			got, valid := ts(col, i)
			wantValid := !(col == 11 && want == 0)
			if valid != wantValid || (valid && got != int64(want)*ticks) {
				t.Errorf("row %d %s = %d (valid %v), want %d×%d (valid %v)", from+i, wantColumns[col].name, got, valid, want, ticks, wantValid)
			}
		}
		if got := rec.Column(14).(*array.Uint64).Value(i); got != r.Rev {
			t.Errorf("row %d rev = %d, want %d", from+i, got, r.Rev)
		}
		if rec.Column(11).IsValid(i) == (r.PromisedAt == 0) {
			t.Errorf("row %d promised_at null = %v for PromisedAt %d", from+i, rec.Column(11).IsNull(i), r.PromisedAt)
		}
	}
}

func TestArrowRaw(t *testing.T) {
	recs := testRecords(3*testBatch + 7)
	data := writeFile(t, Arrow, recs)
	if !bytes.HasPrefix(data, []byte("ARROW1")) || !bytes.HasSuffix(data, []byte("ARROW1")) {
		t.Fatalf("not an Arrow IPC file: % x ... % x", data[:8], data[len(data)-8:])
	}
	fr, err := ipc.NewFileReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	checkSchema(t, fr.Schema(), "s")
	if got, want := fr.NumRecords(), 4; got != want {
		t.Fatalf("%d record batches, want %d", got, want)
	}
	from := 0
	for i := range fr.NumRecords() {
		rec, err := fr.RecordBatch(i)
		if err != nil {
			t.Fatal(err)
		}
		if want := min(testBatch, len(recs)-from); int(rec.NumRows()) != want {
			t.Fatalf("batch %d has %d rows, want %d", i, rec.NumRows(), want)
		}
		checkBatch(t, rec, recs, from, 1)
		from += int(rec.NumRows())
	}
}

func TestParquetRaw(t *testing.T) {
	recs := testRecords(3*testBatch + 7)
	data := writeFile(t, Parquet, recs)
	if !bytes.HasPrefix(data, []byte("PAR1")) || !bytes.HasSuffix(data, []byte("PAR1")) {
		t.Fatalf("not a Parquet file")
	}
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if got, want := pf.NumRowGroups(), 4; got != want {
		t.Fatalf("%d row groups, want %d", got, want)
	}
	if got := pf.NumRows(); got != int64(len(recs)) {
		t.Fatalf("%d rows, want %d", got, len(recs))
	}
	md := pf.MetaData()
	if md.KeyValueMetadata().FindValue("ARROW:schema") == nil {
		t.Error("the Arrow schema is not stored")
	}
	for c := range md.Schema.NumColumns() {
		cc, err := md.RowGroup(0).ColumnChunk(c)
		if err != nil {
			t.Fatal(err)
		}
		if cc.Compression() != compress.Codecs.Zstd {
			t.Errorf("column %d is compressed with %s, want zstd", c, cc.Compression())
		}
	}
	if got := md.Schema.Column(7).LogicalType().String(); got != `Timestamp(isAdjustedToUTC=true, timeUnit=milliseconds, is_from_converted_type=false, force_set_converted_type=false)` {
		t.Errorf("as_of is %s", got)
	}

	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: testBatch}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := fr.Schema()
	if err != nil {
		t.Fatal(err)
	}
	// Parquet has no seconds unit: the stored schema gives the names, the
	// time zone and the dictionaries back, not the unit.
	checkSchema(t, sc, "ms")
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	from := 0
	for rr.Next() {
		rec := rr.RecordBatch()
		checkBatch(t, rec, recs, from, 1000)
		from += int(rec.NumRows())
	}
	if err := rr.Err(); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	if from != len(recs) {
		t.Fatalf("read %d rows, want %d", from, len(recs))
	}
}

func TestEnumsFitInt8(t *testing.T) {
	for _, e := range []*enum{statusEnum, milestoneEnum, basisEnum} {
		if len(e.names) > math.MaxInt8+1 {
			t.Errorf("%s has %d names, more than an int8 dictionary index holds", e.column, len(e.names))
		}
	}
}

func TestParseFormat(t *testing.T) {
	f := func(s string, want Format, wantErr string) {
		t.Helper()
		got, err := ParseFormat(s)
		if got != want || (err == nil) != (wantErr == "") || (err != nil && !strings.Contains(err.Error(), wantErr)) {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q, %q", s, got, err, want, wantErr)
		}
	}
	f("arrow", Arrow, "")
	f("parquet", Parquet, "")
	f("csv", "", `unknown export format "csv"; want one of arrow, parquet`)
	f("", "", "want one of arrow, parquet")
	f("Arrow", "", "want one of arrow, parquet")

	if _, err := NewWriter(io.Discard, "feather"); err == nil {
		t.Error("NewWriter accepted format feather")
	}
}

func TestReadRejects(t *testing.T) {
	arrowFile := writeFile(t, Arrow, testRecords(25))
	parquetFile := writeFile(t, Parquet, testRecords(25))
	f := func(name string, data []byte, wantErr string, unknown bool) {
		t.Helper()
		err := Read(bytes.NewReader(data), int64(len(data)), func(eta.Record) error { return nil })
		if err == nil || !strings.Contains(err.Error(), wantErr) || errors.Is(err, ErrUnknownFormat) != unknown {
			t.Errorf("%s: Read() = %v, want an error with %q (unknown format %v)", name, err, wantErr, unknown)
		}
	}
	f("empty", nil, "not an Arrow IPC file (ARROW1) nor a Parquet file (PAR1)", true)
	f("csv", []byte("tracking_number,carrier\nSL1,4px\n"), `starting with "tracki"`, true)
	f("short", []byte("PAR"), "nor a Parquet file", true)
	f("arrow stream", []byte("\xff\xff\xff\xff\x10\x00\x00\x00"), "nor a Parquet file", true)
	f("arrow cut", arrowFile[:len(arrowFile)/2], "cannot open arrow export", false)
	f("parquet cut", parquetFile[:len(parquetFile)/2], "cannot open parquet export", false)
	f("magic only", []byte("ARROW1"), "cannot open arrow export", false)
}

func TestReadStopsAtFnError(t *testing.T) {
	stop := errors.New("stop")
	for _, f := range []Format{Arrow, Parquet} {
		data := writeFile(t, f, testRecords(25))
		n := 0
		err := Read(bytes.NewReader(data), int64(len(data)), func(eta.Record) error {
			n++
			if n == 12 {
				return stop
			}
			return nil
		})
		if err != stop || n != 12 {
			t.Errorf("%s: Read() = %v after %d records, want stop after 12", f, err, n)
		}
	}
}

func TestReadPassesFnPanic(t *testing.T) {
	data := writeFile(t, Arrow, testRecords(3))
	defer func() {
		if p := recover(); p != "fn" {
			t.Errorf("recovered %v, want the panic of fn", p)
		}
	}()
	_ = Read(bytes.NewReader(data), int64(len(data)), func(eta.Record) error { panic("fn") })
	t.Error("Read returned")
}

func TestInvalidUTF8(t *testing.T) {
	for _, f := range []Format{Arrow, Parquet} {
		data := writeFile(t, f, []eta.Record{{TrackingNumber: "SL\xff1", Merchant: "商\xe5户"}})
		var got eta.Record
		if err := Read(bytes.NewReader(data), int64(len(data)), func(r eta.Record) error { got = r; return nil }); err != nil {
			t.Fatal(err)
		}
		if got.TrackingNumber != "SL\uFFFD1" || got.Merchant != "商\uFFFD户" {
			t.Errorf("%s: read %q, %q", f, got.TrackingNumber, got.Merchant)
		}
	}
}

func TestWriteAfterClose(t *testing.T) {
	for _, f := range []Format{Arrow, Parquet} {
		w, err := NewWriter(io.Discard, f)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("%s: second Close() = %v", f, err)
		}
		if err := w.Write(eta.Record{}); err == nil {
			t.Errorf("%s: Write after Close succeeded", f)
		}
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	for _, f := range []Format{Arrow, Parquet} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		w, err := newWriter(&failWriter{n: 100}, f, mem, testBatch)
		if err != nil {
			t.Fatal(err)
		}
		var werr error
		for _, r := range testRecords(3 * testBatch) {
			if werr = w.Write(r); werr != nil {
				break
			}
		}
		cerr := w.Close()
		if werr == nil {
			werr = cerr
		}
		if werr == nil || !strings.Contains(werr.Error(), "disk full") {
			t.Errorf("%s: write error %v, want disk full", f, werr)
		}
		if cerr == nil {
			t.Errorf("%s: Close after a failed write succeeded", f)
		}
		// pqarrow leaves its column encoders unreleased after a failed
		// write; with the Go allocator that NewWriter uses the collector
		// takes them.
		if f == Arrow {
			mem.AssertSize(t, 0)
		}
	}
}

// TestReadCorruptLengths corrupts, one byte at a time, the Arrow schema
// that each format carries (the Arrow file's footer, Parquet's stored
// ARROW:schema), so that length words claim up to billions of elements.
// arrow-go would allocate them and the runtime would die of it; Read must
// return, with an error or not.
func TestReadCorruptLengths(t *testing.T) {
	f := func(name string, data []byte, from, to int, b byte) {
		t.Helper()
		bad := bytes.Clone(data)
		for i := from; i < to; i++ {
			copy(bad, data)
			bad[i] = b
			_ = Read(bytes.NewReader(bad), int64(len(bad)), func(eta.Record) error { return nil })
		}
	}
	arrowFile := writeFile(t, Arrow, testRecords(3))
	footer := int(binary.LittleEndian.Uint32(arrowFile[len(arrowFile)-10:]))
	f("arrow footer", arrowFile, len(arrowFile)-10-footer, len(arrowFile)-10, 0x7f)

	parquetFile := writeFile(t, Parquet, testRecords(3))
	pf, err := file.NewParquetReader(bytes.NewReader(parquetFile))
	if err != nil {
		t.Fatal(err)
	}
	stored := *pf.MetaData().KeyValueMetadata().FindValue("ARROW:schema")
	pf.Close()
	at := bytes.Index(parquetFile, []byte(stored))
	if at < 0 {
		t.Fatal("stored schema not found in the file")
	}
	f("parquet stored schema", parquetFile, at, at+len(stored), '/')
}

func TestBoundedAllocator(t *testing.T) {
	mem := boundedAllocator{memory.NewGoAllocator()}
	if b := mem.Allocate(1 << 20); len(b) != 1<<20 {
		t.Fatalf("allocated %d bytes, want 1 MiB", len(b))
	}
	for name, alloc := range map[string]func(){
		"Allocate":   func() { mem.Allocate(maxAlloc + 1) },
		"Reallocate": func() { mem.Reallocate(1<<40, nil) },
	} {
		func() {
			defer func() {
				if p := recover(); p != errTooLarge {
					t.Errorf("%s beyond the bound: recovered %v, want errTooLarge", name, p)
				}
			}()
			alloc()
		}()
	}
}

func FuzzRead(f *testing.F) {
	for _, format := range []Format{Arrow, Parquet} {
		f.Add(writeFile(f, format, testRecords(3)))
		f.Add(writeFile(f, format, nil))
	}
	f.Add([]byte("ARROW1\x00\x00"))
	f.Add([]byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		err := Read(bytes.NewReader(data), int64(len(data)), func(eta.Record) error {
			n++
			return nil
		})
		if err != nil && n > 0 && errors.Is(err, ErrUnknownFormat) {
			t.Fatalf("read %d records of a file of unknown format", n)
		}
	})
}
