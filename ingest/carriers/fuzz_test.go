package carriers

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// fuzzParse seeds f with the testdata payloads of source, the real
// fixtures of its carrier and, for jsonl, every golden event file, and
// checks on any input the properties of checkParse.
func fuzzParse(f *testing.F, source string, adapters ...Adapter) {
	for _, file := range seedFiles(f, source) {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"", "{}", "[]", "null", "[{}]", `{"a":`, "\xff\xfe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, a := range adapters {
			checkParse(t, a, payload)
		}
	})
}

// seedFiles lists the seed payloads of source.
func seedFiles(f *testing.F, source string) []string {
	f.Helper()
	files := payloadFiles(f, source)
	if source == "jsonl" {
		goldens, err := filepath.Glob(filepath.Join("testdata", "*", "*.golden.jsonl"))
		if err != nil || len(goldens) == 0 {
			f.Fatalf("no golden event files to seed jsonl: %v", err)
		}
		files = append(files, goldens...)
	}
	var prefixes []string
	for p, s := range fixtureSources {
		if s == source {
			prefixes = append(prefixes, p)
		}
	}
	if len(prefixes) == 0 {
		return files
	}
	dir, ok, why := needFixtures(f)
	if !ok {
		f.Logf("seeding without the real fixtures: %s", why)
		return files
	}
	n := len(files)
	for _, p := range prefixes {
		real, err := filepath.Glob(filepath.Join(dir, p+"__*.json"))
		if err != nil {
			f.Fatal(err)
		}
		for _, r := range real {
			if !strings.HasSuffix(r, ".expected.json") {
				files = append(files, r)
			}
		}
	}
	if len(files) == n {
		f.Fatalf("no real fixture of %s (%v) in %s", source, prefixes, dir)
	}
	return files
}

// fatalTB is what the parse checks need of a *testing.T, so that
// TestChecksCatchBrokenAdapters can show that they fail.
type fatalTB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// checkParse checks the properties every adapter must have on any input:
// no panic; Parse is deterministic and keeps no reference to the payload; a
// whole-payload error is a *PayloadError with nothing else; every event
// validates, survives Marshal and schemas.Decode, has a unique id that does
// not depend on the clock and, for a carrier's own API, that carrier; every
// problem has a known reason, a detail and a field path, and one with a
// record index points at a real record of the payload (checkRecords).
func checkParse(t fatalTB, a Adapter, payload []byte) {
	t.Helper()
	buf := bytes.Clone(payload)
	res, err := a.Parse(buf, testNow)
	for i := range buf {
		buf[i] = '#'
	}
	res2, err2 := a.Parse(payload, testNow)
	if !reflect.DeepEqual(res, res2) || errText(err) != errText(err2) {
		t.Fatalf("%s: Parse is not deterministic, or its result shares memory with the payload:\n%+v %v\n%+v %v", a.Name(), res, err, res2, err2)
	}
	if err != nil {
		var pe *PayloadError
		if !errors.As(err, &pe) || pe.Reason == "" || !strings.HasPrefix(err.Error(), "cannot parse "+a.Name()+" payload: ") {
			t.Fatalf("%s: error %T %q is not a *PayloadError that says what it cannot parse", a.Name(), err, err)
		}
		if len(res.Events)+len(res.Problems) > 0 {
			t.Fatalf("%s: error with a result", a.Name())
		}
		return
	}
	checkEvents(t, a, payload, res)
	for _, p := range res.Problems {
		if !problemReasons[p.Reason] || p.Detail == "" || p.Field == "" || p.Index < -1 {
			t.Fatalf("%s: problem without a known reason, a detail, a field path or a sane index: %+v", a.Name(), p)
		}
		if s := p.Error(); !strings.Contains(s, p.Field) || !strings.Contains(s, string(p.Reason)) {
			t.Fatalf("%s: Problem.Error() %q does not name field and reason", a.Name(), s)
		}
	}
	checkRecords(t, a, payload, res)
}

// problemReasons are the reasons a Problem may carry; internal_error is a
// bug, and oversize only comes from a JSON line over schemas.MaxEventSize.
var problemReasons = map[schemas.Reason]bool{
	schemas.ReasonMalformed: true, schemas.ReasonOversize: true, schemas.ReasonMissingField: true,
	schemas.ReasonInvalidField: true, schemas.ReasonUnknownField: true, schemas.ReasonUnknownStatus: true,
	schemas.ReasonBadTimestamp: true, schemas.ReasonFutureTime: true,
}

// ownCarrier is the carrier of every event of a carrier's own API.
var ownCarrier = map[string]string{
	"dhl": "dhl", "fedex": "fedex", "ups": "ups", "usps": "usps", "laposte": "laposte",
	"australiapost": "australiapost", "sendle": "sendle", "seko": "seko",
}

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func checkEvents(t fatalTB, a Adapter, payload []byte, res Result) {
	t.Helper()
	ids := map[string]bool{}
	for i := range res.Events {
		e := &res.Events[i]
		if err := e.Validate(testNow); err != nil {
			t.Fatalf("%s: event %d does not validate: %v", a.Name(), i, err)
		}
		if ids[e.EventID] {
			t.Fatalf("%s: two events share id %s", a.Name(), e.EventID)
		}
		ids[e.EventID] = true
		if c, ok := ownCarrier[a.Name()]; ok && e.Carrier != c {
			t.Fatalf("%s: event %d has carrier %q", a.Name(), i, e.Carrier)
		}
		// The JSON adapters hash the id; CSV and JSON lines may carry their own.
		if a.Name() != "csv" && a.Name() != "jsonl" && !hexID.MatchString(e.EventID) {
			t.Fatalf("%s: event %d id %q is not 32 hex digits", a.Name(), i, e.EventID)
		}
		b, err := e.Marshal()
		if err != nil {
			t.Fatalf("%s: event %d does not marshal: %v", a.Name(), i, err)
		}
		back, err := schemas.Decode(b, testNow)
		if err != nil {
			t.Fatalf("%s: event %d does not decode back: %v\n%s", a.Name(), i, err, b)
		}
		if !reflect.DeepEqual(back, *e) {
			t.Fatalf("%s: event %d changes through Marshal and Decode:\n%+v\n%+v", a.Name(), i, *e, back)
		}
	}
	// Ids depend on the scan, not on the clock: an hour later every event
	// is still there with the same id (and more may pass the future check).
	later, err := a.Parse(payload, testNow.Add(time.Hour))
	if err != nil {
		t.Fatalf("%s: fails an hour later: %v", a.Name(), err)
	}
	laterIDs := map[string]bool{}
	for _, e := range later.Events {
		laterIDs[e.EventID] = true
	}
	for _, e := range res.Events {
		if !laterIDs[e.EventID] {
			t.Fatalf("%s: event %s is gone, or has another id, when parsed an hour later", a.Name(), e.EventID)
		}
	}
}

// Record numbering. Every adapter numbers the scan records of a payload in
// the order it reads them (builder.record): checkpoints, events, scans,
// activities, CSV rows, non-blank JSON lines. Records it skips with their
// shipment (FedEx's superseded trackResults, AfterShip and 17TRACK
// trackings without a carrier) keep their numbers; records inside a
// shipment or package that cannot be decoded are not numbered at all.
// Problem.Index is that number, or -1 for a shipment-level problem, and
// every record gives at most one outcome: an event, one problem, or nothing
// when it repeats an earlier scan.

// recordPaths are the paths of the scan records of each JSON source, in
// Problem.Field notation with "[]" for any index, listed in the order the
// adapter reads them where they share a prefix (an Australia Post
// consignment's items before its own events; 17TRACK's accepted[] before a
// webhook's track_info, which it then ignores). Alternatives are the shapes
// a source accepts: one object or an array of them, a webhook or a polling
// response.
var recordPaths = map[string][]string{
	"aftership":     {"msg.checkpoints[]", "data.tracking.checkpoints[]", "data.trackings[].checkpoints[]"},
	"17track":       {"data.accepted[].track_info.tracking.providers[].events[]", "data.track_info.tracking.providers[].events[]"},
	"dhl":           {"shipments[].events[]"},
	"fedex":         {"output.completeTrackResults[].trackResults[].scanEvents[]"},
	"ups":           {"trackResponse.shipment[].package[].activity[]"},
	"usps":          {"trackingEvents[]", "[].trackingEvents[]"},
	"laposte":       {"shipment.event[]", "[].shipment.event[]"},
	"australiapost": {"tracking_results[].trackable_items[].items[].events[]", "tracking_results[].trackable_items[].events[]"},
	"sendle":        {"tracking_events[]"},
	"seko":          {"Events[]", "[].Events[]"},
}

// recordPattern matches the record path at the start of a Problem.Field.
func recordPattern(path string) *regexp.Regexp {
	return regexp.MustCompile(`^` + strings.ReplaceAll(regexp.QuoteMeta(path), `\[\]`, `\[(\d+)\]`) + `(?:\.|$)`)
}

var recordPatterns = func() map[string][]*regexp.Regexp {
	m := map[string][]*regexp.Regexp{}
	for s, paths := range recordPaths {
		for _, p := range paths {
			m[s] = append(m[s], recordPattern(p))
		}
	}
	return m
}()

// checkRecords checks the problems against the records of the payload,
// found independently of the adapter: the JSON sources' records by walking
// the payload along recordPaths, CSV rows with encoding/csv, JSON lines
// with schemas.Decode.
func checkRecords(t fatalTB, a Adapter, payload []byte, res Result) {
	t.Helper()
	switch a.Name() {
	case "csv":
		c, ok := a.(CSV)
		if b, broken := a.(brokenAdapter); broken {
			c, ok = b.Adapter.(CSV)
		}
		if !ok {
			t.Fatalf("csv: adapter %T is not a CSV", a)
		}
		checkCSVRecords(t, c, payload, res)
		return
	case "jsonl":
		checkJSONLRecords(t, payload, res)
		return
	}
	patterns, ok := recordPaths[a.Name()]
	if !ok {
		t.Fatalf("%s: no recordPaths", a.Name())
	}
	// An upper bound of the adapter's count: every array element at a
	// record path, under every key that encoding/json would match.
	n := 0
	root := &trieNode{}
	for _, p := range patterns {
		steps := parsePath(t, p)
		n += countAt(payload, steps)
		root.insert(steps)
	}
	// Where no object on the way repeats a key, the records in reading
	// order: a record's index is its position, or less when an earlier
	// shipment could not be read and its records were not numbered.
	var order []string
	walked := recordList(payload, root, "", &order)
	position := map[string]int{}
	for i, r := range order {
		position[r] = i
	}
	whole := slices.ContainsFunc(res.Problems, func(p Problem) bool { return p.Index < 0 })
	last, records := -1, 0
	seen := map[string]int{}
	for _, p := range res.Problems {
		if p.Index < 0 {
			// A shipment-level problem names a place in the payload: the
			// part of its field up to the last index must exist.
			if i := strings.LastIndexByte(p.Field, ']'); i >= 0 {
				if _, ok := jsonAt(payload, parsePath(t, p.Field[:i+1])); !ok {
					t.Fatalf("%s: problem field %q is not in the payload: %v", a.Name(), p.Field, p)
				}
			}
			continue
		}
		records++
		if p.Index >= n || p.Index <= last {
			t.Fatalf("%s: problem index %d: want increasing indexes below %d, the scan records of the payload (previous %d): %v", a.Name(), p.Index, n, last, p)
		}
		last = p.Index
		var rec string
		for _, re := range recordPatterns[a.Name()] {
			if m := re.FindString(p.Field); m != "" {
				rec = strings.TrimSuffix(m, ".")
				break
			}
		}
		if rec == "" {
			t.Fatalf("%s: problem %d field %q does not start with a record path (%v)", a.Name(), p.Index, p.Field, patterns)
		}
		if j, dup := seen[rec]; dup {
			t.Fatalf("%s: records %d and %d are both %s", a.Name(), j, p.Index, rec)
		}
		seen[rec] = p.Index
		raw, ok := jsonAt(payload, parsePath(t, rec))
		if !ok {
			t.Fatalf("%s: problem %d names record %s, which is not in the payload", a.Name(), p.Index, rec)
		}
		if !bytes.Equal(bytes.TrimSpace(p.Raw), bytes.TrimSpace(raw)) {
			t.Fatalf("%s: problem %d raw record is not %s:\n%s\n%s", a.Name(), p.Index, rec, p.Raw, raw)
		}
		if walked {
			i, ok := position[rec]
			switch {
			case !ok:
				t.Fatalf("%s: problem %d names record %s, which is not a scan record of the payload", a.Name(), p.Index, rec)
			case p.Index > i || !whole && p.Index != i:
				t.Fatalf("%s: %s is scan record %d of the payload, but its problem has index %d: %v", a.Name(), rec, i, p.Index, p)
			}
		}
	}
	if len(res.Events)+records > n {
		t.Fatalf("%s: %d events and %d record problems from at most %d scan records", a.Name(), len(res.Events), records, n)
	}
}

// checkCSVRecords: rows[i] is the i-th data row as encoding/csv reads it
// and its index is i; there are no shipment-level problems.
func checkCSVRecords(t fatalTB, c CSV, payload []byte, res Result) {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(payload, []byte("\xEF\xBB\xBF"))))
	if c.Comma != 0 {
		r.Comma = c.Comma
	}
	r.FieldsPerRecord = -1
	rows := 0
	if _, err := r.Read(); err != nil {
		t.Fatalf("csv: parsed a payload whose header encoding/csv cannot read: %v", err)
	}
	for {
		if _, err := r.Read(); errors.Is(err, io.EOF) {
			break
		}
		rows++
	}
	rowRe := regexp.MustCompile(`^rows\[(\d+)\](?:\.|$)`)
	last := -1
	for _, p := range res.Problems {
		m := rowRe.FindStringSubmatch(p.Field)
		if m == nil || strconv.Itoa(p.Index) != m[1] {
			t.Fatalf("csv: problem %v: want field rows[i] with i its index", p)
		}
		if p.Index >= rows || p.Index <= last {
			t.Fatalf("csv: problem index %d: want increasing indexes below %d, the rows encoding/csv reads", p.Index, rows)
		}
		last = p.Index
	}
	if len(res.Events)+len(res.Problems) > rows {
		t.Fatalf("csv: %d events and %d problems from %d rows", len(res.Events), len(res.Problems), rows)
	}
}

// checkJSONLRecords checks JSON lines against schemas.Decode, which defines
// them: each non-blank line is the next record, a line Decode rejects is a
// problem with its reason, and the others are the events, first id wins.
func checkJSONLRecords(t fatalTB, payload []byte, res Result) {
	t.Helper()
	var events []schemas.Event
	var problems []string
	seen := map[string]bool{}
	n := 0
	for i, line := range bytes.Split(payload, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		e, err := schemas.Decode(line, testNow)
		if err != nil {
			field := fmt.Sprintf("lines[%d]", i)
			var ie *schemas.InvalidError
			if errors.As(err, &ie) && ie.Field != "" {
				field += "." + ie.Field
			}
			problems = append(problems, fmt.Sprintf("%d %s %s %q", n, field, schemas.ReasonOf(err), line))
		} else if !seen[e.EventID] {
			seen[e.EventID] = true
			events = append(events, e)
		}
		n++
	}
	var got []string
	for _, p := range res.Problems {
		got = append(got, fmt.Sprintf("%d %s %s %q", p.Index, p.Field, p.Reason, p.Raw))
	}
	if !slices.Equal(got, problems) {
		t.Fatalf("jsonl: problems\n%s\nwant (from schemas.Decode)\n%s", strings.Join(got, "\n"), strings.Join(problems, "\n"))
	}
	if !reflect.DeepEqual(res.Events, events) {
		t.Fatalf("jsonl: %d events, schemas.Decode reads %d distinct ones:\n%+v\n%+v", len(res.Events), len(events), res.Events, events)
	}
}

// pathStep is one step of a payload path: an object key, or an array index
// (-1 in a pattern: any index).
type pathStep struct {
	key   string
	index int
	isIdx bool
}

// parsePath reads a Problem.Field-style path: keys joined by ".", indexes
// in brackets ("shipments[0].events[2]", "[1].Events[]").
func parsePath(t fatalTB, path string) []pathStep {
	t.Helper()
	var steps []pathStep
	for s := path; s != ""; {
		switch {
		case s[0] == '.':
			s = s[1:]
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				t.Fatalf("bad path %q", path)
			}
			i := -1
			if end > 1 {
				var err error
				if i, err = strconv.Atoi(s[1:end]); err != nil {
					t.Fatalf("bad path %q: %v", path, err)
				}
			}
			steps = append(steps, pathStep{index: i, isIdx: true})
			s = s[end+1:]
		default:
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			steps = append(steps, pathStep{key: s[:end]})
			s = s[end:]
		}
	}
	return steps
}

// member is one key of a JSON object, with its raw value.
type member struct {
	key   string
	value json.RawMessage
}

// members returns the keys of a JSON object in order, repeats included.
func members(raw json.RawMessage) ([]member, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, member{k, v})
	}
	return out, true
}

func elements(raw json.RawMessage) ([]json.RawMessage, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false
	}
	var out []json.RawMessage
	return out, json.Unmarshal(raw, &out) == nil
}

// countAt counts the values at a path with "[]" steps, summed over every
// key encoding/json matches to a step (case-insensitively, repeats too).
func countAt(raw json.RawMessage, steps []pathStep) int {
	if len(steps) == 0 {
		return 1
	}
	n := 0
	if steps[0].isIdx {
		els, _ := elements(raw)
		for _, e := range els {
			n += countAt(e, steps[1:])
		}
		return n
	}
	ms, _ := members(raw)
	for _, m := range ms {
		if strings.EqualFold(m.key, steps[0].key) {
			n += countAt(m.value, steps[1:])
		}
	}
	return n
}

// trieNode is one step of the record paths of a source; its kids are the
// steps that follow, in recordPaths order, and a node without kids is a
// record.
type trieNode struct {
	step pathStep
	kids []*trieNode
}

func (n *trieNode) insert(steps []pathStep) {
	if len(steps) == 0 {
		return
	}
	for _, k := range n.kids {
		if k.step.isIdx == steps[0].isIdx && k.step.key == steps[0].key {
			k.insert(steps[1:])
			return
		}
	}
	k := &trieNode{step: steps[0]}
	n.kids = append(n.kids, k)
	k.insert(steps[1:])
}

// recordList appends to out the paths of the records under raw, the value
// at node n, in reading order. It reports false, having given up, when an
// object on the way has two keys encoding/json would match to one step.
func recordList(raw json.RawMessage, n *trieNode, path string, out *[]string) bool {
	if len(n.kids) == 0 {
		*out = append(*out, path)
		return true
	}
	for _, k := range n.kids {
		if k.step.isIdx {
			els, _ := elements(raw)
			for i, e := range els {
				if !recordList(e, k, path+"["+strconv.Itoa(i)+"]", out) {
					return false
				}
			}
			continue
		}
		ms, _ := members(raw)
		var v json.RawMessage
		found := 0
		for _, m := range ms {
			if strings.EqualFold(m.key, k.step.key) {
				v = m.value
				found++
			}
		}
		if found > 1 {
			return false
		}
		p := k.step.key
		if path != "" {
			p = path + "." + p
		}
		if found == 1 && !recordList(v, k, p, out) {
			return false
		}
	}
	return true
}

// jsonAt returns the value at a concrete path. A key is read as
// encoding/json reads a struct field: the last matching key wins, and where
// the field is a struct, repeated objects merge, so an earlier repeat may
// hold the rest of the path.
func jsonAt(raw json.RawMessage, steps []pathStep) (json.RawMessage, bool) {
	if len(steps) == 0 {
		return bytes.TrimSpace(raw), true
	}
	if steps[0].isIdx {
		els, ok := elements(raw)
		if !ok || steps[0].index < 0 || steps[0].index >= len(els) {
			return nil, false
		}
		return jsonAt(els[steps[0].index], steps[1:])
	}
	ms, _ := members(raw)
	for i := len(ms) - 1; i >= 0; i-- {
		if strings.EqualFold(ms[i].key, steps[0].key) {
			if v, ok := jsonAt(ms[i].value, steps[1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func FuzzParseAfterShip(f *testing.F)     { fuzzParse(f, "aftership", AfterShip{}) }
func FuzzParse17Track(f *testing.F)       { fuzzParse(f, "17track", Track17{}) }
func FuzzParseDHL(f *testing.F)           { fuzzParse(f, "dhl", DHL{}) }
func FuzzParseFedEx(f *testing.F)         { fuzzParse(f, "fedex", FedEx{}) }
func FuzzParseUPS(f *testing.F)           { fuzzParse(f, "ups", UPS{}) }
func FuzzParseUSPS(f *testing.F)          { fuzzParse(f, "usps", USPS{}) }
func FuzzParseLaPoste(f *testing.F)       { fuzzParse(f, "laposte", LaPoste{}) }
func FuzzParseAustraliaPost(f *testing.F) { fuzzParse(f, "australiapost", AusPost{}) }
func FuzzParseSendle(f *testing.F) {
	fuzzParse(f, "sendle", Sendle{}, Sendle{TrackingNumber: "SNDLAU7Q2X"})
}
func FuzzParseSeko(f *testing.F)  { fuzzParse(f, "seko", Seko{}) }
func FuzzParseCSV(f *testing.F)   { fuzzParse(f, "csv", CSV{}, mappedCSV, CSV{Carrier: "dhl"}) }
func FuzzParseJSONL(f *testing.F) { fuzzParse(f, "jsonl", JSONL{}) }

// brokenAdapter wraps an adapter and breaks its results, to show that
// checkParse notices.
type brokenAdapter struct {
	Adapter
	breakIt func(payload []byte, now time.Time, r *Result)
}

func (b brokenAdapter) Parse(payload []byte, now time.Time) (Result, error) {
	r, err := b.Adapter.Parse(payload, now)
	if err == nil {
		b.breakIt(payload, now, &r)
	}
	return r, err
}

// fatalRecorder is a fatalTB whose Fatalf stops the check with a panic
// that checkFails recovers.
type fatalRecorder struct{ msg string }

func (*fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	panic(r)
}

// checkFails runs checkParse and returns its failure, "" if it passed.
func checkFails(a Adapter, payload []byte) (msg string) {
	r := &fatalRecorder{}
	defer func() {
		if v := recover(); v != nil {
			if v != r {
				panic(v)
			}
			msg = r.msg
		}
	}()
	checkParse(r, a, payload)
	return ""
}

// TestChecksCatchBrokenAdapters: each property of checkParse fails on an
// adapter that breaks it, and passes on the adapter itself.
func TestChecksCatchBrokenAdapters(t *testing.T) {
	read := func(source, name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", source, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	dhl := read("dhl", "express_cn_de_two_shipments.json") // records 12 and 13 are problems
	fedex := read("fedex", "intl_cn_us_two_packages.json") // record 13 and a shipment-level problem
	csvRows := read("csv", "canonical_headers.csv")
	lines := read("jsonl", "events.jsonl")
	records := func(r *Result, f func(p *Problem)) {
		for i := range r.Problems {
			if r.Problems[i].Index >= 0 {
				f(&r.Problems[i])
			}
		}
	}
	calls := 0
	f := func(name string, a Adapter, payload []byte, breakIt func(payload []byte, now time.Time, r *Result), want string) {
		t.Helper()
		if msg := checkFails(a, payload); msg != "" {
			t.Fatalf("%s: the unbroken %s adapter fails: %s", name, a.Name(), msg)
		}
		msg := checkFails(brokenAdapter{a, breakIt}, payload)
		if !strings.Contains(msg, want) {
			t.Errorf("%s: checkParse says %q, want a failure containing %q", name, msg, want)
		}
	}
	f("index is a byte offset", DHL{}, dhl, func(p []byte, _ time.Time, r *Result) {
		records(r, func(pr *Problem) { pr.Index = len(p) - 10 + pr.Index })
	}, "want increasing indexes below")
	f("index counts per shipment", DHL{}, dhl, func(_ []byte, _ time.Time, r *Result) {
		records(r, func(pr *Problem) { pr.Index -= 9 })
	}, "is scan record 12 of the payload, but its problem has index 3")
	f("index past the record, beside a shipment-level problem", FedEx{}, fedex, func(_ []byte, _ time.Time, r *Result) {
		records(r, func(pr *Problem) { pr.Index++ })
	}, "is scan record 13 of the payload, but its problem has index 14")
	f("index below -1", DHL{}, dhl, func(_ []byte, _ time.Time, r *Result) { r.Problems[0].Index = -2 }, "sane index")
	f("no field path", DHL{}, dhl, func(_ []byte, _ time.Time, r *Result) { r.Problems[0].Field = "" }, "field path")
	f("no reason", DHL{}, dhl, func(_ []byte, _ time.Time, r *Result) { r.Problems[0].Reason = "" }, "known reason")
	f("field names no record", DHL{}, dhl, func(_ []byte, _ time.Time, r *Result) {
		r.Problems[0].Field = "shipments[1].timestamp"
	}, "does not start with a record path")
	f("field names another record", DHL{}, dhl, func(_ []byte, _ time.Time, r *Result) {
		r.Problems[0].Field = "shipments[1].events[0].timestamp"
	}, "raw record is not shipments[1].events[0]")
	f("field names a record the payload lacks", DHL{}, dhl, func(_ []byte, _ time.Time, r *Result) {
		r.Problems[1].Field = "shipments[7].events[0]"
	}, "which is not in the payload")
	f("shipment-level field not in the payload", FedEx{}, fedex, func(_ []byte, _ time.Time, r *Result) {
		r.Problems[len(r.Problems)-1].Field = "output.completeTrackResults[9]"
	}, "is not in the payload")
	f("raw is not the record", DHL{}, dhl, func(p []byte, _ time.Time, r *Result) { r.Problems[0].Raw = []byte("{}") }, "raw record is not")
	f("more outcomes than records", DHL{}, dhl, func(_ []byte, _ time.Time, r *Result) {
		e := r.Events[0]
		e.EventID = strings.Repeat("0", 32)
		r.Events = append(r.Events, e)
	}, "from at most")
	f("invalid event", DHL{}, dhl, func(_ []byte, _ time.Time, r *Result) { r.Events[0].Status = 0 }, "does not validate")
	f("repeated id", DHL{}, dhl, func(_ []byte, _ time.Time, r *Result) { r.Events[1].EventID = r.Events[0].EventID }, "share id")
	f("another carrier", DHL{}, dhl, func(_ []byte, _ time.Time, r *Result) { r.Events[0].Carrier = "ups" }, `carrier "ups"`)
	f("id depends on the clock", DHL{}, dhl, func(_ []byte, now time.Time, r *Result) {
		r.Events[0].EventID = fmt.Sprintf("%032x", now.Unix())
	}, "another id, when parsed an hour later")
	f("not deterministic", DHL{}, dhl, func(_ []byte, _ time.Time, r *Result) {
		calls++
		r.Events[0].Description += strconv.Itoa(calls)
	}, "not deterministic")
	f("raw shares the payload's memory", DHL{}, dhl, func(p []byte, _ time.Time, r *Result) {
		r.Problems[0].Raw = p[:10]
	}, "shares memory with the payload")
	f("csv index is not the row", CSV{}, csvRows, func(_ []byte, _ time.Time, r *Result) {
		r.Problems[0].Index++
	}, "want field rows[i] with i its index")
	f("jsonl index counts blank lines", JSONL{}, lines, func(_ []byte, _ time.Time, r *Result) {
		records(r, func(pr *Problem) { pr.Index++ })
	}, "want (from schemas.Decode)")
	f("jsonl drops an event", JSONL{}, lines, func(_ []byte, _ time.Time, r *Result) { r.Events = r.Events[1:] }, "distinct ones")
}
