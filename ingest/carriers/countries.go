package carriers

import "strings"

// countryAliases holds spellings of countries that carriers use besides the
// ISO names, upper case; the value is the alpha-2 code.
var countryAliases = map[string]string{
	"USA":                        "US",
	"U.S.A.":                     "US",
	"UNITED STATES OF AMERICA":   "US",
	"UK":                         "GB",
	"GREAT BRITAIN":              "GB",
	"ENGLAND":                    "GB",
	"RUSSIA":                     "RU",
	"KOREA":                      "KR",
	"REPUBLIC OF KOREA":          "KR",
	"KOREA, SOUTH":               "KR",
	"HONG KONG SAR":              "HK",
	"HONGKONG":                   "HK",
	"MACAU":                      "MO",
	"TURKEY":                     "TR",
	"CZECH REPUBLIC":             "CZ",
	"VIET NAM":                   "VN",
	"BRUNEI":                     "BN",
	"THE NETHERLANDS":            "NL",
	"HOLLAND":                    "NL",
	"UAE":                        "AE",
	"IVORY COAST":                "CI",
	"MAINLAND CHINA":             "CN",
	"PEOPLE'S REPUBLIC OF CHINA": "CN",
	"CHINA MAINLAND":             "CN",
	// Kosovo has no ISO code; carriers and the EU use the user-assigned XK.
	"XK":     "XK",
	"XKX":    "XK",
	"KOSOVO": "XK",
}

var (
	alpha2Set   = map[string]bool{}
	alpha3To2   = map[string]string{}
	countryName = map[string]string{}
)

func init() {
	for _, c := range iso3166 {
		alpha2Set[c.alpha2] = true
		alpha3To2[c.alpha3] = c.alpha2
		for _, n := range c.names {
			countryName[strings.ToUpper(n)] = c.alpha2
		}
	}
	for k, v := range countryAliases {
		alpha2Set[v] = true
		if len(k) == 3 && !strings.ContainsAny(k, " .") {
			alpha3To2[k] = v
		}
		countryName[k] = v
	}
}

// country returns the ISO 3166-1 alpha-2 code of s, which may be an alpha-2
// or alpha-3 code in any case or an English country name; "" when s names
// no country. An unknown value is dropped rather than guessed.
func country(s string) string {
	u := strings.ToUpper(strings.TrimSpace(s))
	if len(u) == 2 && alpha2Set[u] {
		return u
	}
	if c, ok := alpha3To2[u]; ok && len(u) == 3 {
		return c
	}
	return countryName[u]
}

// alpha3 returns the alpha-2 code of an alpha-3 code (AfterShip's
// origin_country_iso3), or "" if it is none.
func alpha3(s string) string {
	return alpha3To2[strings.ToUpper(strings.TrimSpace(s))]
}
