package messages

import "strings"

// The sources Choose reports: where the language came from.
const (
	SourceShipment = "shipment" // the shipment's own locale
	SourceMerchant = "merchant" // the merchant's setting
	SourceCountry  = "country"  // the destination country's language
	SourceDefault  = "default"  // nothing told: Default
)

// Choose picks the language of a customer's messages and says where it
// came from. The first that names one of Languages wins:
//
//  1. locale, the shipment's BCP 47 tag ("zh-CN", "de", "fr_CA"): its
//     primary subtag, in any case. An unsupported one ("pt-BR") falls
//     through, as does an empty one.
//  2. merchantLocale, the merchant's setting, read the same way.
//  3. destinationCountry, an ISO 3166-1 alpha-2 code in any case: the
//     language most of the country reads among ours (countryLanguage).
//  4. Default, English, with source "default". A country that is not in
//     the table gets English this way too: "default" says English was no
//     choice the country made.
func Choose(locale, merchantLocale, destinationCountry string) (lang, source string) {
	if l, ok := primary(locale); ok {
		return l, SourceShipment
	}
	if l, ok := primary(merchantLocale); ok {
		return l, SourceMerchant
	}
	if l, ok := countryLanguage[strings.ToUpper(strings.TrimSpace(destinationCountry))]; ok {
		return l, SourceCountry
	}
	return Default, SourceDefault
}

// primary returns the primary language subtag of a locale if it is one of
// Languages. POSIX forms such as "de_DE.UTF-8" are read too.
func primary(locale string) (string, bool) {
	s := strings.TrimSpace(locale)
	if i := strings.IndexAny(s, "-_.@"); i >= 0 {
		s = s[:i]
	}
	s = strings.ToLower(s)
	for _, l := range Languages {
		if l == s {
			return l, true
		}
	}
	return "", false
}

// countryLanguage is the language of a destination country. The choices
// that are not obvious:
//
//   - Chinese (simplified, the only Chinese we write) for CN, HK, MO and TW;
//     Singapore gets English, its language of commerce and the one all its
//     communities read.
//   - French for Belgium and Luxembourg: Belgium's Dutch speakers have no
//     language of ours, and French is an official language of both. A
//     merchant that knows better sets its locale, which wins.
//   - German for Switzerland (the majority) and Liechtenstein.
//   - French for the French overseas departments and territories, which
//     have their own codes (RE, GP, MQ, ...), and for the countries of
//     Africa and the Caribbean whose official language is French.
//   - English for the countries where it is the main or common language
//     (US, GB, IE, CA, AU, NZ, IN, SG, ZA, ...); Canada and Cameroon, which
//     are bilingual, get their majority's language.
var countryLanguage = func() map[string]string {
	m := map[string]string{}
	add := func(lang string, codes ...string) {
		for _, c := range codes {
			if _, dup := m[c]; dup {
				panic("country " + c + " listed twice")
			}
			m[c] = lang
		}
	}
	add("zh", "CN", "HK", "MO", "TW")
	add("de", "DE", "AT", "CH", "LI")
	add("fr", "FR", "BE", "LU", "MC",
		"RE", "GP", "MQ", "GF", "YT", "PM", "BL", "MF", "NC", "PF", "WF",
		"SN", "CI", "ML", "BF", "NE", "TG", "BJ", "GN", "CD", "CG", "GA", "CM", "MG", "HT")
	add("es", "ES", "MX", "AR", "CO", "CL", "PE", "VE", "EC", "GT", "CU", "BO", "DO",
		"HN", "PY", "SV", "NI", "CR", "PA", "UY", "PR", "GQ")
	add("en", "US", "GB", "IE", "CA", "AU", "NZ", "IN", "SG", "ZA", "NG", "KE", "GH",
		"JM", "TT", "MT", "PH", "GU", "VI", "AS", "MP")
	return m
}()
