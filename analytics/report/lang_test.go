package report

import (
	"reflect"
	"slices"
	"testing"

	"github.com/shiplens/shiplens/schemas"
)

// The expected strings are written by hand after CLDR: grouping with "," in
// en and zh, "." in de and es (Spanish from five digits on), a narrow
// no-break space in fr; a no-break space before % in de and es and a
// narrow one in fr.
func TestNumberFormats(t *testing.T) {
	f := func(lang string, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %q, want %q", lang, got, want)
		}
	}
	type want struct{ n999, n1234, n35806, n1234567, hours, tie, rate, zero string }
	for lang, w := range map[string]want{
		"en": {"999", "1,234", "35,806", "1,234,567", "101.3", "0.3", "91.5%", "0.0%"},
		"zh": {"999", "1,234", "35,806", "1,234,567", "101.3", "0.3", "91.5%", "0.0%"},
		"es": {"999", "1234", "35.806", "1.234.567", "101,3", "0,3", "91,5\u00a0%", "0,0\u00a0%"},
		"fr": {"999", "1\u202f234", "35\u202f806", "1\u202f234\u202f567", "101,3", "0,3", "91,5\u202f%", "0,0\u202f%"},
		"de": {"999", "1.234", "35.806", "1.234.567", "101,3", "0,3", "91,5\u00a0%", "0,0\u00a0%"},
	} {
		f(lang, count(lang, 999), w.n999)
		f(lang, count(lang, 1234), w.n1234)
		f(lang, count(lang, 35806), w.n35806)
		f(lang, count(lang, 1234567), w.n1234567)
		f(lang, number(lang, 101.25, 1), w.hours)
		f(lang, number(lang, 0.25, 1), w.tie)
		f(lang, percent(lang, 0.9145228215767635), w.rate)
		f(lang, percent(lang, 0), w.zero)
	}
	f("en", number("en", -0.04, 1), "0.0")
	f("de", number("de", -1234.5, 1), "-1.234,5")
	f("en", percentTick("en", 0.75), "75%")
}

// TestTranslationsComplete checks that every language of schemas.Languages
// has every text, and no other language has any.
func TestTranslationsComplete(t *testing.T) {
	for _, lang := range schemas.Languages {
		tx := texts[lang]
		if tx == nil {
			t.Errorf("no texts in %s", lang)
			continue
		}
		if _, ok := numberStyles[lang]; !ok {
			t.Errorf("no number style for %s", lang)
		}
		v := reflect.ValueOf(*tx)
		for i := range v.NumField() {
			if v.Field(i).String() == "" {
				t.Errorf("%s: %s is empty", lang, v.Type().Field(i).Name)
			}
		}
		if lang != "en" {
			en := reflect.ValueOf(*texts["en"])
			same := 0
			for i := range v.NumField() {
				if v.Field(i).String() == en.Field(i).String() {
					same++
				}
			}
			// A few words are the same in English (Service, Filter), most are not.
			if same > 3 {
				t.Errorf("%s: %d texts are the English ones", lang, same)
			}
		}
	}
	for lang := range texts {
		if !slices.Contains(schemas.Languages, lang) {
			t.Errorf("texts in %s, which is not in schemas.Languages", lang)
		}
	}
}
