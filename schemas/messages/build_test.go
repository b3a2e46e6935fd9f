package messages

import (
	gobuild "go/build"
	"maps"
	"regexp"
	"strings"
	"testing"
)

// withEnglish returns the catalogs with English changed by f.
func withEnglish(f func(l *language)) map[string]*language {
	c := *en
	c.messages = maps.Clone(en.messages)
	c.explanations = maps.Clone(en.explanations)
	c.alertTitles = maps.Clone(en.alertTitles)
	f(&c)
	langs := maps.Clone(languages)
	langs["en"] = &c
	return langs
}

// TestBuildRefuses: the checks that run when the package loads catch a
// misspelt field, in a branch too, and a missing text.
func TestBuildRefuses(t *testing.T) {
	f := func(what, wantErr string, change func(l *language)) {
		t.Helper()
		_, err := build(withEnglish(change))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: error %v, want one naming %q", what, err, wantErr)
		}
	}
	f("misspelt field", "TrackingNumbr", func(l *language) {
		l.messages["shipped"] = message{`Your parcel {{.TrackingNumbr}}`, `body`}
	})
	f("misspelt field in an {{if}}", "Atempts", func(l *language) {
		l.messages["exception"] = message{`s`, `{{if .Attempts}}{{.Atempts}}{{end}}`}
	})
	f("misspelt field in the else of a {{with}}", "Placce", func(l *language) {
		l.messages["delivered"] = message{`s`, `{{with .Place}}{{.}}{{else}}{{.Placce}}{{end}}`}
	})
	f("unknown function", "datum", func(l *language) {
		l.messages["delivered"] = message{`s`, `{{datum .OccurredAt}}`}
	})
	f("missing partial", "footr", func(l *language) {
		l.messages["delivered"] = message{`s`, `{{template "footr" .}}`}
	})
	f("missing kind", "eta_reminder", func(l *language) { delete(l.messages, "eta_reminder") })
	f("empty subject", "delivered", func(l *language) { l.messages["delivered"] = message{"", "body"} })
	f("unknown kind", "picked_up", func(l *language) { l.messages["picked_up"] = message{"s", "b"} })
	f("missing explanation", "lost", func(l *language) { delete(l.explanations, "lost") })
	f("missing alert title", "predicted_late", func(l *language) { delete(l.alertTitles, "predicted_late") })
	langs := maps.Clone(languages)
	delete(langs, "fr")
	if _, err := build(langs); err == nil {
		t.Error("a language without a catalog was accepted")
	}
	if _, err := build(languages); err != nil {
		t.Errorf("the real catalogs: %v", err)
	}
}

var action = regexp.MustCompile(`\{\{.*?\}\}`)

// words returns the lines of a template source that hold text besides
// actions, without the actions.
func words(src string) []string {
	var out []string
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(action.ReplaceAllString(line, " "))
		if strings.IndexFunc(line, func(r rune) bool { return r > 127 || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') }) >= 0 {
			out = append(out, line)
		}
	}
	return out
}

// TestSourcesDifferFromEnglish: no line of another language's templates,
// explanations or titles is the English one: a forgotten translation,
// copied from lang_en.go, fails. allow lists the lines that are the same
// word in both languages.
func TestSourcesDifferFromEnglish(t *testing.T) {
	allow := map[string]map[string]bool{
		"de": {"Status:": true}, // "Status" is German too
	}
	english := map[string]bool{}
	add := func(src string) {
		for _, w := range words(src) {
			english[w] = true
		}
	}
	add(en.partials)
	for _, m := range en.messages {
		add(m.subject)
		add(m.body)
	}
	for _, code := range Languages[1:] {
		l := languages[code]
		check := func(where, src string) {
			for _, w := range words(src) {
				if english[w] && !allow[code][w] {
					t.Errorf("%s %s: %q is English", code, where, w)
				}
			}
		}
		check("partials", l.partials)
		for _, k := range Kinds {
			check(k+" subject", l.messages[k].subject)
			check(k+" body", l.messages[k].body)
			if l.messages[k] == en.messages[k] {
				t.Errorf("%s %s: the English message", code, k)
			}
		}
		for _, x := range ExceptionTypes {
			if e := l.explanations[x]; e.what == en.explanations[x].what || e.next == en.explanations[x].next {
				t.Errorf("%s %s: the English explanation", code, x)
			}
		}
		for a, title := range l.alertTitles {
			if title == en.alertTitles[a] {
				t.Errorf("%s %s: the English title %q", code, a, title)
			}
		}
	}
}

func TestCountries(t *testing.T) {
	for code, names := range countries {
		if len(code) != 2 || strings.ToUpper(code) != code {
			t.Errorf("%q is no ISO 3166-1 alpha-2 code", code)
		}
		for i, n := range names {
			if n == "" {
				t.Errorf("%s has no name in %s", code, Languages[i])
			}
		}
	}
	f := func(code, lang, want string) {
		t.Helper()
		if got := CountryName(code, lang); got != want {
			t.Errorf("CountryName(%q, %q) = %q, want %q", code, lang, got, want)
		}
	}
	f("DE", "en", "Germany")
	f("de", "zh", "德国")
	f(" us ", "es", "Estados Unidos")
	f("US", "fr", "États-Unis")
	f("AT", "de", "Österreich")
	f("GB", "pt", "United Kingdom")
	f("kz", "de", "KZ")
	f("", "en", "")
}

// TestImports: analytics imports schemas, so this package may import
// nothing of shiplens but schemas, nor may its tests.
func TestImports(t *testing.T) {
	p, err := gobuild.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, list := range [][]string{p.Imports, p.TestImports, p.XTestImports} {
		for _, imp := range list {
			if strings.HasPrefix(imp, "github.com/shiplens/shiplens/") && imp != "github.com/shiplens/shiplens/schemas" && imp != "github.com/shiplens/shiplens/schemas/messages" {
				t.Errorf("imports %s", imp)
			}
		}
	}
}
