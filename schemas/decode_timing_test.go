package schemas

import (
	"strings"
	"testing"
	"time"
)

// typicalEvent is an event as the workload generator (ingest/gen) writes it:
// 393 bytes on average there, with a location in most events.
const typicalEvent = `{"event_id":"dhl:7253603663:06","tracking_number":"7253603663","carrier":"dhl","service":"standard",` +
	`"origin_country":"DE","destination_country":"GB","status":"arrived_destination","carrier_status":"AF",` +
	`"description":"Arrived at Sort Facility","occurred_at":"2026-09-12T18:33:54Z",` +
	`"location":{"country":"GB","city":"East Midlands Airport","lat":52.831,"lon":-1.328},` +
	`"promised_at":"2026-09-18T23:59:59Z","merchant":"m-de-015"}`

func benchmarkDecode(b *testing.B, decode func([]byte, time.Time) (Event, error), doc string) {
	in := []byte(doc)
	if _, err := decode(in, now); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decode(in, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) { benchmarkDecode(b, Decode, typicalEvent) }

func BenchmarkDecodeStd(b *testing.B) { benchmarkDecode(b, decodeStd, typicalEvent) }

// BenchmarkDecodeEscaped decodes the typical event as a producer that escapes
// all non-ASCII text writes it (Python's json.dumps does by default).
func BenchmarkDecodeEscaped(b *testing.B) {
	benchmarkDecode(b, Decode, strings.NewReplacer("Sort", `S\u00f6rt`, "Midlands", `Midl\u00e4nds`).Replace(typicalEvent))
}
