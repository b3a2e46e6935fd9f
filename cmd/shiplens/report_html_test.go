package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/shiplens/shiplens/internal/chserver/chtest"
)

// TestReportCarriersHTML loads a workload into a real ClickHouse and checks
// that `report carriers --format html` writes one self-contained page
// whose figures are those `--format json` prints for the same range.
func TestReportCarriersHTML(t *testing.T) {
	addr, db := chtest.DB(t)
	ch := "clickhouse://" + addr + "/" + db
	if code, _, errs := cli(t, "migrate", "--clickhouse", ch); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := cli(t, "generate", "--shipments", "1500", "--seed", "11", "--to-clickhouse", ch); code != 0 {
		t.Fatalf("generate: exit %d: %s", code, errs)
	}
	report := func(args ...string) string {
		t.Helper()
		all := append([]string{"report", "carriers", "--clickhouse", ch, "--from", "2020-01-01", "--to", "2030-12-31"}, args...)
		code, out, errs := cli(t, all...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", all, code, errs)
		}
		return out
	}
	// The rows as encoding/json reads them, without the analytics types.
	var rows []map[string]any
	if err := json.Unmarshal([]byte(report("--format", "json")), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 4 {
		t.Fatalf("%d scorecard rows: too few to compare", len(rows))
	}

	page := report("--format", "html", "--lang", "zh")
	if !strings.HasPrefix(page, "<!DOCTYPE html>\n") || !strings.HasSuffix(page, "</html>\n") ||
		strings.Count(page, "<!DOCTYPE") != 1 || strings.Count(page, "<html") != 1 || strings.Count(page, "</html>") != 1 {
		t.Fatalf("not one HTML document:\n%.300s\n...\n%s", page, page[max(0, len(page)-100):])
	}
	for _, s := range []string{"http://", "https://", "url(", "@import", "<link", "<img", "<iframe", " src=", " href="} {
		if strings.Contains(page, s) {
			t.Errorf("the page is not self-contained: it contains %q", s)
		}
	}
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var (
		lang, h1, body, data string
		figures              []map[string]string
	)
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode {
			a := map[string]string{}
			for _, at := range n.Attr {
				a[at.Key] = at.Val
			}
			switch {
			case n.Data == "html":
				lang = a["lang"]
			case n.Data == "h1":
				h1 = nodeText(n)
			case n.Data == "body":
				body = nodeText(n)
			case n.Data == "script" && a["id"] == "report-data":
				data = nodeText(n)
			case a["data-scope"] == "lane" && a["data-field"] != "":
				figures = append(figures, a)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(doc)
	if lang != "zh" || h1 != "承运商绩效报告" {
		t.Errorf(`<html lang=%q>, <h1>%s</h1>: want lang="zh" and the Chinese title`, lang, h1)
	}
	for _, s := range []string{"各承运商准时率", "按承运商和线路", "已签收", "准时率"} {
		if !strings.Contains(body, s) {
			t.Errorf("%q is not on the page", s)
		}
	}

	// The embedded data holds the same rows, and its series and carriers
	// add up to them.
	var embedded struct {
		Rows            []map[string]any `json:"rows"`
		Carriers        []map[string]any `json:"carriers"`
		DeliveredPerDay []struct {
			Delivered float64 `json:"delivered"`
		} `json:"delivered_per_day"`
		OnTimePerWeek []struct {
			WithPromise float64 `json:"with_promise"`
			OnTime      float64 `json:"on_time"`
		} `json:"on_time_per_week"`
	}
	if err := json.Unmarshal([]byte(data), &embedded); err != nil {
		t.Fatalf("report-data: %v\n%.300s", err, data)
	}
	if a, b := mustJSON(t, embedded.Rows), mustJSON(t, rows); a != b {
		t.Errorf("embedded rows differ from --format json:\n%s\n%s", a, b)
	}
	var delivered, withPromise, onTime float64
	perCarrier := map[string]float64{}
	for _, r := range rows {
		delivered += r["delivered"].(float64)
		withPromise += r["with_promise"].(float64)
		onTime += r["on_time"].(float64)
		perCarrier[r["carrier"].(string)] += r["delivered"].(float64)
	}
	var days, weekPromise, weekOnTime float64
	for _, d := range embedded.DeliveredPerDay {
		days += d.Delivered
	}
	for _, w := range embedded.OnTimePerWeek {
		weekPromise, weekOnTime = weekPromise+w.WithPromise, weekOnTime+w.OnTime
	}
	if len(embedded.DeliveredPerDay) == 0 || days != delivered || weekPromise != withPromise || weekOnTime != onTime {
		t.Errorf("series: %v delivered over %d days, %v/%v on time over weeks; the rows say %v, %v/%v",
			days, len(embedded.DeliveredPerDay), weekOnTime, weekPromise, delivered, onTime, withPromise)
	}
	if len(embedded.Carriers) != len(perCarrier) {
		t.Errorf("%d carriers, the rows have %d", len(embedded.Carriers), len(perCarrier))
	}
	for _, c := range embedded.Carriers {
		if name := c["carrier"].(string); c["delivered"].(float64) != perCarrier[name] {
			t.Errorf("carrier %s: %v delivered, its lanes %v", name, c["delivered"], perCarrier[name])
		}
	}

	// Every figure of every row is shown once in the tables with its exact
	// value.
	shown := map[string]int{}
	byKey := map[[2]string]map[string]any{}
	for _, r := range rows {
		byKey[[2]string{r["carrier"].(string), r["lane"].(string)}] = r
	}
	for _, f := range figures {
		row, ok := byKey[[2]string{f["data-carrier"], f["data-lane"]}]
		want, has := row[f["data-field"]]
		if !ok || !has {
			t.Errorf("%v names no figure of --format json", f)
			continue
		}
		shown[f["data-carrier"]+"|"+f["data-lane"]+"|"+f["data-field"]]++
		v, hasValue := f["data-value"]
		switch {
		case want == nil && hasValue:
			t.Errorf("%v: --format json has null", f)
		case want != nil && !hasValue:
			t.Errorf("%v: --format json has %v", f, want)
		case want != nil:
			if got, err := strconv.ParseFloat(v, 64); err != nil || got != want.(float64) {
				t.Errorf("%v: --format json has %v", f, want)
			}
		}
	}
	fields := []string{"delivered", "with_promise", "on_time", "on_time_rate", "transit_hours_p50", "transit_hours_p90",
		"customs_dwell_hours_p50", "customs_dwell_hours_p90", "exceptions"}
	for _, r := range rows {
		for _, field := range fields {
			if k := r["carrier"].(string) + "|" + r["lane"].(string) + "|" + field; shown[k] != 1 {
				t.Errorf("%s is shown %d times, want once", k, shown[k])
			}
		}
	}

	t.Logf("zh page: %d bytes, %d rows and %d table figures equal to --format json, %d days, %d weeks",
		len(page), len(rows), len(figures), len(embedded.DeliveredPerDay), len(embedded.OnTimePerWeek))

	// A filter narrows the page as it narrows the JSON; English is the default.
	carrier := rows[0]["carrier"].(string)
	var one []map[string]any
	if err := json.Unmarshal([]byte(report("--format", "json", "--carrier", carrier)), &one); err != nil {
		t.Fatal(err)
	}
	en := report("--format", "html", "--carrier", carrier)
	if !strings.Contains(en, `<html lang="en">`) || !strings.Contains(en, "Carrier scorecard") {
		t.Errorf("without --lang the page is not English:\n%.300s", en)
	}
	i := strings.Index(en, `<script type="application/json" id="report-data">`)
	j := strings.LastIndex(en, "</script>")
	if i < 0 || j < i {
		t.Fatal("no report-data in the English page")
	}
	var enData struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal([]byte(en[i+len(`<script type="application/json" id="report-data">`):j]), &enData); err != nil {
		t.Fatal(err)
	}
	if a, b := mustJSON(t, enData.Rows), mustJSON(t, one); a != b {
		t.Errorf("--carrier %s: the page's rows differ from --format json:\n%s\n%s", carrier, a, b)
	}

	code, _, errs := cli(t, "report", "carriers", "--clickhouse", ch, "--from", "2020-01-01", "--to", "2030-12-31", "--format", "html", "--lang", "pt")
	if code != 2 || !strings.Contains(errs, `unknown --lang "pt"`) {
		t.Errorf("--lang pt: exit %d, %q", code, errs)
	}
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(n)
	return b.String()
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
