// Package dashboards defines shiplens' Grafana dashboards for logistics
// managers in Go, with the Grafana Foundation SDK's typed builders, and
// renders them to the JSON files that Grafana provisions
// (dashboards/json/*.json, written by `go run ./dashboards/gen`; a test fails
// when the committed files differ from what Build renders).
//
// Six dashboards, each with a stable uid: the carrier scorecard
// (shiplens-carriers), lane transit times (shiplens-lanes), customs
// (shiplens-customs), exceptions and alerts (shiplens-exceptions), ETA
// accuracy and lookups (shiplens-eta) and pipeline health
// (shiplens-pipeline). Their panels read ClickHouse through two
// provisioned datasources, referenced by uid only: the official ClickHouse
// datasource (ClickHouseUID) for SQL, and shiplens' own plugin
// (AnalyticsUID) for what needs Go: ETA lookups and what-if quotes.
//
// Every SQL target is declared with the columns and ClickHouse types it
// returns (Query), so that the tests can expand Grafana's variables and the
// datasource's macros, run the SQL on ClickHouse 18.16 and on current
// ClickHouse over a generated workload, and check each panel gets what it
// draws; `go run ./dashboards/querytime` times them on any server.
//
// The SQL follows the rest of shiplens: it reads the daily aggregates
// (carrier_days while neither service nor merchant is filtered, else
// shipment_days, chosen by the hidden variable aggregates), so its cost
// follows the selected range; it reuses store's series (store.SeriesSQL)
// as they are, and copies store.AlertSummarySQL and store.AccuracySQL
// where their exact form is too slow over a million shipments (the alerts
// are folded with FINAL; accuracy is computed on a sample of shipments,
// the sample variable), with tests that compare the copies with store's;
// quantiles are nearest-rank over the sketch buckets, as analytics.Sketch
// computes them; and nothing needs a function that ClickHouse 18.16
// lacks. This package only describes dashboards: it opens no connection.
package dashboards
