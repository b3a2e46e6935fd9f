package messages

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// Languages lists the languages every message exists in, in the order of
// schemas.Languages.
var Languages = []string{"en", "zh", "es", "fr", "de"}

// Default is the language of a customer nothing else tells about.
const Default = "en"

// Kinds lists the notification kinds, the values of alerts.Kind, in the
// order of alerts.Kinds. They are repeated here as strings because
// analytics imports schemas and this package must not import analytics.
var Kinds = []string{"shipped", "arrived_destination", "cleared_customs", "out_for_delivery", "delivered", "exception", "eta_changed", "eta_reminder"}

// ExceptionTypes lists the exception types of the exception kind, as
// alerts.ExceptionTypes does; each has a standard explanation (Explain).
var ExceptionTypes = []string{"customs_held", "customs_failed", "delivery_failed", "returned", "lost", "exception"}

// AlertTypes lists the alert types AlertTitle names, the values of
// alerts.Types in their order.
var AlertTypes = []string{"stalled", "slow", "customs_held", "customs_failed", "delivery_failed", "returned", "lost", "predicted_late"}

// Errors of Render; each is wrapped with the offending value.
var (
	ErrUnknownKind          = errors.New("unknown notification kind")
	ErrUnknownLanguage      = errors.New("unsupported language")
	ErrUnknownExceptionType = errors.New("unknown exception type")
	ErrMissingField         = errors.New("missing field")
)

// Data is what a notification tells: the placeholders of the templates.
// Only TrackingNumber and Carrier are required; every template reads well
// without the others.
type Data struct {
	TrackingNumber string
	Carrier        string // display name, or the carrier code when there is none
	Merchant       string // display name of the shop; empty when unknown
	// Origin and Destination are ISO 3166-1 alpha-2 codes; messages show
	// the country's name (CountryName).
	Origin, Destination string
	Place               string // city of the scan, as the carrier wrote it; may be empty
	// Status is the shipment's latest canonical status code; may be
	// empty. The out_for_delivery kind tells "ready for pickup" when it
	// is available_for_pickup.
	Status     string
	OccurredAt time.Time // event time of the milestone
	// ETA is the predicted delivery (p50) and ETAFrom-ETATo its p10-p90
	// range; zero when there is none. A range needs both ends.
	ETA, ETAFrom, ETATo time.Time
	PreviousETA         time.Time // eta_changed: the day the customer was last told
	Attempts            int       // exception delivery_failed: failed delivery attempts so far; 0 when unknown
	TrackingURL         string    // the customer tracking page; may be empty
	// Zone is the time zone the dates are shown in (the recipient's); nil
	// shows each time in its own location.
	Zone *time.Location
}

// view is what a template executes against: the Data and what Render
// derives from it. A struct, not a map, so that a misspelt field is an
// execution error rather than an empty string.
type view struct {
	Data
	ExceptionType string
	Title         string // exception: the short name of ExceptionType
	What, Next    string // exception: the standard explanation (Explain)
	HasETA        bool   // ETA or a range is known
}

// message is the source of one kind in one language.
type message struct{ subject, body string }

// explanation is the standard explanation of an exception type.
type explanation struct{ what, next string }

// language is everything one language needs: its templates, its texts and
// its date style. Each lives in lang_<code>.go.
type language struct {
	code string
	// partials holds {{define}} blocks the kinds share. Every language
	// defines its own, named as it likes.
	partials string
	messages map[string]message // by kind: every kind of Kinds
	// explanations by exception type: every type of ExceptionTypes.
	explanations map[string]explanation
	// alertTitles by alert type, but for customs_held, delivery_failed
	// and returned: those name statuses and take schemas' status text.
	alertTitles map[string]string
	date        func(d day) string        // a date, e.g. "2 December 2026"
	between     func(from, to day) string // two different days, from before to: "between 2 and 6 December 2026"
}

// day is a calendar date.
type day struct {
	year  int
	month time.Month
	day   int
}

func dayOf(t time.Time) day {
	y, m, d := t.Date()
	return day{y, m, d}
}

func (d day) before(e day) bool {
	if d.year != e.year {
		return d.year < e.year
	}
	if d.month != e.month {
		return d.month < e.month
	}
	return d.day < e.day
}

var languages = map[string]*language{"en": en, "zh": zh, "es": es, "fr": fr, "de": de}

// lookup returns the language of code, or English.
func lookup(code string) *language {
	if l, ok := languages[code]; ok {
		return l
	}
	return languages[Default]
}

// templates holds one template set per language: the partials and, for
// every kind, "<kind>.subject" and "<kind>.body".
var templates = func() map[string]*template.Template {
	ts, err := build(languages)
	if err != nil {
		panic(err)
	}
	return ts
}()

// build parses the templates of every language and executes each once
// against sample data with and without every optional field, so that a
// template that names a field Data lacks, or a language that misses a
// kind, stops the program when it starts instead of failing one customer's
// message later.
func build(langs map[string]*language) (map[string]*template.Template, error) {
	out := make(map[string]*template.Template, len(langs))
	for _, code := range Languages {
		l, ok := langs[code]
		if !ok {
			return nil, fmt.Errorf("language %s has no catalog", code)
		}
		root := template.New(code).Option("missingkey=error").Funcs(funcs(l))
		if _, err := root.Parse(l.partials); err != nil {
			return nil, fmt.Errorf("cannot parse the %s partials: %w", code, err)
		}
		for _, k := range Kinds {
			m, ok := l.messages[k]
			if !ok || m.subject == "" || m.body == "" {
				return nil, fmt.Errorf("language %s has no subject or body for kind %s", code, k)
			}
			if _, err := root.New(k + ".subject").Parse(m.subject); err != nil {
				return nil, fmt.Errorf("cannot parse the %s subject of %s: %w", code, k, err)
			}
			if _, err := root.New(k + ".body").Parse(m.body); err != nil {
				return nil, fmt.Errorf("cannot parse the %s body of %s: %w", code, k, err)
			}
		}
		for k := range l.messages {
			if !slices.Contains(Kinds, k) {
				return nil, fmt.Errorf("language %s has a message for unknown kind %s", code, k)
			}
		}
		for _, x := range ExceptionTypes {
			if e := l.explanations[x]; e.what == "" || e.next == "" {
				return nil, fmt.Errorf("language %s has no explanation of %s", code, x)
			}
		}
		for _, a := range AlertTypes {
			if _, fromStatus := alertStatus[a]; !fromStatus && l.alertTitles[a] == "" {
				return nil, fmt.Errorf("language %s has no title for alert type %s", code, a)
			}
		}
		out[code] = root
	}
	if len(langs) != len(Languages) {
		return nil, fmt.Errorf("%d catalogs for %d languages", len(langs), len(Languages))
	}
	for _, code := range Languages {
		for _, k := range Kinds {
			types := []string{""}
			if k == exceptionKind {
				types = ExceptionTypes
			}
			for _, x := range types {
				for _, d := range samples {
					if _, _, err := render(out[code], k, x, code, d); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return out, nil
}

// samples exercise both sides of every {{if}} of the templates.
var samples = func() []Data {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	full := Data{
		TrackingNumber: "LX000000000CN", Carrier: "carrier", Merchant: "merchant",
		Origin: "CN", Destination: "DE", Place: "place", Status: "out_for_delivery",
		OccurredAt: at, ETA: at.AddDate(0, 0, 3), ETAFrom: at.AddDate(0, 0, 2), ETATo: at.AddDate(0, 0, 5),
		PreviousETA: at.AddDate(0, 0, 1), Attempts: 2, TrackingURL: "https://example.com/track/LX000000000CN",
	}
	pickup := full
	pickup.Status, pickup.Attempts, pickup.Origin = "available_for_pickup", 1, ""
	pickup.ETA = time.Time{}
	return []Data{full, pickup, {TrackingNumber: "LX000000000CN", Carrier: "carrier"}}
}()

const exceptionKind = "exception"

// funcs are the template functions of l: dates in its style, country and
// status names in its language.
func funcs(l *language) template.FuncMap {
	return template.FuncMap{
		// date is the date of t in l's style; "" for the zero time, so
		// {{with date .X}} tests and formats at once.
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return l.date(dayOf(t))
		},
		// between is the range phrase of from and to; "" unless both are known.
		"between": func(from, to time.Time) string {
			if from.IsZero() || to.IsZero() {
				return ""
			}
			return formatRange(l, dayOf(from), dayOf(to))
		},
		// known reports whether t is set: {{if .ETA}} is always true,
		// as a struct is never empty to text/template.
		"known":   func(t time.Time) bool { return !t.IsZero() },
		"country": func(code string) string { return CountryName(code, l.code) },
		// status is the display text of a canonical status code, "" for
		// an empty or unknown one.
		"status": func(code string) string {
			s, err := schemas.ParseStatus(code)
			if err != nil {
				return ""
			}
			return s.Text(l.code)
		},
	}
}

// Render returns the subject and the plain-text body of the notification of
// kind about d in lang, one of Languages (Choose picks it). exceptionType is
// one of ExceptionTypes for the exception kind and empty for the others.
// Subject and body are plain text: escape them to put them into HTML.
func Render(kind, exceptionType, lang string, d Data) (subject, body string, err error) {
	t, ok := templates[lang]
	if !ok {
		return "", "", fmt.Errorf("cannot render %s: %w %q (have %s)", kind, ErrUnknownLanguage, lang, strings.Join(Languages, ", "))
	}
	return render(t, kind, exceptionType, lang, d)
}

func render(t *template.Template, kind, exceptionType, lang string, d Data) (subject, body string, err error) {
	if !slices.Contains(Kinds, kind) {
		return "", "", fmt.Errorf("cannot render: %w %q", ErrUnknownKind, kind)
	}
	if kind == exceptionKind && !slices.Contains(ExceptionTypes, exceptionType) {
		return "", "", fmt.Errorf("cannot render %s: %w %q", kind, ErrUnknownExceptionType, exceptionType)
	}
	if kind != exceptionKind && exceptionType != "" {
		return "", "", fmt.Errorf("cannot render %s: exception type %q given for a kind other than %s", kind, exceptionType, exceptionKind)
	}
	if strings.TrimSpace(d.TrackingNumber) == "" {
		return "", "", fmt.Errorf("cannot render %s: %w tracking number", kind, ErrMissingField)
	}
	if strings.TrimSpace(d.Carrier) == "" {
		return "", "", fmt.Errorf("cannot render %s: %w carrier", kind, ErrMissingField)
	}
	v := newView(d)
	if kind == exceptionKind {
		v.ExceptionType = exceptionType
		v.What, v.Next = Explain(exceptionType, lang)
		v.Title = exceptionTitle(exceptionType, lang)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, kind+".subject", v); err != nil {
		return "", "", fmt.Errorf("cannot render the %s subject of %s: %w", lang, kind, err)
	}
	subject = strings.TrimSpace(b.String())
	b.Reset()
	if err := t.ExecuteTemplate(&b, kind+".body", v); err != nil {
		return "", "", fmt.Errorf("cannot render the %s body of %s: %w", lang, kind, err)
	}
	return subject, strings.TrimSpace(b.String()), nil
}

// newView puts d's times into its zone and tidies the ETA, so that the
// templates meet three cases only: an ETA with or without a range of two
// different days, a range alone, or nothing. (between puts the ends of a
// range in order.)
func newView(d Data) view {
	if d.Zone != nil {
		for _, t := range []*time.Time{&d.OccurredAt, &d.ETA, &d.ETAFrom, &d.ETATo, &d.PreviousETA} {
			if !t.IsZero() {
				*t = t.In(d.Zone)
			}
		}
	}
	if d.ETAFrom.IsZero() || d.ETATo.IsZero() {
		d.ETAFrom, d.ETATo = time.Time{}, time.Time{}
	}
	if !d.ETAFrom.IsZero() && dayOf(d.ETAFrom) == dayOf(d.ETATo) {
		if d.ETA.IsZero() {
			d.ETA = d.ETAFrom
		}
		d.ETAFrom, d.ETATo = time.Time{}, time.Time{}
	}
	if d.Attempts < 0 {
		d.Attempts = 0
	}
	return view{Data: d, HasETA: !d.ETA.IsZero() || !d.ETAFrom.IsZero()}
}
