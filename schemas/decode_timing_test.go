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

// preAdvice is a merchant's pre-advice as the workload generator writes it,
// with the buyer's locale, which only pre-advices carry.
const preAdvice = `{"event_id":"cainiao:LP00201411806337:00","tracking_number":"LP00201411806337","carrier":"cainiao",` +
	`"service":"economy","origin_country":"CN","destination_country":"US","status":"info_received",` +
	`"carrier_status":"GWMS_ACCEPT","description":"Order received by warehouse, waiting for parcel",` +
	`"occurred_at":"2026-09-01T01:36:06Z","promised_at":"2026-09-29T04:59:59Z","merchant":"m-cn-014","locale":"es-US"}`

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

func BenchmarkDecodePreAdvice(b *testing.B) { benchmarkDecode(b, Decode, preAdvice) }

// BenchmarkDecodeEscaped decodes the typical event as a producer that escapes
// all non-ASCII text writes it (Python's json.dumps does by default).
func BenchmarkDecodeEscaped(b *testing.B) {
	benchmarkDecode(b, Decode, strings.NewReplacer("Sort", `S\u00f6rt`, "Midlands", `Midl\u00e4nds`).Replace(typicalEvent))
}
