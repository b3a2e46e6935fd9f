package gen

import (
	"math"
	"slices"
)

// Countries, cities and lanes of the workload. Everything here is static
// table data resolved once at package initialisation; the generator only
// indexes into it, so no map is ever iterated while producing output.

// city is one place a scan can happen: a merchant's town, a sorting centre,
// an international gateway or a delivery office.
type city struct {
	name     string
	postal   string
	lat, lon float64
	people   float64 // share of merchants or recipients; 0 for pure hubs
	role     uint8   // hub and gateway bits
}

const (
	roleHub uint8 = 1 << iota // sorting centre
	roleGW                    // international air or sea gateway
)

// country is a lane end. off is a fixed UTC offset in hours (daylight saving
// is ignored: it only steers pickups and deliveries into local daytime).
type country struct {
	code    string
	off     int64
	cities  []city
	transit []string // hubs in third countries that economy freight may pass through, "CC/City"

	// Resolved at init, as indices into places.
	all        int // the country-only place
	people     []int
	peopleW    []float64 // cumulative weights of people
	hubs       []int
	gws        []int
	transits   []int
	merchants  []merchant // most active first
	merchantsW []float64  // their cumulative, Zipf-like weights
}

var countries = []*country{
	{code: "CN", off: 8, cities: []city{
		{"Shenzhen", "518000", 22.543, 114.058, 30, roleHub | roleGW},
		{"Guangzhou", "510000", 23.129, 113.264, 20, roleHub | roleGW},
		{"Yiwu", "322000", 29.306, 120.075, 15, roleHub},
		{"Dongguan", "523000", 23.021, 113.752, 10, 0},
		{"Hangzhou", "310000", 30.274, 120.155, 10, roleHub},
		{"Shanghai", "200000", 31.230, 121.474, 10, roleHub | roleGW},
		{"Xiamen", "361000", 24.480, 118.089, 5, 0},
		{"Beijing", "100000", 39.904, 116.407, 0, roleGW},
	}},
	{code: "HK", off: 8, cities: []city{
		{"Hong Kong", "", 22.319, 114.169, 50, roleHub | roleGW},
		{"Kwai Chung", "", 22.364, 114.131, 30, roleHub},
		{"Tsuen Wan", "", 22.371, 114.114, 20, 0},
	}},
	{code: "DE", off: 1, transit: []string{"BE/Liège"}, cities: []city{
		{"Berlin", "10115", 52.520, 13.405, 22, roleHub},
		{"Hamburg", "20095", 53.551, 9.994, 15, roleHub},
		{"Munich", "80331", 48.135, 11.582, 14, 0},
		{"Cologne", "50667", 50.938, 6.960, 12, roleHub},
		{"Frankfurt am Main", "60311", 50.110, 8.682, 10, roleHub | roleGW},
		{"Stuttgart", "70173", 48.776, 9.183, 8, 0},
		{"Düsseldorf", "40213", 51.228, 6.774, 8, 0},
		{"Leipzig", "04109", 51.340, 12.375, 6, roleHub | roleGW},
	}},
	{code: "US", off: -5, transit: []string{"KR/Incheon", "US/Anchorage"}, cities: []city{
		{"New York", "10001", 40.713, -74.006, 20, roleHub | roleGW},
		{"Los Angeles", "90012", 34.052, -118.244, 16, roleHub | roleGW},
		{"Chicago", "60601", 41.878, -87.630, 11, roleHub | roleGW},
		{"Houston", "77002", 29.760, -95.370, 9, 0},
		{"Phoenix", "85004", 33.448, -112.074, 7, 0},
		{"Dallas", "75201", 32.777, -96.797, 8, roleHub},
		{"Atlanta", "30303", 33.749, -84.388, 7, roleHub},
		{"Miami", "33130", 25.762, -80.192, 7, roleGW},
		{"Seattle", "98101", 47.606, -122.332, 6, 0},
		{"Denver", "80202", 39.739, -104.990, 5, 0},
		{"Louisville", "40202", 38.253, -85.759, 0, roleHub},
		{"Memphis", "38103", 35.150, -90.049, 0, roleHub},
		{"Anchorage", "99502", 61.174, -149.996, 0, roleHub},
	}},
	{code: "GB", off: 0, transit: []string{"BE/Liège", "DE/Leipzig"}, cities: []city{
		{"London", "EC1A 1BB", 51.507, -0.128, 35, roleHub | roleGW},
		{"Manchester", "M1 1AE", 53.481, -2.243, 14, roleHub},
		{"Birmingham", "B1 1AA", 52.486, -1.890, 14, roleHub},
		{"Leeds", "LS1 1UR", 53.801, -1.549, 9, 0},
		{"Glasgow", "G1 1XQ", 55.864, -4.252, 9, 0},
		{"Bristol", "BS1 4DJ", 51.455, -2.588, 8, 0},
		{"Liverpool", "L1 8JQ", 53.408, -2.992, 8, 0},
		{"East Midlands Airport", "DE74 2SA", 52.831, -1.328, 0, roleGW},
	}},
	{code: "FR", off: 1, transit: []string{"BE/Liège"}, cities: []city{
		{"Paris", "75001", 48.857, 2.352, 34, roleHub},
		{"Lyon", "69001", 45.764, 4.836, 14, roleHub},
		{"Marseille", "13001", 43.296, 5.370, 13, 0},
		{"Toulouse", "31000", 43.605, 1.444, 10, 0},
		{"Lille", "59000", 50.629, 3.057, 10, roleHub},
		{"Bordeaux", "33000", 44.838, -0.579, 10, 0},
		{"Nantes", "44000", 47.218, -1.554, 9, 0},
		{"Roissy-en-France", "95700", 49.004, 2.517, 0, roleGW},
	}},
	{code: "BR", off: -3, transit: []string{"QA/Doha", "DE/Frankfurt am Main"}, cities: []city{
		{"São Paulo", "01001-000", -23.551, -46.633, 35, roleHub | roleGW},
		{"Rio de Janeiro", "20010-000", -22.907, -43.173, 18, roleHub},
		{"Belo Horizonte", "30130-000", -19.917, -43.935, 10, 0},
		{"Curitiba", "80010-000", -25.428, -49.273, 9, roleHub | roleGW},
		{"Porto Alegre", "90010-000", -30.035, -51.218, 8, 0},
		{"Brasília", "70040-000", -15.794, -47.882, 8, 0},
		{"Salvador", "40020-000", -12.977, -38.501, 6, 0},
		{"Recife", "50030-000", -8.048, -34.877, 6, 0},
	}},
	{code: "AU", off: 10, transit: []string{"SG/Singapore"}, cities: []city{
		{"Sydney", "2000", -33.869, 151.209, 35, roleHub | roleGW},
		{"Melbourne", "3000", -37.814, 144.963, 32, roleHub | roleGW},
		{"Brisbane", "4000", -27.470, 153.026, 15, roleHub},
		{"Perth", "6000", -31.953, 115.857, 11, 0},
		{"Adelaide", "5000", -34.929, 138.601, 7, 0},
	}},
	{code: "ES", off: 1, transit: []string{"BE/Liège"}, cities: []city{
		{"Madrid", "28001", 40.417, -3.704, 35, roleHub | roleGW},
		{"Barcelona", "08001", 41.385, 2.173, 28, roleHub | roleGW},
		{"Valencia", "46001", 39.470, -0.376, 12, 0},
		{"Sevilla", "41001", 37.389, -5.984, 10, 0},
		{"Zaragoza", "50001", 41.649, -0.889, 8, roleHub},
		{"Málaga", "29001", 36.721, -4.421, 7, 0},
	}},
	{code: "CA", off: -5, transit: []string{"KR/Incheon", "US/Anchorage"}, cities: []city{
		{"Toronto", "M5H 2N2", 43.653, -79.383, 32, roleHub},
		{"Montréal", "H2Y 1C6", 45.502, -73.567, 22, roleHub},
		{"Vancouver", "V6B 1A1", 49.283, -123.121, 16, roleHub | roleGW},
		{"Calgary", "T2P 1J9", 51.045, -114.072, 12, 0},
		{"Ottawa", "K1P 1J1", 45.421, -75.697, 10, 0},
		{"Edmonton", "T5J 0N3", 53.546, -113.494, 8, 0},
		{"Mississauga", "L5P 1B2", 43.678, -79.630, 0, roleGW},
	}},
	// Transit-only countries: no lane starts or ends here.
	{code: "BE", off: 1, cities: []city{{"Liège", "4460", 50.637, 5.443, 0, roleHub}}},
	{code: "KR", off: 9, cities: []city{{"Incheon", "22382", 37.456, 126.705, 0, roleHub}}},
	{code: "SG", off: 8, cities: []city{{"Singapore", "819663", 1.359, 103.989, 0, roleHub}}},
	{code: "QA", off: 3, cities: []city{{"Doha", "", 25.286, 51.533, 0, roleHub}}},
}

// place is an entry of the location table that events point into.
type place struct {
	country  string
	city     string // "" for a country-only place
	postal   string
	lat, lon float64
}

var places []place

// nearestHub maps a place to the sorting centre of its country closest to
// it: parcels leave through and arrive at the hub that serves their town.
var nearestHub []int

// laneSpec is one origin-destination pair and the carriers that serve it.
type laneSpec struct {
	from, to string
	weight   float64 // share of all shipments, relative
	customs  bool    // import clearance (false inside the EU customs union)
	road     bool    // carriers use their road products (trucks, not planes)
	dist     float64 // linehaul multiplier
	slow     float64 // customs dwell multiplier (Brazil is slow)
	hold     float64 // probability of a customs hold
	extra    int     // extra business days carriers add to their promise
	offers   []offer

	// Resolved at init.
	code    string
	o, d    *country
	offersW []float64
}

// offer is a carrier serving a lane with a relative weight. services
// overrides the carrier's default products for this lane when set.
type offer struct {
	carrier  string
	weight   float64
	services []service

	c         *carrier
	servicesW []float64
}

// The carrier mixes for Chinese exports: marketplaces ship most parcels with
// cross-border specialists and China Post, a minority with express integrators.
func cnOffers(extra ...offer) []offer {
	base := []offer{
		{carrier: "chinapost", weight: 12},
		{carrier: "ems", weight: 3},
		{carrier: "cainiao", weight: 16},
		{carrier: "yunexpress", weight: 14},
		{carrier: "4px", weight: 9},
		{carrier: "yanwen", weight: 10},
		{carrier: "dhl", weight: 6},
		{carrier: "fedex", weight: 4},
		{carrier: "ups", weight: 4},
	}
	return append(base, extra...)
}

var lanes = []*laneSpec{
	{from: "CN", to: "US", weight: 22, customs: true, dist: 1.0, slow: 1.2, hold: 0.05, offers: cnOffers()},
	{from: "CN", to: "GB", weight: 8, customs: true, dist: 1.0, slow: 1.0, hold: 0.04, offers: cnOffers()},
	{from: "CN", to: "DE", weight: 7, customs: true, dist: 0.95, slow: 1.1, hold: 0.05, offers: cnOffers()},
	{from: "CN", to: "FR", weight: 6, customs: true, dist: 1.0, slow: 1.1, hold: 0.04, offers: cnOffers()},
	{from: "CN", to: "ES", weight: 4, customs: true, dist: 1.05, slow: 1.3, hold: 0.05, offers: cnOffers()},
	{from: "CN", to: "BR", weight: 6, customs: true, dist: 1.45, slow: 4.0, hold: 0.22, extra: 10, offers: []offer{
		{carrier: "chinapost", weight: 20},
		{carrier: "cainiao", weight: 15},
		{carrier: "ems", weight: 5},
		{carrier: "4px", weight: 5},
		{carrier: "yanwen", weight: 8},
		{carrier: "dhl", weight: 5},
		{carrier: "fedex", weight: 4},
	}},
	{from: "CN", to: "AU", weight: 5, customs: true, dist: 1.1, slow: 1.2, hold: 0.03, extra: 2, offers: cnOffers()},
	{from: "CN", to: "CA", weight: 3, customs: true, dist: 1.1, slow: 1.3, hold: 0.04, extra: 2, offers: cnOffers()},
	{from: "HK", to: "US", weight: 5, customs: true, dist: 1.0, slow: 1.2, hold: 0.04, offers: []offer{
		{carrier: "hkpost", weight: 10},
		{carrier: "4px", weight: 12},
		{carrier: "dhl", weight: 8},
		{carrier: "fedex", weight: 6},
		{carrier: "ups", weight: 5},
	}},
	{from: "HK", to: "GB", weight: 3, customs: true, dist: 1.0, slow: 1.0, hold: 0.04, offers: []offer{
		{carrier: "hkpost", weight: 8},
		{carrier: "4px", weight: 10},
		{carrier: "dhl", weight: 6},
		{carrier: "ups", weight: 4},
	}},
	{from: "HK", to: "AU", weight: 2, customs: true, dist: 0.9, slow: 1.2, hold: 0.03, extra: 1, offers: []offer{
		{carrier: "hkpost", weight: 8},
		{carrier: "4px", weight: 8},
		{carrier: "dhl", weight: 6},
		{carrier: "fedex", weight: 4},
	}},
	{from: "DE", to: "US", weight: 5, customs: true, dist: 0.8, slow: 1.0, hold: 0.04, offers: []offer{
		{carrier: "deutschepost", weight: 10},
		{carrier: "dhl", weight: 10, services: []service{
			{name: "express", class: express, speed: 0.9, weight: 0.5},
			{name: "standard", class: standard, speed: 0.85, weight: 0.5},
		}},
		{carrier: "ups", weight: 6},
		{carrier: "fedex", weight: 5},
	}},
	{from: "DE", to: "FR", weight: 6, road: true, dist: 0.8, offers: []offer{
		{carrier: "dpd", weight: 14},
		{carrier: "dhl", weight: 14},
		{carrier: "deutschepost", weight: 6},
		{carrier: "ups", weight: 5},
	}},
	{from: "DE", to: "GB", weight: 3, road: true, customs: true, dist: 1.2, slow: 0.8, hold: 0.04, offers: []offer{
		{carrier: "dpd", weight: 10},
		{carrier: "dhl", weight: 10},
		{carrier: "deutschepost", weight: 5},
		{carrier: "ups", weight: 5},
	}},
	{from: "DE", to: "ES", weight: 3, road: true, dist: 1.4, offers: []offer{
		{carrier: "dpd", weight: 10},
		{carrier: "dhl", weight: 10},
		{carrier: "deutschepost", weight: 5},
		{carrier: "ups", weight: 4},
	}},
	{from: "US", to: "GB", weight: 4, customs: true, dist: 0.8, slow: 1.0, hold: 0.04, offers: []offer{
		{carrier: "usps", weight: 12},
		{carrier: "ups", weight: 6},
		{carrier: "fedex", weight: 6},
		{carrier: "dhl", weight: 4},
	}},
	{from: "US", to: "CA", weight: 5, road: true, customs: true, dist: 1.0, slow: 0.8, hold: 0.03, offers: []offer{
		{carrier: "usps", weight: 14},
		{carrier: "ups", weight: 10},
		{carrier: "fedex", weight: 8},
		{carrier: "dhl", weight: 2, services: []service{{name: "express", class: express, speed: 0.9, weight: 1}}},
	}},
	{from: "US", to: "AU", weight: 2, customs: true, dist: 1.3, slow: 1.2, hold: 0.03, extra: 2, offers: []offer{
		{carrier: "usps", weight: 10},
		{carrier: "fedex", weight: 5},
		{carrier: "dhl", weight: 4},
		{carrier: "ups", weight: 3},
	}},
}

var lanesW []float64

// merchant is a tenant that ships from one city of its country.
type merchant struct {
	id      string
	city    int    // index into places
	shipper string // six-character UPS shipper number
}

func countryByCode(code string) *country {
	for _, c := range countries {
		if c.code == code {
			return c
		}
	}
	panic("gen: unknown country " + code)
}

func placeOf(country *country, name string) int {
	for _, i := range country.people {
		if places[i].city == name {
			return i
		}
	}
	for _, i := range country.hubs {
		if places[i].city == name {
			return i
		}
	}
	panic("gen: unknown hub " + country.code + "/" + name)
}

func cumulative(w []float64) []float64 {
	out := make([]float64, len(w))
	sum := 0.0
	for i, x := range w {
		sum += x
		out[i] = sum
	}
	return out
}

func initPlaces() {
	for _, c := range countries {
		c.all = len(places)
		places = append(places, place{country: c.code})
		var w []float64
		for _, ct := range c.cities {
			i := len(places)
			places = append(places, place{country: c.code, city: ct.name, postal: ct.postal, lat: ct.lat, lon: ct.lon})
			if ct.people > 0 {
				c.people = append(c.people, i)
				w = append(w, ct.people)
			}
			if ct.role&roleHub != 0 {
				c.hubs = append(c.hubs, i)
			}
			if ct.role&roleGW != 0 {
				c.gws = append(c.gws, i)
			}
		}
		c.peopleW = cumulative(w)
	}
	nearestHub = make([]int, len(places))
	for _, c := range countries {
		for _, i := range append(slices.Clone(c.people), c.hubs...) {
			best, bestD := c.hubs[0], math.Inf(1)
			for _, h := range c.hubs {
				dlat, dlon := places[h].lat-places[i].lat, (places[h].lon-places[i].lon)*math.Cos(places[i].lat*math.Pi/180)
				if d := dlat*dlat + dlon*dlon; d < bestD {
					best, bestD = h, d
				}
			}
			nearestHub[i] = best
		}
	}
	for _, c := range countries {
		for _, t := range c.transit {
			tc := countryByCode(t[:2])
			c.transits = append(c.transits, placeOf(tc, t[3:]))
		}
	}
	if len(places) >= 1<<13 {
		panic("gen: too many places for the 16-bit location index")
	}
}

func initMerchants() {
	const alnum = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
	sizes := []struct {
		country string
		n       int
	}{{"CN", 60}, {"HK", 20}, {"DE", 30}, {"US", 30}}
	for _, sz := range sizes {
		c := countryByCode(sz.country)
		ms := make([]merchant, sz.n)
		w := make([]float64, sz.n)
		lc := string([]byte{sz.country[0] | 0x20, sz.country[1] | 0x20})
		for k := range ms {
			h := splitmix(uint64(k)*0x9e37 + uint64(sz.country[0])<<8 + uint64(sz.country[1]))
			// Merchants cluster where the population weights say.
			city := c.people[pickCum(c.peopleW, float64(h>>11)/(1<<53)*c.peopleW[len(c.peopleW)-1])]
			sh := make([]byte, 6)
			for j := range sh {
				sh[j] = alnum[(h>>(8*j))%uint64(len(alnum))]
			}
			ms[k] = merchant{id: "m-" + lc + "-" + threeDigits(k+1), city: city, shipper: string(sh)}
			w[k] = 1 / math.Pow(float64(k+1), 1.1)
		}
		c.merchants = ms
		c.merchantsW = cumulative(w)
	}
}

func threeDigits(n int) string {
	return string([]byte{byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)})
}

func initLanes() {
	w := make([]float64, len(lanes))
	for i, l := range lanes {
		l.code = l.from + "-" + l.to
		l.o, l.d = countryByCode(l.from), countryByCode(l.to)
		if l.slow == 0 {
			l.slow = 1
		}
		if len(l.o.merchants) == 0 {
			panic("gen: no merchants in " + l.from)
		}
		ow := make([]float64, len(l.offers))
		for j := range l.offers {
			of := &l.offers[j]
			of.c = carrierByCode(of.carrier)
			if of.services == nil {
				of.services = of.c.intl
				if l.road && of.c.road != nil {
					of.services = of.c.road
				}
			}
			if len(of.services) == 0 {
				panic("gen: carrier " + of.carrier + " has no service on lane " + l.code)
			}
			sw := make([]float64, len(of.services))
			for k, s := range of.services {
				sw[k] = s.weight
			}
			of.servicesW = cumulative(sw)
			ow[j] = of.weight
		}
		l.offersW = cumulative(ow)
		w[i] = l.weight
	}
	lanesW = cumulative(w)
}
