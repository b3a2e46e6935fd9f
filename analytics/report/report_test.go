package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/report"
	"github.com/shiplens/shiplens/schemas"
)

func render(t *testing.T, r report.Report, lang string) string {
	t.Helper()
	var b bytes.Buffer
	if err := report.HTML(&b, r, lang); err != nil {
		t.Fatalf("%s: %v", lang, err)
	}
	return b.String()
}

func parse(t *testing.T, page string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func attr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func find(doc *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
	})
	return out
}

func byTag(tag string) func(*html.Node) bool { return func(n *html.Node) bool { return n.Data == tag } }

func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
	})
	return b.String()
}

// figures returns the elements of the page that name a figure.
func figures(doc *html.Node) []figure {
	var out []figure
	for _, n := range find(doc, func(n *html.Node) bool { _, ok := attr(n, "data-field"); return ok }) {
		var f figure
		f.Scope, _ = attr(n, "data-scope")
		f.Field, _ = attr(n, "data-field")
		f.Carrier, _ = attr(n, "data-carrier")
		f.Lane, _ = attr(n, "data-lane")
		f.Day, _ = attr(n, "data-day")
		f.Week, _ = attr(n, "data-week")
		if v, ok := attr(n, "data-value"); ok {
			f.Value = &v
		}
		f.Text = text(n)
		out = append(out, f)
	}
	return out
}

// unlabelledDigits returns the texts of the body with a digit that are
// neither a figure (data-value) nor a date, an axis label or a name.
func unlabelledDigits(doc *html.Node) []string {
	var out []string
	var visit func(n *html.Node, labelled bool)
	visit = func(n *html.Node, labelled bool) {
		if n.Type == html.ElementNode {
			if n.Data == "script" {
				return
			}
			for _, a := range []string{"data-value", "data-date", "data-tick", "data-text"} {
				if _, ok := attr(n, a); ok {
					labelled = true
				}
			}
		}
		if n.Type == html.TextNode && !labelled && strings.ContainsAny(n.Data, "0123456789") {
			out = append(out, n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c, labelled)
		}
	}
	for _, body := range find(doc, byTag("body")) {
		visit(body, false)
	}
	return out
}

// embedded returns the JSON of <script id="report-data">.
func embedded(t *testing.T, doc *html.Node) []byte {
	t.Helper()
	scripts := find(doc, byTag("script"))
	if len(scripts) != 1 {
		t.Fatalf("%d scripts, want the one report-data", len(scripts))
	}
	s := scripts[0]
	if id, _ := attr(s, "id"); id != "report-data" {
		t.Fatalf("script id %q", id)
	}
	if typ, _ := attr(s, "type"); typ != "application/json" {
		t.Fatalf("script type %q", typ)
	}
	return []byte(text(s))
}

// voidElements have no end tag in HTML.
var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// checkStructure reads page token by token: a doctype first, every element
// closed in order, one html, head, body and title, a charset and a viewport.
func checkStructure(t *testing.T, page, lang string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(page))
	var stack []string
	counts := map[string]int{}
	ids := map[string]bool{}
	first, inSVG := true, 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if !errors.Is(z.Err(), io.EOF) {
				t.Fatal(z.Err())
			}
			break
		}
		tok := z.Token()
		if first {
			if tt != html.DoctypeToken || tok.Data != "html" {
				t.Fatalf("%s: first token %v %q, want <!DOCTYPE html>", lang, tt, tok.Data)
			}
			first = false
			continue
		}
		switch tt {
		case html.DoctypeToken:
			t.Errorf("%s: a second doctype", lang)
		case html.StartTagToken, html.SelfClosingTagToken:
			if tok.Data == "svg" {
				inSVG++
			}
			if inSVG == 0 { // an SVG has titles of its own
				counts[tok.Data]++
			}
			for _, a := range tok.Attr {
				if a.Key == "id" {
					if ids[a.Val] {
						t.Errorf("%s: id %q twice", lang, a.Val)
					}
					ids[a.Val] = true
				}
			}
			if tt == html.StartTagToken && !voidElements[tok.Data] {
				stack = append(stack, tok.Data)
			}
		case html.EndTagToken:
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				t.Fatalf("%s: </%s> closes %v", lang, tok.Data, stack)
			}
			stack = stack[:len(stack)-1]
			if tok.Data == "svg" {
				inSVG--
			}
		}
	}
	if len(stack) != 0 {
		t.Errorf("%s: unclosed %v", lang, stack)
	}
	for _, tag := range []string{"html", "head", "body", "title", "style", "main", "h1", "script"} {
		if counts[tag] != 1 {
			t.Errorf("%s: %d <%s>, want 1", lang, counts[tag], tag)
		}
	}
	doc := parse(t, page)
	root := find(doc, byTag("html"))[0]
	if got, _ := attr(root, "lang"); got != lang {
		t.Errorf(`<html lang=%q>, want %q`, got, lang)
	}
	var charset, viewport bool
	for _, m := range find(doc, byTag("meta")) {
		if v, ok := attr(m, "charset"); ok && strings.EqualFold(v, "utf-8") {
			charset = true
		}
		if v, _ := attr(m, "name"); v == "viewport" {
			c, _ := attr(m, "content")
			viewport = strings.Contains(c, "width=device-width")
		}
	}
	if !charset || !viewport {
		t.Errorf("%s: meta charset %v, viewport %v", lang, charset, viewport)
	}
}

func TestHTMLStructure(t *testing.T) {
	for _, lang := range schemas.Languages {
		page := render(t, sample(), lang)
		checkStructure(t, page, lang)
		if !strings.HasSuffix(page, "</html>\n") {
			t.Errorf("%s: the page does not end with </html>", lang)
		}
		for _, s := range []string{"@media print", "@media screen and (max-width:"} {
			if !strings.Contains(page, s) {
				t.Errorf("%s: no %q in the styles", lang, s)
			}
		}
	}
}

// TestHTMLNothingExternal checks that the page needs nothing but itself:
// no element that loads something, no attribute that points anywhere, no
// URL in the styles.
func TestHTMLNothingExternal(t *testing.T) {
	for _, lang := range schemas.Languages {
		page := render(t, sample(), lang)
		for _, s := range []string{"http://", "https://", "url(", "@import", "@font-face", "//"} {
			if i := strings.Index(page, s); i >= 0 {
				t.Errorf("%s: %q at %d: %s", lang, s, i, page[max(0, i-40):min(len(page), i+40)])
			}
		}
		doc := parse(t, page)
		for _, n := range find(doc, func(*html.Node) bool { return true }) {
			switch n.Data {
			case "link", "img", "iframe", "object", "embed", "video", "audio", "source", "base", "image", "use", "form", "a":
				t.Errorf("%s: a <%s> element", lang, n.Data)
			}
			for _, a := range n.Attr {
				switch k := strings.ToLower(a.Key); {
				case k == "src", k == "href", k == "srcset", k == "action", k == "poster", k == "http-equiv", strings.HasSuffix(k, ":href"):
					t.Errorf("%s: <%s %s=%q>", lang, n.Data, a.Key, a.Val)
				case strings.HasPrefix(k, "on"):
					t.Errorf("%s: an event handler <%s %s>", lang, n.Data, a.Key)
				}
			}
		}
	}
}

// TestHTMLEscapesHostileNames renders names that would inject markup if
// they were written as they are, and checks that the page shows them as
// text and the embedded JSON holds them unchanged.
func TestHTMLEscapesHostileNames(t *testing.T) {
	const carrier = `"><script>alert('c')</script><img src=x onerror=alert(1)>&amp;`
	const lane = `</script><script>alert("l")</script><!--`
	const merchant = `' onmouseover='alert(3)`
	r := report.Report{
		Title: `</title><script>alert("t")</script>`, From: day("2026-10-01"), To: day("2026-10-02"), Merchant: merchant,
		Rows: []analytics.ScoreRow{{Carrier: carrier, Lane: lane, Delivered: 2, WithPromise: 2, OnTime: 1, OnTimeRate: ptr(0.5)},
			{Carrier: carrier, Lane: "CN-US", Delivered: 1}},
		Carriers: []analytics.ScoreRow{{Carrier: carrier, Delivered: 3, WithPromise: 2, OnTime: 1, OnTimeRate: ptr(0.5), TransitHoursP50: ptr(1)}},
	}
	for _, lang := range schemas.Languages {
		page := render(t, r, lang)
		checkStructure(t, page, lang)
		for _, s := range []string{"<script>alert", "<img", "<!--"} {
			if strings.Contains(page, s) {
				t.Errorf("%s: the page contains %q unescaped", lang, s)
			}
		}
		doc := parse(t, page)
		for _, n := range find(doc, func(*html.Node) bool { return true }) {
			if n.Data == "img" {
				t.Errorf("%s: an <img> element", lang)
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("%s: <%s %s=%q>", lang, n.Data, a.Key, a.Val)
				}
			}
		}
		var names []string
		for _, h := range find(doc, byTag("h3")) {
			names = append(names, text(h))
		}
		if !reflect.DeepEqual(names, []string{carrier}) {
			t.Errorf("%s: carrier headings %q, want %q", lang, names, carrier)
		}
		if h1 := text(find(doc, byTag("h1"))[0]); h1 != r.Title {
			t.Errorf("%s: title %q", lang, h1)
		}
		if !strings.Contains(text(doc), merchant) {
			t.Errorf("%s: the merchant filter is not shown as text", lang)
		}
		var d struct {
			Rows    []analytics.ScoreRow `json:"rows"`
			Filters map[string]string    `json:"filters"`
		}
		if err := json.Unmarshal(embedded(t, doc), &d); err != nil {
			t.Fatal(err)
		}
		if len(d.Rows) != 2 || d.Rows[0].Carrier != carrier || d.Rows[0].Lane != lane || d.Filters["merchant"] != merchant {
			t.Errorf("%s: embedded data %+v", lang, d)
		}
		checkFigures(t, lang, r, figures(doc))
	}
}

// TestHTMLFigures checks in every language that the figures shown, their
// data-value attributes and the embedded JSON are the report's.
func TestHTMLFigures(t *testing.T) {
	r := sample()
	for _, lang := range schemas.Languages {
		doc := parse(t, render(t, r, lang))
		checkFigures(t, lang, r, figures(doc))
		if bad := unlabelledDigits(doc); len(bad) > 0 {
			t.Errorf("%s: numbers shown without data-value: %q", lang, bad)
		}
		var d struct {
			Lang            string               `json:"lang"`
			From            string               `json:"from"`
			Rows            []analytics.ScoreRow `json:"rows"`
			Carriers        []analytics.ScoreRow `json:"carriers"`
			DeliveredPerDay []report.Day         `json:"delivered_per_day"`
			OnTimePerWeek   []report.Week        `json:"on_time_per_week"`
		}
		if err := json.Unmarshal(embedded(t, doc), &d); err != nil {
			t.Fatal(err)
		}
		if d.Lang != lang || !reflect.DeepEqual(d.Rows, r.Rows) || !reflect.DeepEqual(d.Carriers, r.Carriers) ||
			!reflect.DeepEqual(d.DeliveredPerDay, r.DeliveredPerDay) || !reflect.DeepEqual(d.OnTimePerWeek, r.OnTimePerWeek) {
			t.Errorf("%s: the embedded data is not the report:\n%+v", lang, d)
		}
	}
}

// TestHTMLLanguages checks the texts of each language in the page and a
// few numbers written its way; the strings are reviewed by hand here.
func TestHTMLLanguages(t *testing.T) {
	want := map[string][]string{
		"en": {"Carrier scorecard", "On-time rate by carrier", "By carrier and lane", "1,234,567", "91.7%", "101.3"},
		"zh": {"承运商绩效报告", "各承运商准时率", "按承运商和线路", "已签收", "准时率", "1,234,567", "91.7%"},
		"es": {"Evaluación de transportistas", "Puntualidad por transportista", "Por transportista y ruta", "1.234.567", "23.456", "812", "91,7\u00a0%", "101,3"},
		"fr": {"Tableau de bord des transporteurs", "Ponctualité par transporteur", "Par transporteur et liaison", "1\u202f234\u202f567", "91,7\u202f%", "101,3"},
		"de": {"Leistungsbericht Versanddienstleister", "Pünktlichkeitsquote je Versanddienstleister", "Nach Versanddienstleister und Relation", "1.234.567", "91,7\u00a0%", "101,3"},
	}
	if len(want) != len(schemas.Languages) {
		t.Fatalf("the table covers %d languages of %d", len(want), len(schemas.Languages))
	}
	for _, lang := range schemas.Languages {
		doc := parse(t, render(t, sample(), lang))
		body := text(find(doc, byTag("body"))[0])
		for _, s := range want[lang] {
			if !strings.Contains(body, s) {
				t.Errorf("%s: %q not shown", lang, s)
			}
		}
		if lang != "en" && strings.Contains(body, "On-time rate by carrier") {
			t.Errorf("%s: shows English headings", lang)
		}
	}
	var b bytes.Buffer
	if err := report.HTML(&b, sample(), "pt"); !errors.Is(err, report.ErrLanguage) || b.Len() != 0 {
		t.Errorf("pt: error %v, %d bytes written", err, b.Len())
	}
	if report.Supported("pt") || !report.Supported("zh") {
		t.Error("Supported is wrong about pt or zh")
	}
}

// TestHTMLEmpty renders a range without deliveries: a valid page that
// says so, without charts, whose data has empty lists rather than null.
func TestHTMLEmpty(t *testing.T) {
	for _, lang := range schemas.Languages {
		page := render(t, report.Report{From: day("2026-10-01"), To: day("2026-10-31")}, lang)
		checkStructure(t, page, lang)
		doc := parse(t, page)
		if n := len(find(doc, byTag("svg"))); n != 0 {
			t.Errorf("%s: %d charts without data", lang, n)
		}
		if len(find(doc, byTag("table"))) != 0 {
			t.Errorf("%s: tables without rows", lang)
		}
		if !strings.Contains(string(embedded(t, doc)), `"rows":[]`) {
			t.Errorf("%s: rows are not an empty list: %s", lang, embedded(t, doc))
		}
		checkFigures(t, lang, report.Report{}, figures(doc))
	}
}

// TestHTMLWithoutCarriers leaves Carriers out: the carrier figures are the
// counts added up, and the quantiles of a carrier with several lanes are
// left out while those of a one-lane carrier are its lane's.
func TestHTMLWithoutCarriers(t *testing.T) {
	r := sample()
	r.Carriers = nil
	doc := parse(t, render(t, r, "en"))
	var d struct {
		Carriers []analytics.ScoreRow `json:"carriers"`
	}
	if err := json.Unmarshal(embedded(t, doc), &d); err != nil {
		t.Fatal(err)
	}
	want := []analytics.ScoreRow{
		{Carrier: "4px", Delivered: 812, WithPromise: 800, OnTime: 611, OnTimeRate: ptr(611.0 / 800),
			TransitHoursP50: ptr(160.75), TransitHoursP90: ptr(290.5), CustomsDwellHoursP50: ptr(20.25), CustomsDwellHoursP90: ptr(61), Exceptions: 37},
		{Carrier: "dhl", Delivered: 23456 + 1234567, WithPromise: 23000 + 1200000, OnTime: 21977 + 1099999,
			OnTimeRate: ptr(float64(21977+1099999) / float64(23000+1200000)), Exceptions: 210 + 12345},
		{Carrier: "yanwen", Delivered: 3, Exceptions: 1, TransitHoursP50: ptr(400), TransitHoursP90: ptr(455.5)},
	}
	if !reflect.DeepEqual(d.Carriers, want) {
		got, _ := json.Marshal(d.Carriers)
		t.Errorf("carriers %s", got)
	}
	r.Carriers = want
	checkFigures(t, "en", r, figures(doc))
}
