package carriers

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// testNow is the receiver's clock in the golden and fuzz tests.
var testNow = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

// mappedCSV is the configuration of testdata/csv/mapped_*.csv: a German
// export with its own headers, semicolons, no carrier column and times in
// China Standard Time.
var mappedCSV = CSV{
	Columns: map[string]string{
		"Sendungsnummer": "tracking_number", "Datum": "occurred_at", "Status": "status", "Code": "carrier_status",
		"Text": "description", "Ort": "location_city", "Land": "location.country", "Ziel": "destination_country",
	},
	Comma:   ';',
	Carrier: "Cainiao",
	Zone:    time.FixedZone("CST", 8*3600),
}

// testAdapter returns the adapter a testdata file is parsed with.
func testAdapter(t testing.TB, source, file string) Adapter {
	t.Helper()
	switch {
	case source == "sendle":
		return Sendle{TrackingNumber: "SNDLAU7Q2X"}
	case source == "csv" && strings.HasPrefix(file, "mapped_"):
		return mappedCSV
	}
	a, err := Lookup(source)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// payloadFiles lists the testdata payloads of a source (not golden files).
func payloadFiles(t testing.TB, source string) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join("testdata", source, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range all {
		if !strings.Contains(filepath.Base(f), ".golden") {
			out = append(out, f)
		}
	}
	return out
}

// renderEvents writes events as canonical JSON lines.
func renderEvents(t testing.TB, events []schemas.Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	for i := range events {
		b, err := events[i].Marshal()
		if err != nil {
			t.Fatalf("cannot marshal event %d: %v", i, err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// renderProblems writes one Problem.Error() per line. For jsonl the detail
// is schemas.Decode's wording, which that package owns, so only index,
// field and reason are pinned.
func renderProblems(source string, problems []Problem) []byte {
	var buf bytes.Buffer
	for _, p := range problems {
		if source == "jsonl" {
			p.Detail = "…"
		}
		buf.WriteString(p.Error())
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// TestGolden parses every payload under testdata/<source>/ and compares the
// events with <name>.golden.jsonl and the problems with
// <name>.problems.golden; -update rewrites them.
func TestGolden(t *testing.T) {
	for _, source := range Sources() {
		files := payloadFiles(t, source)
		if len(files) == 0 {
			t.Errorf("no testdata for source %s", source)
		}
		for _, file := range files {
			stem := strings.TrimSuffix(file, filepath.Ext(file))
			t.Run(source+"/"+filepath.Base(stem), func(t *testing.T) {
				payload, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				res, err := testAdapter(t, source, filepath.Base(file)).Parse(payload, testNow)
				if err != nil {
					t.Fatalf("whole-payload error: %v", err)
				}
				if len(res.Events) == 0 && len(res.Problems) == 0 && !strings.Contains(stem, "stopped") {
					t.Fatalf("nothing came out")
				}
				compareGolden(t, stem+".golden.jsonl", renderEvents(t, res.Events))
				compareGolden(t, stem+".problems.golden", renderProblems(source, res.Problems))
				checkGoldenCanonical(t, stem+".golden.jsonl")
				for _, p := range res.Problems {
					if p.Index >= 0 && len(p.Raw) == 0 && source != "csv" {
						t.Errorf("problem without raw record: %v", p)
					}
				}
			})
		}
	}
}

// checkGoldenCanonical checks that a reviewed golden file holds canonical
// events: each line is what schemas.Decode reads and Marshal writes back,
// byte for byte, with a distinct event_id. The expectation is the file
// itself, not the adapter's output.
func checkGoldenCanonical(t *testing.T, path string) {
	t.Helper()
	if *update {
		return
	}
	want, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return // no events expected
	}
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, line := range bytes.SplitAfter(want, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		e, err := schemas.Decode(bytes.TrimSuffix(line, []byte("\n")), testNow)
		if err != nil {
			t.Fatalf("%s line %d is not a canonical event: %v", path, i+1, err)
		}
		b, err := e.Marshal()
		if err != nil || !bytes.Equal(append(b, '\n'), line) {
			t.Fatalf("%s line %d does not round-trip through schemas.Decode and Marshal: %v\n%s%s", path, i+1, err, line, b)
		}
		if ids[e.EventID] {
			t.Fatalf("%s line %d repeats event_id %s", path, i+1, e.EventID)
		}
		ids[e.EventID] = true
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if len(got) == 0 {
			if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			return
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		want, err = nil, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -run TestGolden -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// goldenResult parses one testdata payload.
func goldenResult(t *testing.T, source, name string) Result {
	t.Helper()
	payload, err := os.ReadFile(filepath.Join("testdata", source, name))
	if err != nil {
		t.Fatal(err)
	}
	res, err := testAdapter(t, source, name).Parse(payload, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestDecisions pins the mapping decisions the golden files contain that
// matter most for the metrics: customs holds and releases, failed
// deliveries, returns, the carrier code and the lane.
func TestDecisions(t *testing.T) {
	f := func(source, file, tracking, code string, want schemas.Status) {
		t.Helper()
		res := goldenResult(t, source, file)
		for _, e := range res.Events {
			if e.TrackingNumber == tracking && e.CarrierStatus == code {
				if e.Status != want {
					t.Errorf("%s %s %s %q (%s): status %s, want %s", source, file, tracking, code, e.Description, e.Status, want)
				}
				return
			}
		}
		t.Errorf("%s %s: no event %s %q", source, file, tracking, code)
	}
	// AfterShip: subtags, with the customs delay a hold.
	f("aftership", "cn_us_customs_hold.json", "LX482913785CN", "InTransit_006", schemas.CustomsClearance)
	f("aftership", "cn_us_customs_hold.json", "LX482913785CN", "Exception_004", schemas.CustomsHeld)
	f("aftership", "cn_us_customs_hold.json", "LX482913785CN", "InTransit_005", schemas.CustomsReleased)
	f("aftership", "cn_us_customs_hold.json", "LX482913785CN", "InTransit_002", schemas.PickedUp)
	f("aftership", "yunexpress_failed_return.json", "YT2607312345678901", "AttemptFail_001", schemas.DeliveryFailed)
	f("aftership", "yunexpress_failed_return.json", "YT2607312345678901", "Exception_010", schemas.Returned)
	// 17TRACK: customs needing documents or payment is a hold.
	f("17track", "cainiao_cn_br_customs.json", "LP00612345678901", "InTransit_CustomsRequiringInformation", schemas.CustomsHeld)
	f("17track", "cainiao_cn_br_customs.json", "LP00612345678901", "InTransit_CustomsProcessing", schemas.CustomsClearance)
	f("17track", "cainiao_cn_br_customs.json", "LP00612345678901", "InTransit_CustomsReleased", schemas.CustomsReleased)
	f("17track", "yanwen_returning.json", "UG123456785YP", "Exception_Returning", schemas.Returned)
	f("17track", "yanwen_returning.json", "UG123456785YP", "DeliveryFailure_NoBody", schemas.DeliveryFailed)
	// UPS reports out for delivery with the transit type I.
	f("ups", "intl_two_packages.json", "1Z999AA10123456784", "I/OT", schemas.OutForDelivery)
	// DHL: a coarse "failure" whose text names customs is a customs hold.
	f("dhl", "express_cn_de_two_shipments.json", "1234567890", "failure", schemas.CustomsHeld)
	// FedEx: clearance codes, and a shipment exception whose text is a customs hold.
	f("fedex", "intl_cn_us_two_packages.json", "771234567890", "CD/A16", schemas.CustomsHeld)
	f("fedex", "intl_cn_us_two_packages.json", "771234567890", "CC", schemas.CustomsReleased)
	f("fedex", "intl_cn_us_two_packages.json", "771234567890", "DE/08", schemas.DeliveryFailed)
	f("fedex", "intl_cn_us_two_packages.json", "771234567901", "SE/A12", schemas.CustomsHeld)
	f("fedex", "intl_cn_us_two_packages.json", "771234567901", "RS", schemas.Returned)
	// UPS: type X is refined by its text.
	f("ups", "intl_two_packages.json", "1Z999AA10123456784", "X/SR", schemas.CustomsReleased)
	f("ups", "intl_two_packages.json", "1Z999AA10123456784", "X/CU", schemas.CustomsHeld)
	f("ups", "intl_two_packages.json", "1Z999AA10123456784", "X/48", schemas.DeliveryFailed)
	f("ups", "intl_two_packages.json", "1Z999AA10123456793", "X/RT", schemas.Returned)
	// USPS: international codes outside the table fall back to the text.
	f("usps", "inbound_cn.json", "LX482913785CN", "H0", schemas.CustomsClearance)
	f("usps", "inbound_cn.json", "LX482913785CN", "H1", schemas.CustomsHeld)
	f("usps", "inbound_cn.json", "LX482913785CN", "PC", schemas.CustomsReleased)
	f("usps", "domestic_notice_pickup.json", "9400111899223197428490", "02", schemas.DeliveryFailed)
	f("usps", "domestic_notice_pickup.json", "9400111899223197428490", "16", schemas.AvailableForPickup)
	// La Poste, SEKO, Sendle: customs and failed attempts by code.
	f("laposte", "colissimo_fr_us_customs.json", "CB123456789FR", "DO3", schemas.CustomsHeld)
	f("laposte", "colissimo_fr_us_customs.json", "CB123456789FR", "ND1", schemas.DeliveryFailed)
	f("seko", "cn_nz_customs.json", "9SKO00012345", "OP-6/IMP", schemas.CustomsHeld)
	f("seko", "cn_nz_customs.json", "9SKO00012345", "OP-24/CRD", schemas.DeliveryFailed)
	f("sendle", "card_left_return.json", "SNDLAU7Q2X", "Card Left", schemas.DeliveryFailed)
	f("sendle", "card_left_return.json", "SNDLAU7Q2X", "Return to Sender", schemas.Returned)
}

// TestTextOnlyDecisions pins Australia Post, whose scans carry text only.
func TestTextOnlyDecisions(t *testing.T) {
	res := goldenResult(t, "australiapost", "consignment_returned.json")
	want := map[string]schemas.Status{
		"Delivered to sender":                  schemas.Returned,
		"Returned to sender":                   schemas.Returned,
		"Awaiting collection at Post Office":   schemas.AvailableForPickup,
		"Attempted delivery - card left":       schemas.DeliveryFailed,
		"Item held by Customs":                 schemas.CustomsHeld,
		"Item cleared by Customs":              schemas.CustomsReleased,
		"Arrived awaiting clearance (Inbound)": schemas.CustomsClearance,
		"Arrived in Australia":                 schemas.ArrivedDestination,
		"Parcel damaged in transit, repacked":  schemas.Exception,
		// Export clearance at origin is transit, not customs dwell.
		"Cleared and awaiting international departure": schemas.InTransit,
	}
	seen := map[string]bool{}
	for _, e := range res.Events {
		if st, ok := want[e.Description]; ok {
			seen[e.Description] = true
			if e.Status != st {
				t.Errorf("%q: status %s, want %s", e.Description, e.Status, st)
			}
		}
	}
	for d := range want {
		if !seen[d] {
			t.Errorf("no event %q", d)
		}
	}
}

// TestLanesAndCarriers checks what the lane metrics need from each source.
func TestLanesAndCarriers(t *testing.T) {
	f := func(source, file, tracking, carrier, lane string) {
		t.Helper()
		res := goldenResult(t, source, file)
		for _, e := range res.Events {
			if e.TrackingNumber == tracking {
				if e.Carrier != carrier || e.Lane() != lane {
					t.Errorf("%s %s: carrier %q lane %q, want %q %q", source, tracking, e.Carrier, e.Lane(), carrier, lane)
				}
				return
			}
		}
		t.Errorf("%s %s: no event for %s", source, file, tracking)
	}
	f("aftership", "cn_us_customs_hold.json", "LX482913785CN", "chinapost", "CN-US") // china-post, CHN → USA
	f("aftership", "yunexpress_failed_return.json", "YT2607312345678901", "yunexpress", "CN-GB")
	f("aftership", "bad_records.json", "4PX3001234567890CN", "4px", "")                // XXX is no country: no lane
	f("17track", "cainiao_cn_br_customs.json", "LP00612345678901", "cainiao", "CN-BR") // key not in the table: provider name
	f("17track", "yanwen_returning.json", "UG123456785YP", "yanwen", "CN-DE")
	f("17track", "gettrackinfo.json", "RR987654321CN", "chinapost", "CN-FR") // key 3011
	f("17track", "gettrackinfo.json", "4PX3000987654321CN", "4px", "CN-US")
	f("dhl", "express_cn_de_two_shipments.json", "9876543210", "dhl", "DE-DE") // numeric shipment id
	f("fedex", "intl_cn_us_two_packages.json", "771234567890", "fedex", "CN-US")
	f("ups", "intl_two_packages.json", "1Z999AA10123456793", "ups", "CN-CA")
	f("usps", "inbound_cn.json", "LX482913785CN", "usps", "CN-US") // "CHINA" and a US state
	f("usps", "domestic_notice_pickup.json", "9400111899223197428490", "usps", "US-US")
	f("laposte", "colissimo_fr_us_customs.json", "CB123456789FR", "laposte", "FR-US")
	f("csv", "mapped_semicolon.csv", "LP00798765432101", "cainiao", "") // no origin column, so no lane
}
