package schemas

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

const good = `{"event_id":"e1","tracking_number":"LX123456789CN","carrier":"chinapost","service":"economy",` +
	`"origin_country":"CN","destination_country":"US","status":"customs_held","carrier_status":"I","description":"Held",` +
	`"occurred_at":"2026-09-03T10:00:00+08:00","location":{"country":"US","city":"Los Angeles","lat":33.9,"lon":-118.4},` +
	`"promised_at":"2026-09-20T00:00:00Z","merchant":"m1","locale":"en-US"}`

func TestDecodeGood(t *testing.T) {
	e, err := Decode([]byte(good), now)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != CustomsHeld || e.Lane() != "CN-US" || !e.OccurredAt.Equal(time.Date(2026, 9, 3, 2, 0, 0, 0, time.UTC)) {
		t.Fatalf("decoded %+v", e)
	}
	if e.Location == nil || e.Location.City != "Los Angeles" || *e.Location.Lat != 33.9 {
		t.Fatalf("location %+v", e.Location)
	}
	if e.Merchant != "m1" || e.Locale != "en-US" {
		t.Fatalf("merchant %q, locale %q", e.Merchant, e.Locale)
	}
	// Marshal then Decode is the identity.
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	e2, err := Decode(b, now)
	if err != nil {
		t.Fatalf("re-decode %s: %v", b, err)
	}
	b2, _ := e2.Marshal()
	if !bytes.Equal(b, b2) {
		t.Fatalf("round trip differs:\n%s\n%s", b, b2)
	}
}

func TestDecodeRejects(t *testing.T) {
	f := func(name, doc string, reason Reason, field string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			_, err := Decode([]byte(doc), now)
			if err == nil {
				t.Fatalf("accepted %s", doc)
			}
			ie, ok := err.(*InvalidError)
			if !ok {
				t.Fatalf("error %T %v is not *InvalidError", err, err)
			}
			if ie.Reason != reason || ie.Field != field {
				t.Fatalf("got reason %s field %q (%v), want %s %q", ie.Reason, ie.Field, err, reason, field)
			}
			if !strings.Contains(err.Error(), "invalid event") {
				t.Fatalf("unclear message %q", err)
			}
		})
	}
	mod := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	f("not json", `{"event_id":`, ReasonMalformed, "")
	f("array", `[1,2]`, ReasonMalformed, "")
	f("trailing", good+`{}`, ReasonMalformed, "")
	f("wrong type", mod(`"event_id":"e1"`, `"event_id":1`), ReasonMalformed, "")
	f("unknown field", mod(`"merchant":"m1"`, `"merchant":"m1","colour":"red"`), ReasonUnknownField, "colour")
	f("missing id", mod(`"event_id":"e1",`, ``), ReasonMissingField, "event_id")
	f("long id", mod(`"e1"`, `"`+strings.Repeat("x", 129)+`"`), ReasonInvalidField, "event_id")
	f("missing tracking", mod(`"tracking_number":"LX123456789CN",`, ``), ReasonMissingField, "tracking_number")
	f("control char", mod(`LX123456789CN`, `LX1\u0000`), ReasonInvalidField, "tracking_number")
	f("missing carrier", mod(`"carrier":"chinapost",`, ``), ReasonMissingField, "carrier")
	f("upper carrier", mod(`"chinapost"`, `"ChinaPost"`), ReasonInvalidField, "carrier")
	f("missing status", mod(`"status":"customs_held",`, ``), ReasonMissingField, "status")
	f("unknown status", mod(`"customs_held"`, `"lost_in_space"`), ReasonUnknownStatus, "status")
	f("lower country", mod(`"origin_country":"CN"`, `"origin_country":"cn"`), ReasonInvalidField, "origin_country")
	f("missing time", mod(`"occurred_at":"2026-09-03T10:00:00+08:00",`, ``), ReasonMissingField, "occurred_at")
	f("bad time", mod(`2026-09-03T10:00:00+08:00`, `03/09/2026 10:00`), ReasonBadTimestamp, "occurred_at")
	f("future", mod(`2026-09-03T10:00:00+08:00`, `2026-11-23T01:00:00Z`), ReasonFutureTime, "occurred_at")
	f("ancient", mod(`2026-09-03T10:00:00+08:00`, `1999-12-31T23:59:59Z`), ReasonBadTimestamp, "occurred_at")
	f("bad promise", mod(`2026-09-20T00:00:00Z`, `soon`), ReasonBadTimestamp, "promised_at")
	f("bad lat", mod(`33.9`, `95`), ReasonInvalidField, "location.lat")
	f("bad locale", mod(`"en-US"`, `"en_US"`), ReasonInvalidField, "locale")
	f("long locale", mod(`"en-US"`, `"en-`+strings.Repeat("abcdefgh-", 4)+`x"`), ReasonInvalidField, "locale")
	f("locale twice", mod(`"locale":"en-US"`, `"locale":"en-US","locale":"de"`), ReasonMalformed, "locale")
	f("locale in location", mod(`"city":"Los Angeles"`, `"locale":"en-US"`), ReasonUnknownField, "location.locale")
	f("location unknown field", mod(`"city":"Los Angeles"`, `"town":"LA"`), ReasonUnknownField, "location.town")
	f("oversize", `{"event_id":"`+strings.Repeat("x", MaxEventSize)+`"}`, ReasonOversize, "")
}

func TestFutureSkewBoundary(t *testing.T) {
	in := strings.Replace(good, `2026-09-03T10:00:00+08:00`, `2026-11-22T23:59:59Z`, 1)
	if _, err := Decode([]byte(in), now); err != nil {
		t.Fatalf("23h59m ahead rejected: %v", err)
	}
}

func TestStatusTaxonomy(t *testing.T) {
	if len(Statuses()) != 13 {
		t.Fatalf("%d statuses, want 13", len(Statuses()))
	}
	cat := map[Status]Category{
		InfoReceived: Pending, PickedUp: CategoryPickedUp, InTransit: CategoryInTransit, ArrivedDestination: CategoryInTransit,
		CustomsClearance: InCustoms, CustomsHeld: InCustoms, CustomsReleased: CategoryInTransit,
		OutForDelivery: CategoryOutForDelivery, AvailableForPickup: CategoryOutForDelivery, DeliveryFailed: CategoryException,
		Delivered: CategoryDelivered, Returned: CategoryException, Exception: CategoryException,
	}
	for _, s := range Statuses() {
		if s.Category() != cat[s] {
			t.Errorf("%s: category %s, want %s", s, s.Category(), cat[s])
		}
		p, err := ParseStatus(s.String())
		if err != nil || p != s {
			t.Errorf("ParseStatus(%s) = %v, %v", s, p, err)
		}
		seen := map[string]bool{}
		for _, l := range Languages {
			txt := s.Text(l)
			if txt == "" || seen[txt] && l != "en" {
				t.Errorf("%s: text in %s is %q", s, l, txt)
			}
			seen[txt] = true
			if s.Category().Text(l) == "" {
				t.Errorf("%s: empty category text in %s", s.Category(), l)
			}
		}
	}
	exc := map[Status]bool{CustomsHeld: true, DeliveryFailed: true, Returned: true, Exception: true}
	for _, s := range Statuses() {
		if s.IsException() != exc[s] {
			t.Errorf("%s: IsException = %v", s, s.IsException())
		}
	}
	if Delivered.Text("zh") != "已签收" || Delivered.Text("xx") != "Delivered" {
		t.Errorf("text fallback broken")
	}
}

func TestMigrationsParse(t *testing.T) {
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) == 0 || migs[0].Version != 1 {
		t.Fatalf("migrations %+v", migs)
	}
	for _, m := range migs {
		for _, s := range m.Statements {
			if strings.HasSuffix(s, ";") || strings.TrimSpace(s) == "" {
				t.Errorf("%d_%s: bad statement %q", m.Version, m.Name, s)
			}
			for _, banned := range []string{"LowCardinality", "DateTime64", "CODEC", "TTL ", "SimpleAggregateFunction", "toStartOfInterval"} {
				if strings.Contains(s, banned) {
					t.Errorf("%d_%s uses %s, which ClickHouse 18.16 lacks", m.Version, m.Name, banned)
				}
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"event_id":"x","tracking_number":"t","carrier":"4px","status":"delivered","occurred_at":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"location":{"lat":1e400}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b, now)
		if err != nil {
			if _, ok := err.(*InvalidError); !ok {
				t.Fatalf("error %T is not *InvalidError", err)
			}
			return
		}
		// Whatever decodes must re-encode and decode to the same event.
		out, err := e.Marshal()
		if err != nil {
			t.Fatalf("cannot marshal accepted event: %v", err)
		}
		e2, err := Decode(out, now)
		if err != nil {
			t.Fatalf("re-decode of %s failed: %v", out, err)
		}
		out2, _ := e2.Marshal()
		if !bytes.Equal(out, out2) {
			t.Fatalf("unstable encoding:\n%s\n%s", out, out2)
		}
	})
}

func TestValidateRejectsUnwritableValues(t *testing.T) {
	e, err := Decode([]byte(good), now)
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	bad := e
	bad.Location = &Location{Lat: &nan}
	if err := bad.Validate(now); err == nil {
		t.Error("NaN latitude accepted")
	}
	bad = e
	bad.PromisedAt = time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := bad.Validate(now); err == nil {
		t.Error("promised_at in year 12000 accepted")
	}
	bad = e
	bad.OccurredAt = time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := bad.Validate(time.Time{}); err == nil {
		t.Error("occurred_at in year 12000 accepted without a clock")
	}
}
