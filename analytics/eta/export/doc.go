// Package export writes the current ETA predictions (eta.Record) to a file
// that planners open in their own tools, as an Arrow IPC file (".arrow",
// the random-access file format) or as Parquet, and reads such a file back.
//
// A Writer streams: it holds one batch of at most 64Ki rows in memory, then
// writes it out as an Arrow record batch or a Parquet row group, so an
// export of millions of shipments needs no more memory than one batch.
// Read detects the format from the file's magic bytes ("ARROW1" or "PAR1")
// and hands the rows back one eta.Record at a time.
//
// The package only encodes and decodes. It must not know where records
// come from (no ClickHouse, no Kafka) nor read flags or the environment:
// the CLI (shiplens eta export) opens the store and the output file and
// calls it.
//
// # Columns
//
// The column names and types are a contract with the planners' tools; add
// columns at the end, never rename or retype one. Every column is non-null
// except promised_at. Timestamps are Unix seconds in UTC.
//
//	column              type                          meaning
//	tracking_number     utf8                          Record.TrackingNumber
//	carrier             utf8                          Record.Carrier
//	service             utf8                          Record.Service; "" when unknown
//	lane                utf8                          Record.Lane, "CN-US"; "" when no event carried both countries
//	merchant            utf8                          Record.Merchant; "" when unknown
//	status              dictionary<int8, utf8>        status of the latest scan when predicted (schemas.Status.String, "in_transit")
//	milestone           dictionary<int8, utf8>        milestone predicted at (eta.Milestone.String, "in_transit_destination")
//	as_of               timestamp[s, tz=UTC]          event time the prediction was made at (the latest scan)
//	predicted_delivery  timestamp[s, tz=UTC]          predicted delivery, the median (P50)
//	p10                 timestamp[s, tz=UTC]          10th percentile of the delivery time
//	p90                 timestamp[s, tz=UTC]          90th percentile of the delivery time
//	promised_at         timestamp[s, tz=UTC], null    delivery date the carrier or merchant promised; null when none was
//	model_version       timestamp[s, tz=UTC]          model version: the UTC day start before which its training deliveries happened
//	basis               dictionary<int8, utf8>        what the prediction rests on (eta.Basis.String, "carrier_lane")
//	rev                 uint64                        order of one shipment's predictions: the latest has the largest
//
// status, milestone and basis take their values from closed sets, so each
// has one fixed dictionary, the same in every batch (the Arrow IPC file
// format allows a single dictionary per column). The open-ended strings
// stay plain utf8: their dictionary would have to be known before the
// first batch is written. Parquet dictionary-encodes them on disk all the
// same, except tracking_number, which is unique, and compresses pages
// with zstd.
//
// Parquet has no seconds unit: there the timestamps are stored as
// TIMESTAMP(MILLIS, adjusted to UTC), and a reader sees milliseconds
// (arrow-go reads timestamp[ms, tz=UTC] even with the stored Arrow
// schema); Read turns them back into seconds. The Arrow IPC file is not
// compressed, so any Arrow reader, including one without codecs, can map
// it.
package export
