package carriers

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/shiplens/shiplens/schemas"
)

// fuzzParse seeds f with the testdata payloads of source and checks the
// properties every adapter must have on any input: no panic, a whole-payload
// error is a *PayloadError with nothing else, every event validates and
// survives Marshal and schemas.Decode, ids are unique within the payload,
// every problem names a reason, and Parse is deterministic. (The real
// fixtures get the same checks in TestRealFixtures; as seeds their size
// would make the fuzzer spend a short run minimising.)
func fuzzParse(f *testing.F, source string, adapters ...Adapter) {
	for _, file := range payloadFiles(f, source) {
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

func checkParse(t *testing.T, a Adapter, payload []byte) {
	t.Helper()
	res, err := a.Parse(payload, testNow)
	res2, err2 := a.Parse(payload, testNow)
	if !reflect.DeepEqual(res, res2) || errText(err) != errText(err2) {
		t.Fatalf("%s: Parse is not deterministic", a.Name())
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
		b, err := e.Marshal()
		if err != nil {
			t.Fatalf("%s: event %d does not marshal: %v", a.Name(), i, err)
		}
		back, err := schemas.Decode(b, testNow)
		if err != nil {
			t.Fatalf("%s: event %d does not decode back: %v\n%s", a.Name(), i, err, b)
		}
		if b2, _ := back.Marshal(); !bytes.Equal(b, b2) {
			t.Fatalf("%s: event %d changes through Decode:\n%s\n%s", a.Name(), i, b, b2)
		}
	}
	for _, p := range res.Problems {
		if p.Reason == "" || p.Field == "" && p.Index < 0 || p.Index >= 0 && p.Index > len(payload) {
			t.Fatalf("%s: problem without reason, field or sane index: %+v", a.Name(), p)
		}
		_ = p.Error()
	}
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
