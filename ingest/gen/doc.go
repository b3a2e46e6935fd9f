// Package gen generates a seeded, deterministic and realistic cross-border
// e-commerce tracking workload: the canonical events (schemas.Event) that
// carriers would report for a population of parcels, in the order a Kafka
// topic fed by their webhooks would receive them. The demo, the benchmarks
// and the processor and ETA tests all feed on it.
//
// gen must not do I/O and must not read the wall clock: the output depends on
// the Config alone, byte for byte, so that a seed names a workload. Writing
// the events to a file or a topic is the caller's job (see Generator.Run).
//
// # The workload
//
// Shipments are ordered evenly over [Start, Start+Span). Each picks a lane
// (CN-US is the busiest; Lanes lists all 18), a carrier serving that lane and
// one of its products: postal operators (chinapost, ems, hkpost,
// deutschepost, usps), cross-border specialists (cainiao, yunexpress, 4px,
// yanwen), express integrators (dhl, fedex, ups) and a road parcel network
// (dpd, inside Europe). Only plausible pairs exist: usps ships from the US,
// hkpost from Hong Kong, dpd by road from Germany.
//
// A typical journey: info_received (label), picked_up, in_transit scans at an
// origin sorting centre, export and departure (sometimes via a transit hub
// in a third country), arrived_destination, import customs_clearance (some
// parcels customs_held for days, longest into Brazil, then customs_released,
// returned or seized), in_transit at the delivery facility and a hand-over
// to the last-mile partner, out_for_delivery and delivered. Along the way:
// failed attempts (delivery_failed, then another round or a notice and
// available_for_pickup), parcel lockers, refusals and unclaimed parcels
// (returned, never delivered), recoverable exceptions (address, weather),
// lost parcels whose scans simply stop or end in an exception, and labels
// that are never handed over (info_received only). Lanes inside the EU
// customs union (DE-FR, DE-ES) skip customs. A shipment has 12 events on
// average, about 13 for a Chinese postal parcel and 9 for a road parcel.
//
// Leg durations are log-normal per speed class (express, standard, economy,
// road), scaled per carrier, product and lane and by a per-parcel factor, so
// transit times are skewed and long-tailed: express about 3-4 days median,
// specialist standard lines 10-14, postal economy 17-28 with a p90 near 1.5
// times the median. Pickups and deliveries happen in local daytime,
// deliveries never on Sunday. No journey lasts longer than MaxJourney.
//
// About 85% of shipments carry a promised delivery date (promised_at): the
// end of the day N business days after the order in the destination's time
// zone, N depending on carrier, product and lane. Carriers differ in how
// optimistic their promises are, so on-time rates range from about 70% to
// over 90%. Some shipments repeat the promise on every event, some on a few,
// some only on the first; a few (more often after a customs hold) later
// carry a new, later promise. The promise in force is that of the latest
// event by occurred_at that carries one.
//
// Raw carrier_status codes and descriptions follow each carrier's own
// vocabulary (UPU EMSEVT codes for posts, in Chinese and English for China
// Post, in German for Deutsche Post; FedEx, DHL and UPS scan codes; Cainiao
// action codes), and scans carry a location: country, city, a postal code on
// delivery scans, coordinates for the integrators.
//
// About 70% of the pre-advices (info_received, the merchant's own message)
// carry the buyer's preferred language as locale, a BCP 47 tag that fits
// the recipient's country and city (en-US with some es-US, more in Miami;
// en-CA and fr-CA, mostly fr-CA in Montréal; pt-BR, which shiplens has no
// display text for; minority languages and bare tags such as "en"), picked
// from a hash of Seed and the tracking number instead of a random stream so
// that it changes nothing else; carrier scans carry none.
//
// Tracking numbers follow each carrier's format (UPU S10 with a valid check
// digit such as "LX123456785CN", "1Z..." with its check digit, 10-digit DHL,
// 12-digit FedEx, "YT..." YunExpress, "LP..." Cainiao) and are unique per
// shipment. An event_id is "<carrier>:<tracking number>:<nn>", nn being the
// event's rank in scan order (by occurred_at, scans in the same second in the
// order they were made), so it is deterministic and a duplicate carries the
// same one.
//
// # Reporting quirks
//
// Carriers do not report every scan completely, and the figures must not
// depend on it. FirstScanNoCountryRate of the shipments (5% by default) have
// a first scan, the info_received pre-advice, without destination_country
// (half of them) or without either country: their lane is known only from
// the pickup on. NoCountryRate of the shipments (0.5%) carry no country on
// any event, so that they have no lane at all. TieRate of the scans (2%),
// after the first of a shipment, occur in the same second as the scan before
// them: a pickup at the pre-advice's time, a clearance opened and closed at
// once, an out_for_delivery and its delivered. A tied scan is never tied to
// the next one too, and the scans keep their order and event ids.
//
// # Arrival order
//
// Events reach the stream a processing delay (seconds to minutes) after they
// occur, and in scan order per shipment, except for two kinds of noise:
// DisorderRate of the events arrive hours to days late, after a later scan of
// the same shipment (so a picked_up may arrive after delivered), and
// DuplicateRate of the events arrive twice, identical, with delays of their
// own (now and then a webhook retried hours later). Across shipments, events
// come roughly in occurred_at order, like a live feed.
//
// Run streams: it builds shipments in order-time order and keeps those not
// yet fully arrived in a min-heap keyed on their next arrival; whatever
// arrives before the next order time is emitted. The shipments waiting for
// a later hour rest in hourly buckets, so the heap stays small. Memory
// follows the shipments in flight, under a kilobyte each, not the total. A
// Run produces over a million events per second on one core with tens of
// thousands of shipments in flight, and about 0.8 million with half a
// million in flight.
//
// # The oracle
//
// Generator.NewOracle returns an Oracle: the delivery-time predictor that
// knows the generator's own distributions, the limit that an ETA backtest
// reports beside its model. Asked about an event id after scan nn, it
// rebuilds that shipment exactly as the generator did, replaying its random
// stream up to and including the draws that shaped scan nn, and then lets
// the journey run on n times (64 by default), each continuation from a
// fresh stream of its own, seeded from the shipment, nn and the
// continuation's number. Its p10, p50 and p90 are the quantiles of the
// delivery times of the continuations that deliver, reporting ties
// included.
//
// So the oracle knows everything drawn so far and nothing drawn later: the
// lane, carrier and product, the recipient's city, the parcel's luck factor
// (which multiplies every transport leg), its fate (a parcel the generator
// will lose gets no prediction at all), durations already drawn but not yet
// seen (the rest of a linehaul after a transit hub scan), and that the
// journey is the one the generator kept: continuations that run past
// MaxJourney when the journey did not are discarded, for the generator
// would have redrawn them. It does not know how the legs still ahead will
// go.
//
// No model can beat it, only approach it: the events a model sees are a
// function of that state and of draws independent of the journey ahead
// (reporting quirks, arrival noise), and given the state the median of the
// delivery time is the prediction with the least expected absolute error
// and [p10, p90] holds the delivery 80% of the time. What remains is the
// randomness of the journeys still ahead; and, since the oracle samples, an
// error of its own of about 1/n relative to its mean absolute error. On
// the default workload, over every scan before a delivery, its p50 is off
// by about two days on average (48 hours) and within a day of the delivery
// about half the time (51%), its [p10, p90] covers 80%: a model's distance
// from those figures is what better modelling could still win.
//
// Part of what the oracle knows, a model can only estimate: the luck, which
// it may read from the legs seen so far. Generator.NewLuckFreeOracle
// returns an Oracle that does not know it. Each of its continuations draws
// a luck afresh from the prior the generator draws the parcel's from, and
// scales by it the transport legs drawn after scan nn; the legs drawn
// before keep the parcel's own luck, so that scans 0 to nn are as
// generated. Everything else it knows as NewOracle does, the fate
// included. Its excess error over NewOracle is what ignoring the luck
// altogether costs; it is a reference, not a bound, for a model that reads
// the luck from the legs seen (the time taken so far says much of it) wins
// part of that back. On the default workload its p50 is off by 53 hours on
// average, 11% more than NewOracle's (16-17% after info_received and
// picked_up, when nearly all transport legs lie ahead; nothing after
// out_for_delivery, when none does), and within a day of the delivery 49%
// of the time; its intervals are wider, by 17% after the first two scans,
// and still cover 80%, for the parcel's own luck is a draw from the same
// prior. A model whose error exceeds NewOracle's by much more than that
// loses the rest to something other than the luck.
//
// Each shipment draws from its own random stream (math/rand/v2 PCG seeded
// from Seed and the shipment's index), and arrival noise is drawn last, so
// changing DisorderRate or DuplicateRate changes the arrival order but not
// the events. The reporting quirks draw from a second stream per shipment,
// so changing their rates changes only the countries they leave out and the
// times of the scans they tie (and with those, arrival times), nothing else.
package gen
