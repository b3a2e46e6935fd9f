package gen

// The buyers' preferred languages. A shop passes the buyer's language, a
// BCP 47 tag from its checkout (the shop's language switch or the browser's
// Accept-Language), to the carrier with its pre-advice, so that the carrier
// can write to the buyer; the carriers' own scans do not carry it. Which
// tag depends on where the recipient lives: mostly the country's main
// language with its region, then minority and expatriate languages, and
// now and then a bare language ("en"), as some shop systems send it.

// localeRate is the share of shipments whose pre-advice carries a locale:
// not every shop system passes it on.
const localeRate = 0.7

// localeShare is a language tag and its share among the recipients of a
// country or a city.
type localeShare struct {
	tag   string
	share float64
}

// countryLocales are the recipients' languages per country. Every lane's
// destination needs an entry (initLocales checks); CN and HK are lane
// origins only, so that a lane into them needs nothing more.
var countryLocales = []struct {
	country string
	locales []localeShare
}{
	{"US", []localeShare{{"en-US", 0.86}, {"es-US", 0.09}, {"en", 0.03}, {"zh-CN", 0.01}, {"vi-VN", 0.01}}},
	{"GB", []localeShare{{"en-GB", 0.93}, {"en", 0.03}, {"pl-PL", 0.02}, {"en-US", 0.01}, {"ro-RO", 0.01}}},
	{"DE", []localeShare{{"de-DE", 0.88}, {"de", 0.04}, {"tr-TR", 0.03}, {"en-GB", 0.02}, {"en-US", 0.01}, {"ru-RU", 0.01}, {"pl-PL", 0.01}}},
	{"FR", []localeShare{{"fr-FR", 0.92}, {"fr", 0.04}, {"en-GB", 0.02}, {"ar-MA", 0.01}, {"pt-PT", 0.01}}},
	{"ES", []localeShare{{"es-ES", 0.89}, {"es", 0.04}, {"en-GB", 0.03}, {"ca-ES", 0.02}, {"eu-ES", 0.01}, {"gl-ES", 0.01}}},
	// shiplens has no display text in Portuguese: the tracking page and
	// notifications must fall back for nearly every Brazilian buyer.
	{"BR", []localeShare{{"pt-BR", 0.95}, {"pt", 0.02}, {"en-US", 0.02}, {"es-419", 0.01}}},
	{"AU", []localeShare{{"en-AU", 0.89}, {"en", 0.04}, {"zh-CN", 0.04}, {"en-GB", 0.02}, {"vi-VN", 0.01}}},
	// Outside Montréal and Ottawa; with them about 22% of Canadian buyers
	// ask for French.
	{"CA", []localeShare{{"en-CA", 0.87}, {"fr-CA", 0.05}, {"zh-CN", 0.04}, {"en", 0.03}, {"fr", 0.01}}},
	{"CN", []localeShare{{"zh-CN", 0.95}, {"zh", 0.03}, {"en", 0.02}}},
	{"HK", []localeShare{{"zh-HK", 0.55}, {"en-HK", 0.25}, {"yue-HK", 0.12}, {"zh-Hant-HK", 0.08}}},
}

// cityLocales override countryLocales for the recipients of a city whose
// languages differ much from its country's.
var cityLocales = []struct {
	country, city string
	locales       []localeShare
}{
	{"US", "Miami", []localeShare{{"en-US", 0.56}, {"es-US", 0.40}, {"en", 0.02}, {"pt-BR", 0.02}}},
	{"US", "Los Angeles", []localeShare{{"en-US", 0.72}, {"es-US", 0.19}, {"zh-CN", 0.03}, {"ko-KR", 0.03}, {"en", 0.03}}},
	{"US", "Houston", []localeShare{{"en-US", 0.74}, {"es-US", 0.20}, {"vi-VN", 0.03}, {"en", 0.03}}},
	{"ES", "Barcelona", []localeShare{{"es-ES", 0.58}, {"ca-ES", 0.35}, {"en-GB", 0.03}, {"es", 0.02}, {"fr-FR", 0.02}}},
	{"ES", "Valencia", []localeShare{{"es-ES", 0.80}, {"ca-ES-valencia", 0.12}, {"en-GB", 0.05}, {"es", 0.03}}},
	{"CA", "Montréal", []localeShare{{"fr-CA", 0.68}, {"en-CA", 0.27}, {"fr", 0.03}, {"en", 0.02}}},
	{"CA", "Ottawa", []localeShare{{"en-CA", 0.62}, {"fr-CA", 0.34}, {"en", 0.02}, {"fr", 0.02}}},
}

// localeTable is a list of locales resolved for picking: the tags and
// their cumulative shares.
type localeTable struct {
	tags []string
	cum  []float64
}

// recipientLocales holds, per place (index into places), the languages of
// the recipients who live there; nil where nobody does.
var recipientLocales []*localeTable

func newLocaleTable(ls []localeShare) *localeTable {
	t := &localeTable{}
	w := make([]float64, len(ls))
	for i, l := range ls {
		t.tags = append(t.tags, l.tag)
		w[i] = l.share
	}
	t.cum = cumulative(w)
	return t
}

func initLocales() {
	recipientLocales = make([]*localeTable, len(places))
	for _, cl := range countryLocales {
		t := newLocaleTable(cl.locales)
		for _, p := range countryByCode(cl.country).people {
			recipientLocales[p] = t
		}
	}
	for _, cl := range cityLocales {
		c := countryByCode(cl.country)
		p := placeOf(c, cl.city)
		if recipientLocales[p] == nil {
			panic("gen: locales for " + cl.country + "/" + cl.city + ", a country without its own")
		}
		recipientLocales[p] = newLocaleTable(cl.locales)
	}
	for _, l := range lanes {
		for _, p := range l.d.people {
			if recipientLocales[p] == nil {
				panic("gen: no locales for the recipients of lane " + l.code)
			}
		}
	}
}

// locale returns the locale of the pre-advice of s, "" for none. It is
// picked from a hash of the Seed and the tracking number, not drawn from
// the shipment's random streams, so that it changes nothing else of the
// workload, and the oracle, which does not need it, can rebuild the
// shipment without it.
func (g *Generator) locale(s *shipment) string {
	t := recipientLocales[s.dest]
	if t == nil {
		return ""
	}
	h := splitmix(splitmix(uint64(g.cfg.Seed)^0x243f6a8885a308d3) ^ fnv1a(s.tracking))
	if unit(h) >= localeRate {
		return ""
	}
	return t.tags[pickCum(t.cum, unit(splitmix(h))*t.cum[len(t.cum)-1])]
}

// unit maps h to [0, 1) as rand.Float64 does.
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// fnv1a is the 64-bit FNV-1a hash of s.
func fnv1a(s string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return h
}
