package messages

import (
	"slices"
	"strings"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// alertStatus maps the alert types that name a canonical status to it:
// their titles are the status texts of the tracking page.
var alertStatus = map[string]schemas.Status{
	"customs_held":    schemas.CustomsHeld,
	"delivery_failed": schemas.DeliveryFailed,
	"returned":        schemas.Returned,
}

// Explain returns the standard explanation of an exception type in lang:
// what happened and what comes next, each one or two sentences, as the
// exception notification and the tracking page show them. An unknown
// exception type gets the explanation of the generic "exception", an
// unsupported language English.
func Explain(exceptionType, lang string) (what, next string) {
	l := lookup(lang)
	e, ok := l.explanations[exceptionType]
	if !ok {
		e = l.explanations[exceptionKind]
	}
	return e.what, e.next
}

// AlertTitle returns a short title of an alert type in lang, for
// customer-service e-mails, e.g. "Held by customs". An unsupported language
// gets English, an unknown alert type its own code.
func AlertTitle(alertType, lang string) string {
	l := lookup(lang)
	if s, ok := alertStatus[alertType]; ok {
		return s.Text(l.code)
	}
	if t, ok := l.alertTitles[alertType]; ok {
		return t
	}
	return alertType
}

// exceptionTitle names an exception type in a subject: the generic
// exception is the status "exception", the others are alert types.
func exceptionTitle(exceptionType, lang string) string {
	if exceptionType == exceptionKind {
		return schemas.Exception.Text(lookup(lang).code)
	}
	return AlertTitle(exceptionType, lang)
}

// FormatDate returns the calendar date of t (in t's location) in the style
// of lang: "2 December 2026", "2026年12月2日", "2 de diciembre de 2026",
// "2 décembre 2026" ("1er décembre 2026"), "2. Dezember 2026". The zero
// time gives "", an unsupported language English.
func FormatDate(t time.Time, lang string) string {
	if t.IsZero() {
		return ""
	}
	return lookup(lang).date(dayOf(t))
}

// FormatRange returns the phrase for "between from and to" in lang, the
// dates in their locations, e.g. "between 2 and 6 December 2026" or
// "entre le 30 novembre et le 3 décembre 2026"; the order of the
// arguments does not matter. Two times on the same day give that date
// alone, a zero time "".
func FormatRange(from, to time.Time, lang string) string {
	if from.IsZero() || to.IsZero() {
		return ""
	}
	return formatRange(lookup(lang), dayOf(from), dayOf(to))
}

func formatRange(l *language, from, to day) string {
	if to.before(from) {
		from, to = to, from
	}
	if from == to {
		return l.date(from)
	}
	return l.between(from, to)
}

// CountryName returns the name of the country with ISO 3166-1 alpha-2 code
// in lang, or the code in upper case for a country the table lacks.
func CountryName(code, lang string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	names, ok := countries[code]
	if !ok {
		return code
	}
	return names[slices.Index(Languages, lookup(lang).code)]
}
