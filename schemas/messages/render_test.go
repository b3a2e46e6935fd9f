package messages_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/schemas/messages"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The test's own lists: the package's are what is under test.
var (
	kinds          = []string{"shipped", "arrived_destination", "cleared_customs", "out_for_delivery", "delivered", "exception", "eta_changed", "eta_reminder"}
	exceptionTypes = []string{"customs_held", "customs_failed", "delivery_failed", "returned", "lost", "exception"}
	alertTypes     = []string{"stalled", "slow", "customs_held", "customs_failed", "delivery_failed", "returned", "lost", "predicted_late"}
	languages      = []string{"en", "zh", "es", "fr", "de"}
)

var occurred = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// full carries every placeholder; the dates below are its dates as each
// language writes them, by hand.
var full = messages.Data{
	TrackingNumber: "LX123456789CN",
	Carrier:        "DHL",
	Merchant:       "Acme Shop",
	Origin:         "CN",
	Destination:    "DE",
	Place:          "Frankfurt",
	Status:         "in_transit",
	OccurredAt:     occurred,
	ETA:            time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC),
	ETAFrom:        time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC),
	ETATo:          time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC),
	PreviousETA:    time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC),
	Attempts:       7,
	TrackingURL:    "https://track.example/t/abc",
}

var minimal = messages.Data{TrackingNumber: "LX123456789CN", Carrier: "DHL"}

type expect struct {
	occurred, eta, window, previous string
	origin, destination             string
	attempts, firstAttempt          string   // delivery_failed with 7 attempts, with 1
	etaLabels                       []string // none may appear without an ETA
	previousLabel                   string
}

var want = map[string]expect{
	"en": {"1 December 2026", "4 December 2026", "between 3 and 6 December 2026", "30 November 2026",
		"China", "Germany", "7 delivery attempts", "first delivery attempt",
		[]string{"Estimated delivery:", "New estimated delivery:"}, "Previous estimate:"},
	"zh": {"2026年12月1日", "2026年12月4日", "2026年12月3日至6日之间", "2026年11月30日",
		"中国", "德国", "已尝试投递7次", "已尝试投递1次",
		[]string{"预计送达：", "新的预计送达时间："}, "原预计送达时间："},
	"es": {"1 de diciembre de 2026", "4 de diciembre de 2026", "entre el 3 y el 6 de diciembre de 2026", "30 de noviembre de 2026",
		"China", "Alemania", "7 intentos de entrega", "primer intento de entrega",
		[]string{"Entrega estimada:", "Nueva fecha estimada de entrega:"}, "Estimación anterior:"},
	"fr": {"1er décembre 2026", "4 décembre 2026", "entre le 3 et le 6 décembre 2026", "30 novembre 2026",
		"Chine", "Allemagne", "7 tentatives de livraison", "première tentative de livraison",
		[]string{"Livraison estimée :", "Nouvelle date de livraison estimée :"}, "Estimation précédente :"},
	"de": {"1. Dezember 2026", "4. Dezember 2026", "zwischen dem 3. und 6. Dezember 2026", "30. November 2026",
		"China", "Deutschland", "7 Zustellversuche", "erste Zustellversuch",
		[]string{"Voraussichtliche Zustellung:", "Neuer voraussichtlicher Zustelltermin:"}, "Bisheriger Termin:"},
}

// shows says which optional placeholders each kind's body is meant to
// show; every body shows the tracking number, the carrier, the status,
// the route and the tracking page.
type shows struct{ when, eta, previous, merchant bool }

var kindShows = map[string]shows{
	"shipped":             {when: true, eta: true, merchant: true},
	"arrived_destination": {when: true, eta: true, merchant: true},
	"cleared_customs":     {when: true, eta: true, merchant: true},
	"out_for_delivery":    {when: true, merchant: true},
	"delivered":           {when: true, merchant: true},
	"exception":           {when: true},
	"eta_changed":         {eta: true, previous: true, merchant: true},
	"eta_reminder":        {eta: true, merchant: true},
}

// each calls f for every kind and, for the exception kind, every type.
func each(f func(kind, typ string)) {
	for _, k := range kinds {
		if k == "exception" {
			for _, x := range exceptionTypes {
				f(k, x)
			}
			continue
		}
		f(k, "")
	}
}

func name(kind, typ string) string {
	if typ == "" {
		return kind
	}
	return kind + "/" + typ
}

func render(t *testing.T, kind, typ, lang string, d messages.Data) (string, string) {
	t.Helper()
	s, b, err := messages.Render(kind, typ, lang, d)
	if err != nil {
		t.Fatalf("%s in %s: %v", name(kind, typ), lang, err)
	}
	checkText(t, lang, s, true)
	checkText(t, lang, b, false)
	return s, b
}

// checkText fails on the marks of a template gone wrong: an unset value, a
// left-over action, doubled or stray spaces and punctuation, empty
// brackets, and, in Chinese, ASCII punctuation beside Chinese text.
func checkText(t *testing.T, lang, s string, subject bool) {
	t.Helper()
	if s == "" || strings.TrimSpace(s) != s {
		t.Errorf("%s: empty or not trimmed: %q", lang, s)
	}
	if subject && strings.Contains(s, "\n") {
		t.Errorf("%s: subject spans lines: %q", lang, s)
	}
	if !utf8.ValidString(s) {
		t.Errorf("%s: invalid UTF-8: %q", lang, s)
	}
	bad := []string{"<no value>", "{{", "}}", "%!", "  ", " \n", "\n ", "\n\n\n", " .", " ,", " )", "( ", "()", "（）", "..", "。。", "，。", "：。", " ()"}
	if lang != "fr" { // French puts a space before : and ;
		bad = append(bad, " :", " ;")
	}
	for _, b := range bad {
		if strings.Contains(s, b) {
			t.Errorf("%s: %q in %q", lang, b, s)
		}
	}
	for i, line := range strings.Split(s, "\n") {
		if strings.HasSuffix(line, ":") || strings.HasSuffix(line, "：") {
			if i > 0 { // the greeting "Hola:" is the one line that may end so
				t.Errorf("%s: a label without a value: %q", lang, line)
			}
		}
	}
	if lang == "zh" {
		rs := []rune(s)
		for i, r := range rs {
			if !strings.ContainsRune(",.:;!?()", r) {
				continue
			}
			if (i > 0 && unicode.Is(unicode.Han, rs[i-1])) || (i+1 < len(rs) && unicode.Is(unicode.Han, rs[i+1])) {
				t.Errorf("zh: ASCII %q beside Chinese in %q", r, s)
			}
		}
	}
}

func TestRenderFull(t *testing.T) {
	for _, lang := range languages {
		w := want[lang]
		status, err := schemas.ParseStatus(full.Status)
		if err != nil {
			t.Fatal(err)
		}
		each(func(kind, typ string) {
			s, b := render(t, kind, typ, lang, full)
			sh := kindShows[kind]
			if !strings.Contains(s, full.TrackingNumber) {
				t.Errorf("%s %s: subject %q lacks the tracking number", lang, name(kind, typ), s)
			}
			must := map[string]string{
				"tracking number": full.TrackingNumber,
				"carrier":         full.Carrier,
				"origin":          w.origin,
				"destination":     w.destination,
				"status":          status.Text(lang),
				"tracking page":   full.TrackingURL,
			}
			if sh.when {
				must["date of the scan"] = w.occurred
				must["place"] = full.Place
			}
			if sh.merchant {
				must["merchant"] = full.Merchant
			}
			if sh.eta {
				must["ETA"] = w.eta
				must["ETA range"] = w.window
			}
			if sh.previous {
				must["previous ETA"] = w.previous
			}
			if typ == "delivery_failed" {
				must["attempts"] = w.attempts
			}
			if kind == "exception" {
				what, next := messages.Explain(typ, lang)
				must["what happened"], must["what comes next"] = what, next
			}
			for what, text := range must {
				if !strings.Contains(b, text) {
					t.Errorf("%s %s: body lacks the %s %q:\n%s", lang, name(kind, typ), what, text, b)
				}
			}
			if !sh.eta {
				for _, l := range w.etaLabels {
					if strings.Contains(b, l) {
						t.Errorf("%s %s: body shows an ETA it is not meant to (%q):\n%s", lang, name(kind, typ), l, b)
					}
				}
			}
			if typ != "delivery_failed" && strings.Contains(b, w.attempts) {
				t.Errorf("%s %s: attempts shown:\n%s", lang, name(kind, typ), b)
			}
		})
	}
}

func TestRenderMinimal(t *testing.T) {
	for _, lang := range languages {
		w := want[lang]
		each(func(kind, typ string) {
			s, b := render(t, kind, typ, lang, minimal)
			if !strings.Contains(s, minimal.TrackingNumber) || !strings.Contains(b, minimal.TrackingNumber) || !strings.Contains(b, minimal.Carrier) {
				t.Errorf("%s %s: tracking number or carrier missing:\n%s\n%s", lang, name(kind, typ), s, b)
			}
			for _, l := range append(w.etaLabels, w.previousLabel) {
				if strings.Contains(b, l) {
					t.Errorf("%s %s: %q without an ETA:\n%s", lang, name(kind, typ), l, b)
				}
			}
			if strings.Contains(s+b, "2026") || strings.Contains(s+b, "0001") {
				t.Errorf("%s %s: a date without one:\n%s\n%s", lang, name(kind, typ), s, b)
			}
		})
	}
}

// TestRenderOnlyPrevious: an eta_changed that knows only the old ETA
// still reads well and shows it.
func TestRenderOnlyPrevious(t *testing.T) {
	d := minimal
	d.PreviousETA = full.PreviousETA
	for _, lang := range languages {
		_, b := render(t, "eta_changed", "", lang, d)
		if !strings.Contains(b, want[lang].previousLabel+" "+want[lang].previous) && !strings.Contains(b, want[lang].previousLabel+want[lang].previous) {
			t.Errorf("%s: previous ETA missing:\n%s", lang, b)
		}
		for _, l := range want[lang].etaLabels {
			if strings.Contains(b, l) {
				t.Errorf("%s: %q without an ETA:\n%s", lang, l, b)
			}
		}
	}
}

func TestRenderOutForDeliveryOrPickup(t *testing.T) {
	// Hand-written: the kind covers out_for_delivery and available_for_pickup.
	subjects := map[string][2]string{
		"en": {"Your parcel LX123456789CN is out for delivery", "Your parcel LX123456789CN is ready for pickup"},
		"zh": {"您的包裹 LX123456789CN 正在派送中", "您的包裹 LX123456789CN 已可取件"},
		"es": {"Su paquete LX123456789CN está en reparto", "Su paquete LX123456789CN está disponible para recoger"},
		"fr": {"Votre colis LX123456789CN est en cours de livraison", "Votre colis LX123456789CN est disponible au retrait"},
		"de": {"Ihr Paket LX123456789CN ist in Zustellung", "Ihr Paket LX123456789CN liegt zur Abholung bereit"},
	}
	for _, lang := range languages {
		for i, status := range []string{"out_for_delivery", "available_for_pickup"} {
			d := full
			d.Status = status
			s, b := render(t, "out_for_delivery", "", lang, d)
			if s != subjects[lang][i] {
				t.Errorf("%s %s: subject %q, want %q", lang, status, s, subjects[lang][i])
			}
			st, _ := schemas.ParseStatus(status)
			if !strings.Contains(b, st.Text(lang)) || !strings.Contains(b, full.Place) || !strings.Contains(b, full.Carrier) {
				t.Errorf("%s %s: status text, place or carrier missing:\n%s", lang, status, b)
			}
		}
	}
}

func TestRenderAttempts(t *testing.T) {
	for _, lang := range languages {
		d := full
		d.Attempts = 1
		_, b := render(t, "exception", "delivery_failed", lang, d)
		if !strings.Contains(b, want[lang].firstAttempt) {
			t.Errorf("%s: %q missing:\n%s", lang, want[lang].firstAttempt, b)
		}
		d.Attempts = 0
		_, b = render(t, "exception", "delivery_failed", lang, d)
		if strings.Contains(b, want[lang].firstAttempt) || strings.Contains(b, want[lang].attempts) {
			t.Errorf("%s: attempts shown without a count:\n%s", lang, b)
		}
	}
}

func TestRenderExceptionTitle(t *testing.T) {
	statusOf := map[string]schemas.Status{
		"customs_held": schemas.CustomsHeld, "delivery_failed": schemas.DeliveryFailed,
		"returned": schemas.Returned, "exception": schemas.Exception,
	}
	for _, lang := range languages {
		for _, x := range exceptionTypes {
			s, _ := render(t, "exception", x, lang, full)
			title := messages.AlertTitle(x, lang)
			if st, ok := statusOf[x]; ok {
				title = st.Text(lang) // the tracking page's words
			}
			if !strings.Contains(s, title) {
				t.Errorf("%s %s: subject %q lacks %q", lang, x, s, title)
			}
		}
	}
}

func TestRenderETA(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, time.UTC) }
	f := func(eta, from, to time.Time, want string) {
		t.Helper()
		d := minimal
		d.ETA, d.ETAFrom, d.ETATo = eta, from, to
		_, b, err := messages.Render("eta_reminder", "", "en", d)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, line := range strings.Split(b, "\n") {
			if strings.HasPrefix(line, "Estimated delivery:") {
				got = line
			}
		}
		if got != want {
			t.Errorf("ETA %v [%v, %v]: %q, want %q", eta, from, to, got, want)
		}
	}
	var zero time.Time
	f(day(4, 12), day(3, 0), day(6, 0), "Estimated delivery: 4 December 2026 (between 3 and 6 December 2026).")
	f(day(4, 12), day(6, 0), day(3, 0), "Estimated delivery: 4 December 2026 (between 3 and 6 December 2026).")
	f(day(4, 12), zero, zero, "Estimated delivery: 4 December 2026.")
	f(day(4, 12), day(3, 0), zero, "Estimated delivery: 4 December 2026.")
	f(day(4, 12), day(4, 1), day(4, 23), "Estimated delivery: 4 December 2026.")
	f(zero, day(3, 0), day(6, 0), "Estimated delivery: between 3 and 6 December 2026.")
	f(zero, day(5, 1), day(5, 23), "Estimated delivery: 5 December 2026.")
	f(zero, day(5, 1), zero, "")
	f(zero, zero, zero, "")
}

func TestRenderZone(t *testing.T) {
	d := minimal
	d.OccurredAt = time.Date(2026, 12, 1, 23, 30, 0, 0, time.UTC)
	_, b := render(t, "delivered", "", "de", d)
	if !strings.Contains(b, "am 1. Dezember 2026") {
		t.Errorf("without a zone, the time's own location:\n%s", b)
	}
	d.Zone = time.FixedZone("UTC+8", 8*3600)
	_, b = render(t, "delivered", "", "de", d)
	if !strings.Contains(b, "am 2. Dezember 2026") {
		t.Errorf("in UTC+8 it is 2 December:\n%s", b)
	}
}

func TestRenderErrors(t *testing.T) {
	f := func(kind, typ, lang string, d messages.Data, want error) {
		t.Helper()
		_, _, err := messages.Render(kind, typ, lang, d)
		if err == nil {
			t.Errorf("Render(%q, %q, %q) succeeded", kind, typ, lang)
			return
		}
		if want != nil && !errors.Is(err, want) {
			t.Errorf("Render(%q, %q, %q): %v, want %v", kind, typ, lang, err, want)
		}
	}
	f("shipped", "", "pt", full, messages.ErrUnknownLanguage)
	f("shipped", "", "EN", full, messages.ErrUnknownLanguage)
	f("shipped", "", "en-US", full, messages.ErrUnknownLanguage)
	f("shipped", "", "", full, messages.ErrUnknownLanguage)
	f("picked_up", "", "en", full, messages.ErrUnknownKind)
	f("", "", "en", full, messages.ErrUnknownKind)
	f("exception", "", "en", full, messages.ErrUnknownExceptionType)
	f("exception", "stalled", "en", full, messages.ErrUnknownExceptionType)
	f("delivered", "returned", "en", full, nil)
	f("shipped", "", "en", messages.Data{Carrier: "DHL"}, messages.ErrMissingField)
	f("shipped", "", "en", messages.Data{TrackingNumber: "LX1", Carrier: " "}, messages.ErrMissingField)
}

// TestRenderedDiffersFromEnglish: no rendered line of another language is
// a line of the English message, so a text copied from English and not
// translated fails.
func TestRenderedDiffersFromEnglish(t *testing.T) {
	allow := map[string]bool{} // lines that may equal English; none so far
	for _, d := range []messages.Data{full, minimal} {
		each(func(kind, typ string) {
			es, eb := render(t, kind, typ, "en", d)
			english := map[string]bool{es: true}
			for _, l := range strings.Split(eb, "\n") {
				english[l] = true
			}
			for _, lang := range languages[1:] {
				s, b := render(t, kind, typ, lang, d)
				for _, l := range append([]string{s}, strings.Split(b, "\n")...) {
					if l != "" && english[l] && !allow[l] {
						t.Errorf("%s %s: %q is the English text", lang, name(kind, typ), l)
					}
				}
			}
		})
	}
}

func TestChineseText(t *testing.T) {
	hasHan := func(s string) bool {
		for _, r := range s {
			if unicode.Is(unicode.Han, r) {
				return true
			}
		}
		return false
	}
	for _, d := range []messages.Data{full, minimal} {
		each(func(kind, typ string) {
			for _, lang := range languages {
				s, b := render(t, kind, typ, lang, d)
				for _, l := range append([]string{s}, strings.Split(b, "\n")...) {
					if l == "" {
						continue
					}
					if lang == "zh" && !hasHan(l) {
						t.Errorf("zh %s: a line without Chinese: %q", name(kind, typ), l)
					}
					if lang != "zh" && hasHan(l) {
						t.Errorf("%s %s: Chinese in %q", lang, name(kind, typ), l)
					}
				}
			}
		})
	}
	for _, x := range exceptionTypes {
		what, next := messages.Explain(x, "zh")
		if !hasHan(what) || !hasHan(next) || !utf8.ValidString(what+next) {
			t.Errorf("zh explanation of %s: %q %q", x, what, next)
		}
		checkText(t, "zh", what+next, true)
	}
	for _, a := range alertTypes {
		if tl := messages.AlertTitle(a, "zh"); !hasHan(tl) {
			t.Errorf("zh title of %s: %q", a, tl)
		}
	}
}

func TestExplain(t *testing.T) {
	for _, lang := range languages {
		for _, x := range exceptionTypes {
			what, next := messages.Explain(x, lang)
			for _, s := range []string{what, next} {
				if s == "" || !(strings.HasSuffix(s, ".") || strings.HasSuffix(s, "。")) {
					t.Errorf("%s %s: %q is no sentence", lang, x, s)
				}
				checkText(t, lang, s, true)
			}
			if lang != "en" {
				ew, en := messages.Explain(x, "en")
				if what == ew || next == en {
					t.Errorf("%s %s: explanation is the English one", lang, x)
				}
			}
		}
		gw, gn := messages.Explain("exception", lang)
		if w, n := messages.Explain("melted", lang); w != gw || n != gn {
			t.Errorf("%s: an unknown type does not get the generic explanation", lang)
		}
	}
	ew, en := messages.Explain("lost", "en")
	if w, n := messages.Explain("lost", "pt"); w != ew || n != en {
		t.Errorf("an unsupported language does not get English")
	}
}

func TestAlertTitle(t *testing.T) {
	statusOf := map[string]schemas.Status{"customs_held": schemas.CustomsHeld, "delivery_failed": schemas.DeliveryFailed, "returned": schemas.Returned}
	for _, lang := range languages {
		seen := map[string]string{}
		for _, a := range alertTypes {
			tl := messages.AlertTitle(a, lang)
			if tl == "" || tl == a {
				t.Errorf("%s %s: no title (%q)", lang, a, tl)
			}
			if other, dup := seen[tl]; dup {
				t.Errorf("%s: %s and %s share the title %q", lang, a, other, tl)
			}
			seen[tl] = a
			if st, ok := statusOf[a]; ok && tl != st.Text(lang) {
				t.Errorf("%s %s: %q, not the status text %q", lang, a, tl, st.Text(lang))
			}
			if lang != "en" && tl == messages.AlertTitle(a, "en") {
				t.Errorf("%s %s: title %q is the English one", lang, a, tl)
			}
		}
	}
	if got := messages.AlertTitle("melted", "de"); got != "melted" {
		t.Errorf("unknown type: %q", got)
	}
	if got, want := messages.AlertTitle("lost", "pt"), messages.AlertTitle("lost", "en"); got != want {
		t.Errorf("unsupported language: %q, want English %q", got, want)
	}
}

func TestLists(t *testing.T) {
	f := func(what string, got, want []string) {
		t.Helper()
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	f("Kinds", messages.Kinds, kinds)
	f("ExceptionTypes", messages.ExceptionTypes, exceptionTypes)
	f("AlertTypes", messages.AlertTypes, alertTypes)
	f("Languages", messages.Languages, languages)
	// Status and category texts exist in each of our languages; one
	// schemas lacks would silently be English.
	for _, l := range messages.Languages {
		found := false
		for _, s := range schemas.Languages {
			found = found || s == l
		}
		if !found {
			t.Errorf("schemas has no status texts in %s", l)
		}
	}
}

// TestGolden compares every message with testdata/<lang>.golden, which a
// person has read; -update rewrites them.
func TestGolden(t *testing.T) {
	pickup := full
	pickup.Status = "available_for_pickup"
	one := full
	one.Attempts = 1
	for _, lang := range languages {
		var sb strings.Builder
		add := func(kind, typ, variant string, d messages.Data) {
			s, b := render(t, kind, typ, lang, d)
			fmt.Fprintf(&sb, "=== %s %s\nSubject: %s\n\n%s\n\n", name(kind, typ), variant, s, b)
		}
		each(func(kind, typ string) {
			add(kind, typ, "full", full)
			add(kind, typ, "minimal", minimal)
			switch {
			case kind == "out_for_delivery":
				add(kind, typ, "pickup", pickup)
			case typ == "delivery_failed":
				add(kind, typ, "one attempt", one)
			}
		})
		path := filepath.Join("testdata", lang+".golden")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		golden, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to write it)", err)
		}
		if got := sb.String(); got != string(golden) {
			gl, wl := strings.Split(got, "\n"), strings.Split(string(golden), "\n")
			for i := 0; i < len(gl) || i < len(wl); i++ {
				var g, w string
				if i < len(gl) {
					g = gl[i]
				}
				if i < len(wl) {
					w = wl[i]
				}
				if g != w {
					t.Fatalf("%s differs at line %d:\n got %q\nwant %q\n(run go test -update and read the diff)", path, i+1, g, w)
				}
			}
		}
	}
}
