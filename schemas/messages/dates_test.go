package messages_test

import (
	"testing"
	"time"

	"github.com/shiplens/shiplens/schemas/messages"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

func TestFormatDate(t *testing.T) {
	cases := []struct {
		t    time.Time
		want [5]string // en, zh, es, fr, de, written by hand
	}{
		{date(2026, 12, 2), [5]string{"2 December 2026", "2026年12月2日", "2 de diciembre de 2026", "2 décembre 2026", "2. Dezember 2026"}},
		{date(2027, 1, 1), [5]string{"1 January 2027", "2027年1月1日", "1 de enero de 2027", "1er janvier 2027", "1. Januar 2027"}},
		{date(2026, 3, 31), [5]string{"31 March 2026", "2026年3月31日", "31 de marzo de 2026", "31 mars 2026", "31. März 2026"}},
		{date(2026, 8, 15), [5]string{"15 August 2026", "2026年8月15日", "15 de agosto de 2026", "15 août 2026", "15. August 2026"}},
		{date(2026, 2, 11), [5]string{"11 February 2026", "2026年2月11日", "11 de febrero de 2026", "11 février 2026", "11. Februar 2026"}},
		{date(2026, 9, 21), [5]string{"21 September 2026", "2026年9月21日", "21 de septiembre de 2026", "21 septembre 2026", "21. September 2026"}},
	}
	for _, c := range cases {
		for i, lang := range languages {
			if got := messages.FormatDate(c.t, lang); got != c.want[i] {
				t.Errorf("FormatDate(%s, %s) = %q, want %q", c.t.Format(time.DateOnly), lang, got, c.want[i])
			}
		}
	}
	for _, lang := range languages {
		if got := messages.FormatDate(time.Time{}, lang); got != "" {
			t.Errorf("%s: zero time gives %q", lang, got)
		}
	}
	if got := messages.FormatDate(date(2026, 12, 2), "pt"); got != "2 December 2026" {
		t.Errorf("unsupported language: %q, want English", got)
	}
	// The date is the one in the time's location.
	utc8 := time.FixedZone("UTC+8", 8*3600)
	late := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	if got := messages.FormatDate(late.In(utc8), "de"); got != "2. Dezember 2026" {
		t.Errorf("in UTC+8: %q", got)
	}
	if got := messages.FormatDate(late, "de"); got != "1. Dezember 2026" {
		t.Errorf("in UTC: %q", got)
	}
}

func TestFormatRange(t *testing.T) {
	cases := []struct {
		from, to time.Time
		want     [5]string
	}{
		{date(2026, 12, 1), date(2026, 12, 6), [5]string{
			"between 1 and 6 December 2026", "2026年12月1日至6日之间", "entre el 1 y el 6 de diciembre de 2026",
			"entre le 1er et le 6 décembre 2026", "zwischen dem 1. und 6. Dezember 2026"}},
		{date(2026, 11, 30), date(2026, 12, 3), [5]string{
			"between 30 November and 3 December 2026", "2026年11月30日至12月3日之间", "entre el 30 de noviembre y el 3 de diciembre de 2026",
			"entre le 30 novembre et le 3 décembre 2026", "zwischen dem 30. November und dem 3. Dezember 2026"}},
		{date(2026, 12, 30), date(2027, 1, 2), [5]string{
			"between 30 December 2026 and 2 January 2027", "2026年12月30日至2027年1月2日之间", "entre el 30 de diciembre de 2026 y el 2 de enero de 2027",
			"entre le 30 décembre 2026 et le 2 janvier 2027", "zwischen dem 30. Dezember 2026 und dem 2. Januar 2027"}},
		// Reversed arguments give the same phrase.
		{date(2026, 12, 6), date(2026, 12, 1), [5]string{
			"between 1 and 6 December 2026", "2026年12月1日至6日之间", "entre el 1 y el 6 de diciembre de 2026",
			"entre le 1er et le 6 décembre 2026", "zwischen dem 1. und 6. Dezember 2026"}},
		// One day is that date.
		{time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC), time.Date(2026, 12, 4, 23, 0, 0, 0, time.UTC), [5]string{
			"4 December 2026", "2026年12月4日", "4 de diciembre de 2026", "4 décembre 2026", "4. Dezember 2026"}},
		{time.Time{}, date(2026, 12, 4), [5]string{}},
		{date(2026, 12, 4), time.Time{}, [5]string{}},
	}
	for _, c := range cases {
		for i, lang := range languages {
			if got := messages.FormatRange(c.from, c.to, lang); got != c.want[i] {
				t.Errorf("FormatRange(%v, %v, %s) = %q, want %q", c.from, c.to, lang, got, c.want[i])
			}
		}
	}
}
