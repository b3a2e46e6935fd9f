// Package eta predicts delivery dates: after each event of an undelivered
// shipment, p10, p50 and p90 of its delivery time, learned from the
// shipments delivered before, in event time. It is pure computation, like
// package analytics: no I/O, no clocks, no goroutines. The processor feeds
// it and stores what it says; the backtest (Backtest) replays a file of
// events through the same code.
//
// # The model
//
// For every group of shipments (carrier+service+lane, carrier+lane, lane,
// destination country, everything) and every milestone (the status of the
// latest scan, with in-transit-type statuses told apart before and after
// arrival in the destination country), the Model keeps a histogram of the
// hours from the scan to delivery, and one more for each checkpoint of time
// spent at the milestone (elapsedEdges): a parcel five days into customs is
// predicted from the parcels that were still there after four. A group's
// distribution is its own histogram blended with its parent's, which
// counts as Config.Strength deliveries, so a group with few deliveries
// leans on the coarser one and a group with many speaks for itself; the
// prediction's Basis names the finest group whose own deliveries outweigh
// the parent.
//
// Two things make it honest on a live stream:
//
//   - Censoring. Early on, only the fast parcels have been delivered. The
//     model also counts the scans whose shipments are still under way
//     (VisitCount) and estimates each distribution by Kaplan-Meier (km), so
//     a parcel six days in transit counts as "longer than six days", not as
//     missing. What lies beyond every delivery seen (the tail) is filled in
//     from the shipment's promise, else from the horizon itself.
//   - Drift. A delivery's weight halves every Config.HalfLife of event
//     time, so the model follows a change of transit times; weights are
//     stored unscaled against a base time so that decay rewrites nothing.
//
// With nothing learned for a milestone at all, the prediction is the
// promised date (BasisPromised) or the documented prior (BasisPrior).
//
// # Versions
//
// A Model changes only in Learn, which makes it a new version: the UTC day
// before which its deliveries and scans happened (see LearnVersion and
// Complete for how the processor makes a version's content independent of
// when it is built). A Predictor reads one model and caches each group's
// distributions until the model changes; predictions are cheap map lookups
// on the hot path. Models serialise (MarshalBinary, Unmarshal) so that
// processors share and restore them.
package eta
