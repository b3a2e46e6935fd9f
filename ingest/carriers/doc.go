// Package carriers turns raw tracking payloads into canonical events
// (schemas.Event): webhook bodies of the tracking aggregators AfterShip and
// 17TRACK (which is how China Post, Cainiao, YunExpress, 4PX, Yanwen and the
// other cross-border carriers reach shiplens), tracking API responses of DHL,
// FedEx, UPS, USPS, La Poste, Australia Post, Sendle and SEKO, and two
// generic formats: CSV with a column mapping and canonical JSON lines.
//
// carriers is pure translation: it must not touch the network, Kafka or
// ClickHouse, read the clock (the caller passes now) or keep state between
// calls. The webhook receiver, the poller and `shiplens normalize` call it
// and decide where events and problems go.
//
// # Contract
//
// Lookup(source) returns the Adapter of a source; Parse reads one payload.
// Parse fails as a whole (a *PayloadError) only when the payload cannot be
// read at all: larger than MaxPayload, not JSON, or not the shape the source
// sends; the error says what was expected. Everything else is per record: a
// scan whose time does not parse, whose status code is unknown or whose
// event fails schemas.Event.Validate becomes a Problem (index, field,
// reason, raw bytes) and the other scans of the payload still come out.
// Every event in Result.Events passes Validate(now).
//
// # Mapping
//
// mapping.go holds every translation table, one per source, so that a
// reviewer reads in one place how a carrier code becomes a canonical status.
// The raw code is kept in carrier_status and the raw text in description.
// Where a source's code is coarse (UPS type "X", DHL "transit", FedEx "SE"),
// the text refines it into the customs, failed-delivery and return statuses
// of the canonical taxonomy; a specific code is never overridden by text.
// Unknown codes fall back to the text; a scan neither reveals becomes an
// unknown_status Problem, so the table can be extended rather than guessed.
// (Australia Post scans have no code at all, and 17TRACK lists plain transit
// scans without a milestone; for those two, unrecognised text is in_transit.)
// Export customs never becomes a customs status: customs_dwell measures
// import clearance.
//
// # Identity
//
// Event ids are deterministic: the first 32 hex digits of SHA-256 over
// source, carrier, tracking number, occurred_at, raw code, description and
// location. Polling the same shipment again or receiving the same webhook
// twice yields the same ids, so the processor's dedup drops the repeats. A
// scan repeated verbatim inside one payload is emitted once.
//
// # Time
//
// A timestamp with a UTC offset is used as given. Carrier APIs often give
// the local wall-clock time of the scan without an offset (DHL, UPS, SEKO,
// some FedEx scans); where the payload also carries a UTC form (USPS
// GMTTimestamp, 17TRACK time_utc, UPS gmtDate/gmtTime, Sendle scan_time) that
// form wins, and otherwise the time is taken as UTC, which can shift it by
// the scan site's offset (at most 14 hours). A date without a time is
// midnight UTC. CSV can be told the zone of its offset-less times.
//
// # Countries and carriers
//
// Countries are ISO 3166-1 alpha-2. Alpha-3 codes (AfterShip) and English
// country names (USPS, Australia Post) are converted with the iso-codes
// table; an unknown country is left empty rather than guessed, which keeps
// the event valid but out of lane metrics. Carrier names and aggregator
// courier slugs map to shiplens carrier codes through carrierAliases; an
// unknown one becomes its sanitised lower-case slug, since the carrier set
// is open.
package carriers
