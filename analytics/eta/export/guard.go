package export

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A corrupt file can do worse to the arrow-go readers than make them panic,
// which Read recovers from: arrow-go allocates as many schema fields as a
// flatbuffer's length word claims, and as many bytes as a page or buffer
// header claims, so one flipped bit asks for terabytes and the runtime dies
// of it, which no recover catches. The checks here run before the readers
// and turn such a file into an error.

// maxAlloc bounds one allocation while reading. An export allocates a
// column of one batch at a time, a few MiB; more than this is a corrupt
// size field.
const maxAlloc = 256 << 20

// errTooLarge is the panic of boundedAllocator, recovered by read.
var errTooLarge = errors.New("allocation beyond the size of any export batch")

// boundedAllocator refuses an allocation larger than maxAlloc by panicking,
// since the Allocator interface has no error return.
type boundedAllocator struct{ memory.Allocator }

func (a boundedAllocator) Allocate(size int) []byte {
	if size > maxAlloc {
		panic(errTooLarge)
	}
	return a.Allocator.Allocate(size)
}

func (a boundedAllocator) Reallocate(size int, b []byte) []byte {
	if size > maxAlloc {
		panic(errTooLarge)
	}
	return a.Allocator.Reallocate(size, b)
}

// checkArrowFooter checks the schema in the footer of the Arrow IPC file r
// of size bytes. A footer it cannot find is left to ipc.NewFileReader to
// reject.
func checkArrowFooter(r io.ReaderAt, size int64) error {
	const tail = 4 + 6 // footer length, "ARROW1"
	if size < 8+tail {
		return nil
	}
	var t [tail]byte
	if _, err := r.ReadAt(t[:], size-tail); err != nil {
		return nil
	}
	n := int64(binary.LittleEndian.Uint32(t[:4]))
	if n <= 0 || n > size-tail-8 {
		return nil
	}
	b := make([]byte, n) // n < size: the file holds it
	if _, err := r.ReadAt(b, size-tail-n); err != nil {
		return nil
	}
	fb := &flatbuf{b: b}
	root, err := fb.deref(0)
	if err != nil {
		return err
	}
	footer, err := fb.table(root)
	if err != nil {
		return err
	}
	schema, ok, err := fb.ref(footer, 1) // Footer.schema
	if err != nil || !ok {
		return err
	}
	if err := fb.schema(schema); err != nil {
		return err
	}
	return fb.keyValues(footer, 4) // Footer.custom_metadata
}

// checkStoredSchema checks the Arrow schema that pqarrow stores in a
// Parquet file's key-value metadata (base64 of an IPC schema message),
// which pqarrow decodes when it opens the file. A value it cannot decode
// is left to pqarrow to reject.
func checkStoredSchema(v string) error {
	var b []byte
	var err error
	if len(v)%4 == 0 { // as pqarrow decodes it
		b, err = base64.StdEncoding.DecodeString(v)
	}
	if len(b) == 0 || err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(v); err != nil {
			return nil
		}
	}
	if len(b) < 8 {
		return nil
	}
	start, n := 4, int64(binary.LittleEndian.Uint32(b))
	switch n {
	case 0:
		return nil
	case 0xFFFFFFFF: // continuation marker, then the length
		start, n = 8, int64(int32(binary.LittleEndian.Uint32(b[4:])))
	default:
		n = int64(int32(n))
	}
	if n < 4 {
		return nil
	}
	if n > int64(len(b)-start) {
		return fmt.Errorf("stored arrow schema of %d bytes claims %d: %w", len(b), n, errFlatbuffer)
	}
	fb := &flatbuf{b: b[start : start+int(n)]}
	root, err := fb.deref(0)
	if err != nil {
		return err
	}
	msg, err := fb.table(root)
	if err != nil {
		return err
	}
	if typ, err := fb.byteField(msg, 1); err != nil || typ != 1 { // Message.header_type Schema
		return err
	}
	schema, ok, err := fb.ref(msg, 2) // Message.header
	if err != nil || !ok {
		return err
	}
	if err := fb.schema(schema); err != nil {
		return err
	}
	return fb.keyValues(msg, 4) // Message.custom_metadata
}

// errFlatbuffer reports a flatbuffer whose offsets or lengths point outside
// it.
var errFlatbuffer = errors.New("corrupt arrow schema flatbuffer")

// Bounds of a schema walk: an export has 15 flat fields, and offsets that
// share tables could make a small buffer describe an exponential tree.
const (
	maxSchemaNodes = 1 << 16
	maxSchemaDepth = 64
)

// flatbuf walks the parts of a flatbuffer that arrow-go sizes allocations
// by, checking each offset and length against the buffer first. It follows
// Arrow's Schema.fbs: the slot numbers are the fields' ids there.
type flatbuf struct {
	b     []byte
	nodes int
}

// table is a flatbuffer table: its position and its vtable's.
type table struct{ pos, vt, vtLen int }

func (f *flatbuf) bad(what string, at int) error {
	return fmt.Errorf("%s at %d of %d bytes: %w", what, at, len(f.b), errFlatbuffer)
}

func (f *flatbuf) u32(at int) (uint32, error) {
	if at < 0 || at > len(f.b)-4 {
		return 0, f.bad("offset out of range", at)
	}
	return binary.LittleEndian.Uint32(f.b[at:]), nil
}

func (f *flatbuf) u16(at int) (int, error) {
	if at < 0 || at > len(f.b)-2 {
		return 0, f.bad("offset out of range", at)
	}
	return int(binary.LittleEndian.Uint16(f.b[at:])), nil
}

// deref returns the position the uoffset at at points to.
func (f *flatbuf) deref(at int) (int, error) {
	o, err := f.u32(at)
	if err != nil {
		return 0, err
	}
	to := int64(at) + int64(o)
	if to >= int64(len(f.b)) {
		return 0, f.bad("offset out of range", at)
	}
	return int(to), nil
}

func (f *flatbuf) table(pos int) (table, error) {
	so, err := f.u32(pos)
	if err != nil {
		return table{}, err
	}
	vt := int64(pos) - int64(int32(so))
	if vt < 0 || vt > int64(len(f.b)-4) {
		return table{}, f.bad("vtable out of range", pos)
	}
	vtLen, err := f.u16(int(vt))
	if err != nil {
		return table{}, err
	}
	if vtLen < 4 || int(vt)+vtLen > len(f.b) {
		return table{}, f.bad("vtable out of range", pos)
	}
	return table{pos: pos, vt: int(vt), vtLen: vtLen}, nil
}

// slot returns the position of field slot of t, or ok false when absent.
func (f *flatbuf) slot(t table, slot int) (at int, ok bool, err error) {
	vo := 4 + 2*slot
	if vo+2 > t.vtLen {
		return 0, false, nil
	}
	o, err := f.u16(t.vt + vo)
	if err != nil || o == 0 {
		return 0, false, err
	}
	return t.pos + o, true, nil
}

// ref returns where the offset field slot of t points to.
func (f *flatbuf) ref(t table, slot int) (pos int, ok bool, err error) {
	at, ok, err := f.slot(t, slot)
	if err != nil || !ok {
		return 0, false, err
	}
	pos, err = f.deref(at)
	return pos, err == nil, err
}

func (f *flatbuf) byteField(t table, slot int) (byte, error) {
	at, ok, err := f.slot(t, slot)
	if err != nil || !ok {
		return 0, err
	}
	if at >= len(f.b) {
		return 0, f.bad("field out of range", at)
	}
	return f.b[at], nil
}

// vector returns the position of the first element of vector field slot
// of t and their number, having checked that they fit in the buffer.
func (f *flatbuf) vector(t table, slot, elemSize int) (start, n int, err error) {
	pos, ok, err := f.ref(t, slot)
	if err != nil || !ok {
		return 0, 0, err
	}
	ln, err := f.u32(pos)
	if err != nil {
		return 0, 0, err
	}
	start = pos + 4
	if int64(ln)*int64(elemSize) > int64(len(f.b)-start) {
		return 0, 0, f.bad(fmt.Sprintf("vector of %d elements", ln), pos)
	}
	if elemSize == 1 { // a string: not walked
		return start, int(ln), nil
	}
	if f.nodes += int(ln); f.nodes > maxSchemaNodes {
		return 0, 0, f.bad("schema too large", pos)
	}
	return start, int(ln), nil
}

// schema checks a Schema table: fields (1), custom_metadata (2), features (3).
func (f *flatbuf) schema(pos int) error {
	t, err := f.table(pos)
	if err != nil {
		return err
	}
	start, n, err := f.vector(t, 1, 4)
	if err != nil {
		return err
	}
	for i := range n {
		if err := f.field(start+4*i, 0); err != nil {
			return err
		}
	}
	if err := f.keyValues(t, 2); err != nil {
		return err
	}
	_, _, err = f.vector(t, 3, 8)
	return err
}

// unionType is Type.Union in Schema.fbs, whose table has a vector typeIds.
const unionType = 14

// field checks the Field table the offset at at points to: name (0),
// type_type (2), type (3), children (5), custom_metadata (6).
func (f *flatbuf) field(at, depth int) error {
	if depth > maxSchemaDepth {
		return f.bad("schema nested too deep", at)
	}
	pos, err := f.deref(at)
	if err != nil {
		return err
	}
	t, err := f.table(pos)
	if err != nil {
		return err
	}
	if _, _, err := f.vector(t, 0, 1); err != nil {
		return err
	}
	typ, err := f.byteField(t, 2)
	if err != nil {
		return err
	}
	if typ == unionType {
		if pos, ok, err := f.ref(t, 3); err != nil {
			return err
		} else if ok {
			u, err := f.table(pos)
			if err != nil {
				return err
			}
			if _, _, err := f.vector(u, 1, 4); err != nil { // Union.typeIds
				return err
			}
		}
	}
	start, n, err := f.vector(t, 5, 4)
	if err != nil {
		return err
	}
	for i := range n {
		if err := f.field(start+4*i, depth+1); err != nil {
			return err
		}
	}
	return f.keyValues(t, 6)
}

// keyValues checks a vector of KeyValue tables: key (0), value (1).
func (f *flatbuf) keyValues(t table, slot int) error {
	start, n, err := f.vector(t, slot, 4)
	if err != nil {
		return err
	}
	for i := range n {
		pos, err := f.deref(start + 4*i)
		if err != nil {
			return err
		}
		kv, err := f.table(pos)
		if err != nil {
			return err
		}
		for s := range 2 {
			if _, _, err := f.vector(kv, s, 1); err != nil {
				return err
			}
		}
	}
	return nil
}
