package tlog

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

var testNow = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

// testEvent returns a valid event numbered i, with every kind of field.
func testEvent(i int) schemas.Event {
	lat, lon := 33.9+float64(i%7)/1000, -118.4
	return schemas.Event{
		EventID:            fmt.Sprintf("e%d", i),
		TrackingNumber:     fmt.Sprintf("LX%09dCN", i/3),
		Carrier:            "chinapost",
		Service:            "economy",
		OriginCountry:      "CN",
		DestinationCountry: "US",
		Status:             schemas.Status(1 + i%13),
		CarrierStatus:      "I",
		Description:        "Held <at> customs & \u2028 \"port\" é",
		OccurredAt:         time.Date(2026, 9, 3, 10, 0, i%60, 500_000_000, time.FixedZone("CST", 8*3600)),
		Location:           &schemas.Location{Country: "US", City: "Los Angeles", Lat: &lat, Lon: &lon},
		PromisedAt:         time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC),
		Merchant:           "m1",
		Locale:             "en-US",
	}
}

func TestEntryExactBytes(t *testing.T) {
	lat, lon := 33.9, -118.4
	e := schemas.Event{
		EventID: "e1", TrackingNumber: "LX1", Carrier: "chinapost", Status: schemas.CustomsHeld,
		Description: `a<b & "c"`,
		OccurredAt:  time.Date(2026, 9, 3, 10, 0, 0, 0, time.FixedZone("", 8*3600)),
		Location:    &schemas.Location{City: "Los Angeles", Lat: &lat, Lon: &lon},
	}
	got, err := Entry(&e)
	if err != nil {
		t.Fatal(err)
	}
	// Written by hand from the rules of the package documentation.
	want := "shiplens-event/v1\n" +
		`{"event_id":"e1","tracking_number":"LX1","carrier":"chinapost","status":"customs_held",` +
		`"description":"a\u003cb \u0026 \"c\"","occurred_at":"2026-09-03T02:00:00Z",` +
		`"location":{"city":"Los Angeles","lat":33.9,"lon":-118.4}}`
	if string(got) != want {
		t.Fatalf("entry\n%s\nwant\n%s", got, want)
	}
}

func TestEntryDeterministic(t *testing.T) {
	for i := range 50 {
		e := testEvent(i)
		a, err := Entry(&e)
		if err != nil {
			t.Fatal(err)
		}
		e2 := testEvent(i) // an equal event built again
		b, err := Entry(&e2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("event %d: two entries differ:\n%s\n%s", i, a, b)
		}
		if !strings.HasPrefix(string(a), "shiplens-event/v1\n{") || !strings.Contains(string(a), `"occurred_at":"2026-09-03T02:00:`) {
			t.Fatalf("event %d: entry %s lacks the prefix or the UTC time", i, a)
		}
		// Decoding the JSON and encoding again gives the same bytes.
		d, err := schemas.Decode(a[len("shiplens-event/v1\n"):], testNow)
		if err != nil {
			t.Fatalf("event %d: cannot decode %s: %v", i, a, err)
		}
		c, err := Entry(&d)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, c) {
			t.Fatalf("event %d: decoded and re-encoded entry differs:\n%s\n%s", i, a, c)
		}
		d2, err := DecodeEntry(a, testNow)
		if err != nil || d2.EventID != e.EventID {
			t.Fatalf("DecodeEntry: %v, %+v", err, d2)
		}
	}
}

func TestEntryRejects(t *testing.T) {
	if _, err := Entry(nil); err == nil {
		t.Error("nil event accepted")
	}
	e := testEvent(1)
	e.EventID = ""
	if _, err := Entry(&e); err == nil || !strings.Contains(err.Error(), "event_id") {
		t.Errorf("event without id: %v", err)
	}
	if _, err := DecodeEntry([]byte(`{"event_id":"e1"}`), testNow); err == nil {
		t.Error("entry without version line accepted")
	}
}
