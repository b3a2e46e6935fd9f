package gen

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// parcel is one shipment as a consumer sees it.
type parcel struct {
	arrived []schemas.Event // every copy, in arrival order
	firsts  []schemas.Event // distinct events, in order of first arrival
	byTime  []schemas.Event // distinct events by occurred_at, then scan order
	// origin and destination as the events that carry them give them, and
	// the lane of the first event that carries both; empty when none does.
	origin, destination, lane string
}

func (p *parcel) has(s schemas.Status) bool {
	return slices.ContainsFunc(p.byTime, func(e schemas.Event) bool { return e.Status == s })
}

func (p *parcel) first(s schemas.Status) (time.Time, bool) {
	for _, e := range p.byTime {
		if e.Status == s {
			return e.OccurredAt, true
		}
	}
	return time.Time{}, false
}

func (p *parcel) last() schemas.Event { return p.byTime[len(p.byTime)-1] }

// group splits events by tracking number, parcels in order of first arrival.
func group(events []schemas.Event) []*parcel {
	idx := map[string]*parcel{}
	var out []*parcel
	for _, e := range events {
		p := idx[e.TrackingNumber]
		if p == nil {
			p = &parcel{}
			idx[e.TrackingNumber] = p
			out = append(out, p)
		}
		p.arrived = append(p.arrived, e)
		if !slices.ContainsFunc(p.firsts, func(x schemas.Event) bool { return x.EventID == e.EventID }) {
			p.firsts = append(p.firsts, e)
		}
	}
	for _, p := range out {
		p.byTime = slices.Clone(p.firsts)
		// Within a tracking number, event ids differ only in their scan
		// sequence, so they order scans made in the same second.
		sort.SliceStable(p.byTime, func(i, j int) bool {
			a, b := p.byTime[i], p.byTime[j]
			if !a.OccurredAt.Equal(b.OccurredAt) {
				return a.OccurredAt.Before(b.OccurredAt)
			}
			return a.EventID < b.EventID
		})
		for _, e := range p.byTime {
			p.origin = cmp.Or(p.origin, e.OriginCountry)
			p.destination = cmp.Or(p.destination, e.DestinationCountry)
			p.lane = cmp.Or(p.lane, e.Lane())
		}
	}
	return out
}

func generate(t testing.TB, c Config) []schemas.Event {
	t.Helper()
	g, err := New(c)
	if err != nil {
		t.Fatalf("New(%+v): %v", c, err)
	}
	return g.Events()
}

// The 5000-shipment default workload most tests look at.
var sample = sync.OnceValues(func() ([]schemas.Event, []*parcel) {
	g, err := New(Config{Shipments: 5000, Seed: 42})
	if err != nil {
		panic(err)
	}
	evs := g.Events()
	return evs, group(evs)
})

func marshalAll(t testing.TB, events []schemas.Event) [][]byte {
	t.Helper()
	out := make([][]byte, len(events))
	for i := range events {
		b, err := events[i].Marshal()
		if err != nil {
			t.Fatalf("cannot marshal event %d: %v", i, err)
		}
		out[i] = b
	}
	return out
}

func TestConfigDefaults(t *testing.T) {
	got := Config{}.WithDefaults()
	want := Config{Shipments: 20000, Start: defaultStart, Span: 30 * 24 * time.Hour, DisorderRate: 0.05, DuplicateRate: 0.02,
		FirstScanNoCountryRate: 0.05, NoCountryRate: 0.005, TieRate: 0.02}
	if got != want {
		t.Fatalf("Config{}.WithDefaults() = %+v, want %+v", got, want)
	}
	if again := got.WithDefaults(); again != got {
		t.Fatalf("WithDefaults is not idempotent: %+v, then %+v", got, again)
	}
	off := Config{DisorderRate: -1, DuplicateRate: -1, FirstScanNoCountryRate: -1, NoCountryRate: -1, TieRate: -1}.WithDefaults()
	if off.DisorderRate != -1 || off.DuplicateRate != -1 || off.FirstScanNoCountryRate != -1 || off.NoCountryRate != -1 || off.TieRate != -1 {
		t.Fatalf("negative rates must stay negative (none), got %+v", off)
	}
	// With the default Span, every event must lie before today (2026-11-22),
	// or a receiver checking its clock would reject it.
	if end := defaultStart.Add(want.Span + MaxJourney); !end.Before(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("default workload may run until %s, after 2026-11-21", end)
	}
}

func TestConfigValidate(t *testing.T) {
	f := func(c Config, wantErr string) {
		t.Helper()
		err := c.Validate()
		if wantErr == "" {
			if err != nil {
				t.Fatalf("Validate(%+v) = %v, want nil", c, err)
			}
			if _, err := New(c); err != nil {
				t.Fatalf("New(%+v) = %v, want nil", c, err)
			}
			return
		}
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("Validate(%+v) = %v, want an error containing %q", c, err, wantErr)
		}
		if _, err := New(c); err == nil {
			t.Fatalf("New(%+v) accepted an invalid config", c)
		}
	}
	f(Config{}, "")
	f(Config{Shipments: 1, Seed: -5, Span: time.Hour, DisorderRate: 1, DuplicateRate: 1}, "")
	f(Config{DisorderRate: -1, DuplicateRate: math.Inf(-1)}, "")
	f(Config{Shipments: MaxShipments}, "")
	f(Config{Shipments: -1}, "shipments")
	f(Config{Shipments: MaxShipments + 1}, "shipments")
	f(Config{Start: time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)}, "start")
	f(Config{Start: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}, "start")
	f(Config{Span: -time.Hour}, "span")
	f(Config{Span: time.Millisecond}, "span")
	f(Config{Span: 20 * 365 * 24 * time.Hour}, "span")
	f(Config{DisorderRate: 1.5}, "disorder rate")
	f(Config{DisorderRate: math.NaN()}, "disorder rate")
	f(Config{DuplicateRate: 2}, "duplicate rate")
	f(Config{FirstScanNoCountryRate: 1, NoCountryRate: 1, TieRate: 1}, "")
	f(Config{FirstScanNoCountryRate: 1.01}, "first scan no country rate")
	f(Config{NoCountryRate: math.NaN()}, "no country rate")
	f(Config{TieRate: 3}, "tie rate")
}

func TestDeterministic(t *testing.T) {
	f := func(a, b Config, same bool) {
		t.Helper()
		x, y := marshalAll(t, generate(t, a)), marshalAll(t, generate(t, b))
		equal := slices.EqualFunc(x, y, bytes.Equal)
		if equal != same {
			t.Fatalf("configs %+v and %+v: identical output = %v, want %v", a, b, equal, same)
		}
	}
	base := Config{Shipments: 2000, Seed: 7}
	f(base, base, true)
	f(base, Config{Shipments: 2000, Seed: 8}, false)
	f(base, Config{Shipments: 2000, Seed: 7, Start: defaultStart.Add(time.Hour)}, false)
	f(Config{Shipments: 500, Seed: 0}, Config{Shipments: 500}, true)

	// The noise rates reorder and repeat events but do not change them.
	quiet := Config{Shipments: 2000, Seed: 7, DisorderRate: -1, DuplicateRate: -1}
	noisy := marshalAll(t, generate(t, base))
	calm := marshalAll(t, generate(t, quiet))
	slices.SortFunc(noisy, bytes.Compare)
	noisy = slices.CompactFunc(noisy, bytes.Equal)
	slices.SortFunc(calm, bytes.Compare)
	if !slices.EqualFunc(noisy, calm, bytes.Equal) {
		t.Fatalf("the distinct events with and without noise differ: %d vs %d", len(noisy), len(calm))
	}
}

// TestQuirksChangeOnlyTheirFields shows that the reporting quirks leave
// everything else alone: with and without them, the same events exist, and
// they differ only in countries left out and in tied scans moved to the time
// of the scan before.
func TestQuirksChangeOnlyTheirFields(t *testing.T) {
	plain := Config{Shipments: 3000, Seed: 12, FirstScanNoCountryRate: -1, NoCountryRate: -1, TieRate: -1}
	quirky := Config{Shipments: 3000, Seed: 12, FirstScanNoCountryRate: 0.2, NoCountryRate: 0.05, TieRate: 0.2}
	a, b := group(generate(t, plain)), group(generate(t, quirky))
	if len(a) != len(b) {
		t.Fatalf("%d shipments without quirks, %d with", len(a), len(b))
	}
	byTN := map[string]*parcel{}
	for _, p := range a {
		byTN[p.byTime[0].TrackingNumber] = p
	}
	moved, bare := 0, 0
	for _, q := range b {
		p := byTN[q.byTime[0].TrackingNumber]
		if p == nil || len(p.byTime) != len(q.byTime) || len(p.arrived) != len(q.arrived) {
			t.Fatalf("shipment %s changed its events", q.byTime[0].TrackingNumber)
		}
		for k, x := range q.byTime {
			y := p.byTime[k]
			if !x.OccurredAt.Equal(y.OccurredAt) {
				moved++
				if k == 0 || !x.OccurredAt.Equal(p.byTime[k-1].OccurredAt) {
					t.Fatalf("event %s moved from %s to %s, not to the previous scan's time", x.EventID, y.OccurredAt, x.OccurredAt)
				}
			}
			if x.Lane() != y.Lane() {
				bare++
			}
			x.OccurredAt, x.OriginCountry, x.DestinationCountry = y.OccurredAt, y.OriginCountry, y.DestinationCountry
			xb, _ := x.Marshal()
			yb, _ := y.Marshal()
			if !bytes.Equal(xb, yb) {
				t.Fatalf("beyond countries and times, the events differ:\n%s\n%s", xb, yb)
			}
		}
	}
	if moved == 0 || bare == 0 {
		t.Fatalf("%d scans tied and %d left without countries: the quirks did nothing", moved, bare)
	}
}

// TestQuirks checks the rates of the reporting quirks, and that the tied
// scans include the pairs that matter to the metrics.
func TestQuirks(t *testing.T) {
	f := func(parcels []*parcel, first, none, tie float64) {
		t.Helper()
		var firstBare, noLane, pairs, ties int
		kinds := map[string]int{}
		for _, p := range parcels {
			switch {
			case p.origin == "" && p.destination == "":
				noLane++
			case p.lane == "" && len(p.byTime) > 1:
				t.Fatalf("shipment %s has %d events, some with a country, none with both", p.byTime[0].TrackingNumber, len(p.byTime))
			case p.byTime[0].Lane() == "":
				firstBare++
				if p.byTime[0].Status != schemas.InfoReceived {
					t.Fatalf("shipment %s: the scan without countries is a %s", p.byTime[0].TrackingNumber, p.byTime[0].Status)
				}
			}
			for k := 1; k < len(p.byTime); k++ {
				pairs++
				x, y := p.byTime[k-1], p.byTime[k]
				if !x.OccurredAt.Equal(y.OccurredAt) {
					continue
				}
				ties++
				switch {
				case x.Status.StartsCustoms() && y.Status.EndsCustoms():
					kinds["customs opened and closed"]++
				case x.Status == schemas.OutForDelivery && y.Status == schemas.Delivered:
					kinds["out for delivery and delivered"]++
				case x.Status == schemas.InfoReceived && y.Status == schemas.PickedUp:
					kinds["pre-advice and pickup"]++
				}
				if k >= 2 && p.byTime[k-2].OccurredAt.Equal(x.OccurredAt) {
					t.Fatalf("shipment %s has three scans in one second", x.TrackingNumber)
				}
			}
		}
		n := float64(len(parcels))
		near := func(name string, got, want float64) {
			t.Helper()
			t.Logf("%-30s %.4f (want about %g)", name, got, want)
			if math.Abs(got-want) > 0.25*want+0.002 {
				t.Errorf("%s: %.4f, want about %g", name, got, want)
			}
		}
		// A tie rules out one at the next scan, so the share of tied pairs is
		// tie/(1+tie) in the long run. A pre-advice without countries that
		// is all of its shipment (info_received only) counts as a shipment
		// without countries.
		near("first scan without countries", float64(firstBare)/(n-float64(noLane)), first)
		near("shipments without countries", float64(noLane)/n, none)
		near("tied scans", float64(ties)/float64(pairs), tie/(1+tie))
		for _, k := range []string{"customs opened and closed", "out for delivery and delivered", "pre-advice and pickup"} {
			if kinds[k] == 0 {
				t.Errorf("no tie of %s in %d shipments", k, len(parcels))
			}
		}
	}
	_, parcels := sample()
	f(parcels, 0.05, 0.005, 0.02)
	f(group(generate(t, Config{Shipments: 3000, Seed: 8, FirstScanNoCountryRate: 0.5, NoCountryRate: 0.2, TieRate: 0.3})), 0.5, 0.2, 0.3)
}

func TestEventsValid(t *testing.T) {
	events, parcels := sample()
	now := time.Now()
	c := Config{}.WithDefaults()
	end := c.Start.Add(c.Span + MaxJourney)
	carriers, lanes := Carriers(), Lanes()
	for i := range events {
		e := &events[i]
		if err := e.Validate(time.Time{}); err != nil {
			t.Fatalf("event %d does not validate: %v\n%+v", i, err, e)
		}
		if err := e.Validate(now); err != nil {
			t.Fatalf("event %d is rejected at the current time: %v", i, err)
		}
		if e.OccurredAt.Before(c.Start) || !e.OccurredAt.Before(end) || e.OccurredAt.After(now) {
			t.Fatalf("event %s occurred at %s, outside [%s, %s) or in the future", e.EventID, e.OccurredAt, c.Start, end)
		}
		if e.Lane() != "" && !slices.Contains(lanes, e.Lane()) {
			t.Fatalf("event %s has lane %q", e.EventID, e.Lane())
		}
		if !slices.Contains(carriers, e.Carrier) || e.Service == "" || e.Merchant == "" {
			t.Fatalf("event %s: carrier %q, service %q, merchant %q", e.EventID, e.Carrier, e.Service, e.Merchant)
		}
		if e.CarrierStatus == "" || e.Description == "" {
			t.Fatalf("event %s has no raw carrier status", e.EventID)
		}
		if e.Status != schemas.InfoReceived && (e.Location == nil || e.Location.Country == "") {
			t.Fatalf("scan %s (%s) has no location", e.EventID, e.Status)
		}
		if !e.PromisedAt.IsZero() && e.PromisedAt.Before(c.Start) {
			t.Fatalf("event %s promises %s, before the first order", e.EventID, e.PromisedAt)
		}
		if e.Locale != "" && e.Status != schemas.InfoReceived {
			t.Fatalf("event %s, a %s scan, carries locale %q: only the merchant's pre-advice knows it", e.EventID, e.Status, e.Locale)
		}
	}
	// What a consumer decodes is what was generated.
	for i, b := range marshalAll(t, events[:2000]) {
		d, err := schemas.Decode(b, now)
		if err != nil {
			t.Fatalf("cannot decode %s: %v", b, err)
		}
		if again, _ := d.Marshal(); !bytes.Equal(again, b) {
			t.Fatalf("event %d changes through Decode:\n%s\n%s", i, b, again)
		}
	}
	// A tracking number is one shipment: same carrier, service, lane and
	// merchant. Only the first scan may leave out countries, unless all do.
	for _, p := range parcels {
		f := p.arrived[0]
		for _, e := range p.arrived {
			if e.Carrier != f.Carrier || e.Service != f.Service || e.Merchant != f.Merchant ||
				e.OriginCountry != "" && e.OriginCountry != p.origin || e.DestinationCountry != "" && e.DestinationCountry != p.destination {
				t.Fatalf("tracking number %s is shared by different shipments: %+v and %+v", f.TrackingNumber, f, e)
			}
			if p.lane != "" && e.Lane() == "" && e.EventID != p.byTime[0].EventID {
				t.Fatalf("event %s, not the first of its shipment, has no lane", e.EventID)
			}
		}
	}
	if len(parcels) != 5000 {
		t.Fatalf("%d tracking numbers for 5000 shipments", len(parcels))
	}
}

// TestLocales checks the buyers' languages on the pre-advices against
// figures written here by hand: about 70% carry one, each country's usual
// tag leads, French is a fifth of Canada, Spanish a tenth of the US, and
// Brazil's pt-BR, for which shiplens has no display text, is there.
func TestLocales(t *testing.T) {
	_, parcels := sample()
	byDest := map[string]map[string]int{}
	with, untranslated := 0, 0
	for _, p := range parcels {
		pre := p.byTime[0]
		if pre.Status != schemas.InfoReceived {
			t.Fatalf("shipment %s starts with %s", pre.TrackingNumber, pre.Status)
		}
		for _, e := range p.arrived {
			if e.EventID == pre.EventID && e.Locale != pre.Locale {
				t.Fatalf("copies of %s carry locales %q and %q", e.EventID, pre.Locale, e.Locale)
			}
		}
		if pre.Locale == "" {
			continue
		}
		with++
		if !slices.Contains(schemas.Languages, schemas.Language(pre.Locale)) {
			untranslated++
		}
		if p.destination == "" {
			continue
		}
		if byDest[p.destination] == nil {
			byDest[p.destination] = map[string]int{}
		}
		byDest[p.destination][pre.Locale]++
	}
	if share := float64(with) / float64(len(parcels)); share < 0.66 || share > 0.74 {
		t.Errorf("%.3f of the pre-advices carry a locale, want about 0.7", share)
	}
	if untranslated < with/20 {
		t.Errorf("%d of %d locales in a language without display text, want pt-BR and others", untranslated, with)
	}
	usual := map[string]string{"US": "en-US", "GB": "en-GB", "DE": "de-DE", "FR": "fr-FR", "ES": "es-ES", "BR": "pt-BR",
		"AU": "en-AU", "CA": "en-CA"}
	share := func(dest, tag string) float64 {
		n := 0
		for _, k := range byDest[dest] {
			n += k
		}
		return float64(byDest[dest][tag]) / float64(n)
	}
	for _, l := range lanes {
		want, ok := usual[l.to]
		if !ok {
			t.Fatalf("lane %s: no usual locale written down for %s", l.code, l.to)
		}
		if s := share(l.to, want); s < 0.6 {
			t.Errorf("%s: %s is %.2f of the locales, want the most", l.to, want, s)
		}
	}
	near := func(dest, tag string, lo, hi float64) {
		t.Helper()
		if s := share(dest, tag); s < lo || s > hi {
			t.Errorf("%s: %s is %.3f of the locales, want %g-%g", dest, tag, s, lo, hi)
		}
	}
	near("CA", "fr-CA", 0.14, 0.32)
	near("US", "es-US", 0.06, 0.20)
	near("BR", "pt-BR", 0.85, 1)
	near("ES", "ca-ES", 0.04, 0.2)
}

func TestCoverage(t *testing.T) {
	_, parcels := sample()
	carriers, lanes := map[string]int{}, map[string]int{}
	statuses := map[schemas.Status]int{}
	for _, p := range parcels {
		carriers[p.arrived[0].Carrier]++
		lanes[p.lane]++
		for _, e := range p.byTime {
			statuses[e.Status]++
		}
	}
	if len(Carriers()) < 8 || len(Lanes()) < 10 {
		t.Fatalf("model has %d carriers and %d lanes, want at least 8 and 10", len(Carriers()), len(Lanes()))
	}
	for _, c := range Carriers() {
		if carriers[c] == 0 {
			t.Errorf("carrier %s never appears in 5000 shipments", c)
		}
	}
	for _, l := range Lanes() {
		if lanes[l] == 0 {
			t.Errorf("lane %s never appears in 5000 shipments", l)
		}
	}
	for _, s := range schemas.Statuses() {
		if statuses[s] == 0 {
			t.Errorf("status %s never appears in 5000 shipments", s)
		}
	}
	if lanes["CN-US"] < lanes["DE-FR"] || lanes["CN-US"] < lanes["US-CA"] {
		t.Errorf("CN-US should be the busiest lane: %v", lanes)
	}
}

func TestDuplicates(t *testing.T) {
	events, _ := sample()
	byID := map[string][]byte{}
	copies := 0
	for i, b := range marshalAll(t, events) {
		id := events[i].EventID
		if prev, ok := byID[id]; ok {
			copies++
			if !bytes.Equal(prev, b) {
				t.Fatalf("event_id %s is used for different events:\n%s\n%s", id, prev, b)
			}
			continue
		}
		byID[id] = b
	}
	rate := float64(copies) / float64(len(byID))
	if rate < 0.015 || rate > 0.025 {
		t.Fatalf("duplicate rate %.4f (%d of %d), want about 0.02", rate, copies, len(byID))
	}
}

// disorder returns the share of events, among those with a later scan of
// their shipment, that first arrive after such a later scan, and how many
// picked_up events first arrive after their shipment's delivered.
func disorder(parcels []*parcel) (rate float64, pickedAfterDelivered int) {
	late, eligible := 0, 0
	for _, p := range parcels {
		eligible += len(p.firsts) - 1
		var newest time.Time
		delivered := false
		for _, e := range p.firsts {
			if e.Status == schemas.PickedUp && delivered {
				pickedAfterDelivered++
			}
			delivered = delivered || e.Status == schemas.Delivered
			if e.OccurredAt.Before(newest) {
				late++
				continue
			}
			newest = e.OccurredAt
		}
	}
	return float64(late) / float64(eligible), pickedAfterDelivered
}

func TestDisorder(t *testing.T) {
	_, parcels := sample()
	rate, pickedLate := disorder(parcels)
	if rate < 0.045 || rate > 0.055 {
		t.Fatalf("out-of-order rate %.4f, want about 0.05", rate)
	}
	high := group(generate(t, Config{Shipments: 3000, Seed: 3, DisorderRate: 0.3}))
	rate, n := disorder(high)
	if rate < 0.28 || rate > 0.32 {
		t.Fatalf("out-of-order rate %.4f with DisorderRate 0.3", rate)
	}
	if pickedLate+n == 0 {
		t.Fatalf("no picked_up ever arrives after its delivered")
	}
}

func TestInOrderWithoutNoise(t *testing.T) {
	events := generate(t, Config{Shipments: 5000, Seed: 11, DisorderRate: -1, DuplicateRate: -1})
	ids := map[string]bool{}
	var newest time.Time
	for _, e := range events {
		if ids[e.EventID] {
			t.Fatalf("event_id %s emitted twice without duplicates", e.EventID)
		}
		ids[e.EventID] = true
		// Events come as a live feed: never more than the largest
		// processing delay behind the newest scan seen.
		if e.OccurredAt.Add(30*time.Minute + time.Second).Before(newest) {
			t.Fatalf("event %s occurred at %s, long before %s seen earlier", e.EventID, e.OccurredAt, newest)
		}
		if e.OccurredAt.After(newest) {
			newest = e.OccurredAt
		}
	}
	for _, p := range group(events) {
		for i := 1; i < len(p.arrived); i++ {
			if p.arrived[i].OccurredAt.Before(p.arrived[i-1].OccurredAt) {
				t.Fatalf("shipment %s: %s (%s) arrives after %s (%s)", p.arrived[0].TrackingNumber,
					p.arrived[i].Status, p.arrived[i].OccurredAt, p.arrived[i-1].Status, p.arrived[i-1].OccurredAt)
			}
			if p.arrived[i].EventID <= p.arrived[i-1].EventID {
				t.Fatalf("event ids %s, %s do not follow occurred_at", p.arrived[i-1].EventID, p.arrived[i].EventID)
			}
		}
	}
}

func TestScenarios(t *testing.T) {
	_, parcels := sample()
	counts := map[string]int{}
	var postalScans []int
	for _, p := range parcels {
		f := p.byTime[0]
		pu, picked := p.first(schemas.PickedUp)
		dl, delivered := p.first(schemas.Delivered)
		if delivered {
			counts["delivered"]++
			if !picked || !dl.After(pu) {
				t.Fatalf("shipment %s delivered at %s, picked up at %s", f.TrackingNumber, dl, pu)
			}
		}
		if p.has(schemas.CustomsHeld) {
			counts["customs held"]++
			if p.has(schemas.CustomsReleased) {
				counts["held, released"]++
			}
		}
		if i := slices.IndexFunc(p.byTime, func(e schemas.Event) bool { return e.Status == schemas.DeliveryFailed }); i >= 0 {
			counts["failed attempt"]++
			if slices.ContainsFunc(p.byTime[i:], func(e schemas.Event) bool { return e.Status == schemas.OutForDelivery }) {
				counts["second round"]++
			}
		}
		if p.has(schemas.AvailableForPickup) {
			counts["pickup point"]++
		}
		if p.has(schemas.Returned) {
			counts["returned"]++
			if delivered {
				t.Fatalf("shipment %s is both returned and delivered", f.TrackingNumber)
			}
		}
		switch last := p.last().Status; {
		case len(p.byTime) == 1 && last == schemas.InfoReceived:
			counts["info only"]++
		case last == schemas.Exception:
			counts["lost with exception"]++
		case last != schemas.Delivered && last != schemas.Returned && last != schemas.CustomsHeld:
			counts["lost silently"]++
		}
		promises := map[time.Time]bool{}
		carried := 0
		for _, e := range p.byTime {
			if !e.PromisedAt.IsZero() {
				promises[e.PromisedAt] = true
				carried++
			}
		}
		switch {
		case len(promises) == 0:
			counts["no promise"]++
		case len(promises) > 1:
			counts["promise updated"]++
		}
		if carried > 0 && carried < len(p.byTime) {
			counts["promise on some events"]++
		}
		customs := p.has(schemas.CustomsClearance) || p.has(schemas.CustomsHeld)
		switch p.lane {
		case "DE-FR", "DE-ES":
			if customs {
				t.Fatalf("intra-EU shipment %s went through customs", f.TrackingNumber)
			}
		default:
			if delivered && customs {
				counts["customs"]++
			}
		}
		if f.Carrier == "chinapost" && delivered {
			n := 0
			for _, e := range p.byTime {
				if e.Status == schemas.InTransit {
					n++
				}
			}
			postalScans = append(postalScans, n)
		}
	}
	at := func(name string, lo, hi float64) {
		t.Helper()
		share := float64(counts[name]) / float64(len(parcels))
		t.Logf("%-24s %5d shipments, %.4f", name, counts[name], share)
		if share < lo || share > hi {
			t.Errorf("%s: %d shipments (%.3f), want a share in [%g, %g]", name, counts[name], share, lo, hi)
		}
	}
	at("delivered", 0.88, 0.97)
	at("customs held", 0.02, 0.10)
	at("held, released", 0.02, 0.10)
	at("failed attempt", 0.03, 0.15)
	at("second round", 0.01, 0.10)
	at("pickup point", 0.03, 0.15)
	at("returned", 0.01, 0.05)
	at("info only", 0.01, 0.03)
	at("lost with exception", 0.002, 0.02)
	at("lost silently", 0.003, 0.03)
	at("no promise", 0.08, 0.25)
	at("promise updated", 0.005, 0.08)
	at("promise on some events", 0.15, 0.60)
	at("customs", 0.5, 0.95)
	slices.Sort(postalScans)
	if m := postalScans[len(postalScans)/2]; m < 4 {
		t.Errorf("a China Post parcel has %d in_transit scans at the median, want a multi-leg journey", m)
	}
}

func quantile(v []float64, q float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[int(q*float64(len(v)-1))]
}

func TestTransitTimes(t *testing.T) {
	_, parcels := sample()
	transit := map[string][]float64{} // carrier/service → days
	dwell := map[string][]float64{}   // destination → hours
	for _, p := range parcels {
		f := p.byTime[0]
		pu, ok1 := p.first(schemas.PickedUp)
		dl, ok2 := p.first(schemas.Delivered)
		if ok1 && ok2 {
			transit[f.Carrier+"/"+f.Service] = append(transit[f.Carrier+"/"+f.Service], dl.Sub(pu).Hours()/24)
		}
		var start time.Time
		for _, e := range p.byTime {
			if start.IsZero() && e.Status.StartsCustoms() {
				start = e.OccurredAt
			} else if !start.IsZero() && e.Status.EndsCustoms() {
				dwell[p.destination] = append(dwell[p.destination], e.OccurredAt.Sub(start).Hours())
				break
			}
		}
	}
	median := func(k string) float64 { return quantile(transit[k], 0.5) }
	f := func(key string, lo, hi float64) {
		t.Helper()
		if len(transit[key]) < 50 {
			t.Fatalf("%s: only %d delivered shipments", key, len(transit[key]))
		}
		if m := median(key); m < lo || m > hi {
			t.Errorf("%s: median transit %.1f days, want %g-%g", key, m, lo, hi)
		}
	}
	f("dhl/express", 2, 6)
	f("ups/express", 2, 6)
	f("dpd/standard", 1.5, 5)
	f("cainiao/standard", 7, 16)
	f("chinapost/economy", 15, 32)
	f("yanwen/economy", 15, 32)
	if a, b := median("dhl/express"), median("fedex/express"); a == b {
		t.Errorf("dhl and fedex express have the same median %.2f: carriers should differ", a)
	}
	for _, k := range []string{"chinapost/economy", "yanwen/economy", "cainiao/economy", "usps/economy"} {
		if r := quantile(transit[k], 0.9) / median(k); r <= 1.3 {
			t.Errorf("%s: p90/p50 = %.2f, want a long tail (> 1.3)", k, r)
		}
	}
	if br, us := quantile(dwell["BR"], 0.5), quantile(dwell["US"], 0.5); br < 2*us {
		t.Errorf("median customs dwell into Brazil %.0fh, into the US %.0fh: Brazil should be much slower", br, us)
	}
}

var trackingFormats = map[string]*regexp.Regexp{
	"chinapost":    regexp.MustCompile(`^(UA|UB|UC|UJ|LX|LZ|RB|RR)\d{9}CN$`),
	"ems":          regexp.MustCompile(`^E[ABE]\d{9}CN$`),
	"hkpost":       regexp.MustCompile(`^(LK|LM|UM|RB|RC|CP)\d{9}HK$`),
	"deutschepost": regexp.MustCompile(`^(LX|LY|RR|RX)\d{9}DE$`),
	"usps":         regexp.MustCompile(`^(EC|EA|CP|CJ|LZ|LX)\d{9}US$`),
	"ups":          regexp.MustCompile(`^1Z[0-9A-Z]{6}\d{10}$`),
	"fedex":        regexp.MustCompile(`^7\d{11}$`),
	"dhl":          regexp.MustCompile(`^\d{10}$`),
	"dpd":          regexp.MustCompile(`^05\d{12}$`),
	"cainiao":      regexp.MustCompile(`^LP\d{14}$`),
	"yunexpress":   regexp.MustCompile(`^YT26\d{14}$`),
	"4px":          regexp.MustCompile(`^4PX30\d{11}(CN|HK)$`),
	"yanwen":       regexp.MustCompile(`^YW\d{12}$`),
}

func TestTrackingNumbers(t *testing.T) {
	_, parcels := sample()
	for _, c := range Carriers() {
		if trackingFormats[c] == nil {
			t.Fatalf("no expected tracking format for carrier %s", c)
		}
	}
	for _, p := range parcels {
		e := p.arrived[0]
		tn := e.TrackingNumber
		if !trackingFormats[e.Carrier].MatchString(tn) {
			t.Fatalf("%s tracking number %q does not match %s", e.Carrier, tn, trackingFormats[e.Carrier])
		}
		switch e.Carrier {
		case "chinapost", "ems", "hkpost", "deutschepost", "usps":
			var serial uint64
			for _, ch := range tn[2:10] {
				serial = serial*10 + uint64(ch-'0')
			}
			if s10Check(serial) != tn[10] || p.origin != "" && tn[11:] != p.origin {
				t.Fatalf("S10 number %s has a wrong check digit or country", tn)
			}
		case "ups":
			if upsCheck([]byte(tn[2:17])) != tn[17] {
				t.Fatalf("UPS number %s has a wrong check digit", tn)
			}
		case "dhl":
			var serial uint64
			for _, ch := range tn[:9] {
				serial = serial*10 + uint64(ch-'0')
			}
			if byte('0'+serial%7) != tn[9] {
				t.Fatalf("DHL number %s has a wrong check digit", tn)
			}
		}
		want := e.Carrier + ":" + tn + ":"
		for _, x := range p.arrived {
			if !strings.HasPrefix(x.EventID, want) || len(x.EventID) != len(want)+2 {
				t.Fatalf("event_id %q, want %q and a two-digit sequence", x.EventID, want)
			}
		}
	}
	// Known check digits: the UPU's S10 example (RA473124829GB) and UPS's
	// documentation example (1Z999AA10123456784).
	if c := s10Check(47312482); c != '9' {
		t.Errorf("S10 check digit of 47312482 = %c, want 9", c)
	}
	if c := upsCheck([]byte("999AA1012345678")); c != '4' {
		t.Errorf("1Z check digit of 1Z999AA1012345678 = %c, want 4", c)
	}
}

func TestRunStops(t *testing.T) {
	g, err := New(Config{Shipments: 2000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	n := 0
	err = g.Run(context.Background(), func(*schemas.Event) error {
		n++
		if n == 100 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 100 {
		t.Fatalf("Run after emit failed on event 100: %v after %d events", err, n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	err = g.Run(ctx, func(*schemas.Event) error {
		n++
		if n == 1000 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n > 1000+256 {
		t.Fatalf("Run after cancel on event 1000: %v after %d events", err, n)
	}
	n = 0
	if err := g.Run(ctx, func(*schemas.Event) error { n++; return nil }); !errors.Is(err, context.Canceled) || n != 0 {
		t.Fatalf("Run with a cancelled context: %v after %d events", err, n)
	}
}

// TestStreaming shows that a Run holds the shipments in flight, not all: a
// year of orders keeps at most the last couple of months' worth.
func TestStreaming(t *testing.T) {
	g, err := New(Config{Shipments: 20000, Seed: 5, Span: 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	r := newRun(g)
	if err := r.run(context.Background(), func(*schemas.Event) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if limit := 20000 * 60 / 365; r.peak > limit {
		t.Fatalf("%d shipments held at once, want at most %d", r.peak, limit)
	}
	if len(r.free) == 0 {
		t.Fatalf("no shipment was recycled")
	}
}

func TestEventsAreCopies(t *testing.T) {
	g, err := New(Config{Shipments: 200, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	a := g.Events()
	want := marshalAll(t, a)
	for i := range a {
		if l := a[i].Location; l != nil {
			l.City = "Atlantis"
			if l.Lat != nil {
				*l.Lat = 0
			}
		}
	}
	if got := marshalAll(t, g.Events()); !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("changing the events of one call changed the next")
	}
	var viaRun [][]byte
	_ = g.Run(context.Background(), func(e *schemas.Event) error {
		b, err := e.Marshal()
		viaRun = append(viaRun, b)
		return err
	})
	if !slices.EqualFunc(viaRun, want, bytes.Equal) {
		t.Fatalf("Events and Run disagree")
	}
}

func TestConcurrentRuns(t *testing.T) {
	g, err := New(Config{Shipments: 1000, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	var out [4][][]byte
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() { out[i] = marshalAll(t, g.Events()) })
	}
	wg.Wait()
	for i := 1; i < len(out); i++ {
		if !slices.EqualFunc(out[0], out[i], bytes.Equal) {
			t.Fatalf("concurrent Runs of one generator differ")
		}
	}
}

func TestTables(t *testing.T) {
	for _, c := range carriers {
		for k := kind(0); k < numKinds; k++ {
			for _, v := range c.dialect[k] {
				if v.code == "" || v.desc == "" || len(v.code) > 128 || len(v.desc) > 1024 {
					t.Errorf("carrier %s: bad text %+v", c.code, v)
				}
			}
		}
		for _, s := range append(slices.Clone(c.intl), c.road...) {
			if c.format == fmtS10 && len(s.prefixes) == 0 || c.format == fmtUPS && len(s.upsCode) != 2 {
				t.Errorf("carrier %s service %s cannot write tracking numbers", c.code, s.name)
			}
		}
	}
	for _, l := range lanes {
		for _, o := range l.offers {
			switch {
			case o.carrier == "usps" && l.from != "US",
				o.carrier == "hkpost" && l.from != "HK",
				o.carrier == "deutschepost" && l.from != "DE",
				(o.carrier == "chinapost" || o.carrier == "ems" || o.carrier == "yanwen" || o.carrier == "cainiao" || o.carrier == "yunexpress") && l.from != "CN",
				o.carrier == "dpd" && (l.from != "DE" || !l.road):
				t.Errorf("implausible: %s on %s", o.carrier, l.code)
			}
		}
		eu := map[string]bool{"DE": true, "FR": true, "ES": true}
		if l.customs == (eu[l.from] && eu[l.to]) {
			t.Errorf("lane %s: customs = %v", l.code, l.customs)
		}
		for _, p := range l.d.people {
			if recipientLocales[p] == nil {
				t.Errorf("lane %s: no locales for the recipients in %s", l.code, places[p].city)
			}
		}
	}
	checkLocales := func(where string, ls []localeShare) {
		t.Helper()
		sum := 0.0
		for _, l := range ls {
			e := schemas.Event{EventID: "e", TrackingNumber: "t", Carrier: "dhl", Status: schemas.InfoReceived,
				OccurredAt: defaultStart, Locale: l.tag}
			if err := e.Validate(time.Time{}); err != nil || l.share <= 0 {
				t.Errorf("%s: locale %q, share %g: %v", where, l.tag, l.share, err)
			}
			sum += l.share
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("%s: locale shares sum to %g", where, sum)
		}
	}
	for _, cl := range countryLocales {
		checkLocales(cl.country, cl.locales)
	}
	for _, cl := range cityLocales {
		checkLocales(cl.country+"/"+cl.city, cl.locales)
	}
}

func FuzzGenerate(f *testing.F) {
	f.Add(int64(1), uint16(10), uint32(24), 0.05, 0.02, 0.0)
	f.Add(int64(-3), uint16(1), uint32(1), 1.0, 1.0, 1.0)
	f.Add(int64(99), uint16(50), uint32(24*365), -1.0, 0.5, 0.3)
	f.Fuzz(func(t *testing.T, seed int64, shipments uint16, spanHours uint32, disorder, dup, quirk float64) {
		c := Config{Seed: seed, Shipments: int(shipments%64) + 1, Span: time.Duration(spanHours) * time.Hour, DisorderRate: disorder, DuplicateRate: dup,
			FirstScanNoCountryRate: quirk, NoCountryRate: quirk / 2, TieRate: quirk}
		g, err := New(c)
		if err != nil {
			return
		}
		c = g.Config()
		end := c.Start.Add(c.Span + MaxJourney)
		seen := map[string]string{}
		for _, e := range g.Events() {
			if err := e.Validate(time.Time{}); err != nil {
				t.Fatalf("invalid event: %v", err)
			}
			if e.OccurredAt.Before(c.Start) || !e.OccurredAt.Before(end) {
				t.Fatalf("event at %s outside [%s, %s)", e.OccurredAt, c.Start, end)
			}
			b, _ := e.Marshal()
			if prev, ok := seen[e.EventID]; ok && prev != string(b) {
				t.Fatalf("event_id %s reused for a different event", e.EventID)
			}
			seen[e.EventID] = string(b)
		}
	})
}
