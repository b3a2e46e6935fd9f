package gen

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// MaxShipments is the largest Config.Shipments; tracking number serials are
// unique up to it.
const MaxShipments = 10_000_000

// MaxJourney bounds every shipment: all its events occur within MaxJourney of
// its order time, so every event lies in [Start, Start+Span+MaxJourney).
// Journeys that would run longer are redrawn (a carrier writes such parcels
// off), so transit distributions are truncated there.
const MaxJourney = 50 * 24 * time.Hour

// defaultStart is fixed rather than the wall clock so that output is
// deterministic, and early enough that with the default Span no event lies
// after 2026-11-20.
var defaultStart = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

var minStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Config describes a workload. The zero value is usable: WithDefaults fills in
// every zero field.
type Config struct {
	Shipments int   // number of shipments, at most MaxShipments; defaults to 20000
	Seed      int64 // selects the workload: the same Seed and Config give byte-identical output; 0 is a seed like any other

	Start time.Time     // first order time, whole seconds; defaults to 2026-09-01T00:00:00Z
	Span  time.Duration // orders are spread evenly over [Start, Start+Span); defaults to 30 days

	// DisorderRate is the share of events, among those followed by a later
	// scan of the same shipment, that arrive hours to days late, after that
	// later scan; defaults to 0.05, and a negative value means none.
	DisorderRate float64
	// DuplicateRate is the share of events sent a second time (same event_id,
	// same bytes, its own delay); defaults to 0.02, and a negative value means
	// none.
	DuplicateRate float64

	// FirstScanNoCountryRate is the share of shipments, among those that
	// report countries, whose first scan, the pre-advice (info_received)
	// sent before the carrier has the parcel, omits destination_country or
	// both countries, as real pre-advices often do: their lane comes from a
	// later scan. Defaults to 0.05, and a negative value means none.
	FirstScanNoCountryRate float64
	// NoCountryRate is the share of shipments whose events carry no
	// countries at all (a feed that never sends them), so that they have
	// no lane; defaults to 0.005, and a negative value means none.
	NoCountryRate float64
	// TieRate is the share of scans, after the first of a shipment, that
	// occur in the same second as the scan before them (batched scans, a
	// clearance opened and closed in one go); a scan tied to the one before
	// it is never tied to the one after. Defaults to 0.02, and a negative
	// value means none.
	TieRate float64
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Shipments == 0 {
		c.Shipments = 20000
	}
	if c.Start.IsZero() {
		c.Start = defaultStart
	}
	if c.Span == 0 {
		c.Span = 30 * 24 * time.Hour
	}
	if c.DisorderRate == 0 {
		c.DisorderRate = 0.05
	}
	if c.DuplicateRate == 0 {
		c.DuplicateRate = 0.02
	}
	if c.FirstScanNoCountryRate == 0 {
		c.FirstScanNoCountryRate = 0.05
	}
	if c.NoCountryRate == 0 {
		c.NoCountryRate = 0.005
	}
	if c.TieRate == 0 {
		c.TieRate = 0.02
	}
	return c
}

// Validate reports the first field of c that no generator can work with.
// Zero fields are valid: they stand for their defaults.
func (c Config) Validate() error {
	if c.Shipments < 0 || c.Shipments > MaxShipments {
		return fmt.Errorf("invalid generator config: shipments is %d, want 1 to %d", c.Shipments, MaxShipments)
	}
	if !c.Start.IsZero() && c.Start.Before(minStart) {
		return fmt.Errorf("invalid generator config: start %s is before 2000-01-01", c.Start.Format(time.RFC3339))
	}
	if c.Start.Year() > 2200 {
		return fmt.Errorf("invalid generator config: start %s is after 2200", c.Start.Format(time.RFC3339))
	}
	if c.Span < 0 || c.Span > 10*365*24*time.Hour {
		return fmt.Errorf("invalid generator config: span %s is negative or longer than ten years", c.Span)
	}
	if c.Span != 0 && c.Span < time.Second {
		return errors.New("invalid generator config: span is shorter than a second")
	}
	for _, r := range []struct {
		name string
		v    float64
	}{
		{"disorder rate", c.DisorderRate}, {"duplicate rate", c.DuplicateRate},
		{"first scan no country rate", c.FirstScanNoCountryRate}, {"no country rate", c.NoCountryRate}, {"tie rate", c.TieRate},
	} {
		if math.IsNaN(r.v) || r.v > 1 {
			return fmt.Errorf("invalid generator config: %s is %g, want at most 1 (negative for none)", r.name, r.v)
		}
	}
	return nil
}
