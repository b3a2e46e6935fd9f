// Package schemas holds the contracts every other package of shiplens speaks:
// the canonical tracking event and its validation, the status taxonomy with
// display text, the JSON Schema for outside producers and the ClickHouse
// migrations. It imports nothing of shiplens and must stay free of I/O other
// than reading its own embedded files.
//
// # The event contract
//
// One table, Fields (contract.go), lists the event's fields with their JSON
// type, whether they are required, their length limit and their format.
// Validate checks it, Decode checks it (on a fast path that reads its limits
// from the same table), and event.schema.json is generated from it by
// `go generate ./schemas` (EventJSONSchema returns the same bytes). Tests
// check that the JSON Schema accepts exactly what Decode accepts wherever
// JSON Schema can say so. The decisions beyond DESIGN section 2:
//
//   - Times are RFC 3339 date-times; T and Z may be lower case
//     (2026-03-01t10:00:00z is 2026-03-01T10:00:00Z), as RFC 3339 allows.
//     Decode keeps the instant and Marshal writes it in UTC with upper-case
//     letters. A comma before the fraction, one-digit hours, offsets beyond
//     23:59 and leap seconds (:60) are refused: RFC 3339 has the first
//     three not, and Go's time cannot hold the last.
//   - null for an optional field means the field is absent, as does leaving
//     it out or, for a string, "". A required field may be neither null nor
//     "": missing_field.
//   - event_id and tracking_number must not start or end with white space
//     (Unicode White_Space): invalid_field, because " LX1" would be a second
//     shipment beside "LX1". Callers trim. carrier cannot have the problem:
//     its pattern allows no space at all.
//   - Keys match field names exactly and each key appears once: "Event_ID"
//     is an unknown field and a repeated key is malformed_json, with the
//     field's path, because parsers differ on which of two values wins.
//   - Errors name the field by its full path: an unknown key in the
//     location object is "location.street", its bad latitude
//     "location.lat".
//   - Strings may hold any character but the controls U+0000-U+001F and
//     U+007F; invalid UTF-8 and unpaired surrogate escapes become U+FFFD,
//     as in encoding/json. Lengths count characters (code points).
//   - lat and lon are the float64 nearest to the number written; their
//     bounds apply to that value.
//   - locale, the customer's preferred language, is a BCP 47 tag in the
//     shape browsers and shop systems send: 2-3 ASCII letters, then
//     subtags of 1-8 ASCII letters or digits, each after a '-', 35
//     characters at most (en, zh-CN, zh-Hant-TW, es-419); anything else is
//     invalid_field. It is kept as written, case and all ("EN-us" stays
//     "EN-us"), for the tag is the merchant's; Language gives its primary
//     language in lower case, the key for display text. Subtags are not
//     looked up in the IANA registry, and a language without display text
//     (pt for pt-BR) falls back to English.
//   - json.Marshal and json.Unmarshal of an Event use Marshal and Decode
//     (without a clock), so an Event inside other JSON keeps the contract.
//
// JSON Schema cannot express: the 64 KiB limit on the message, a time at
// most 24 hours past the receiver's clock, that a time's instant (rather
// than its written date) lies in 2000-01-01T00:00:00Z..9999-12-31T23:59:59Z,
// that keys are unique, and float64 rounding of coordinates. Decode checks
// them; the schema's description says so.
package schemas
