package report_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/report"
	"github.com/shiplens/shiplens/internal/testenv"
)

// chromium returns the path of Debian's Chromium. Without one the test is
// skipped, except in CI, where it fails: CI must run it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "neither chromium nor chromium-browser is on PATH; install Debian's Chromium with `apt-get install chromium`"
	if testenv.InCI() {
		t.Fatal(msg)
	}
	t.Skip("skipping: " + msg)
	return ""
}

// events keeps what the page did that a report must not do. The listener
// runs on chromedp's reading goroutine; the test reads under the lock.
type events struct {
	mu       sync.Mutex
	problems []string // console errors, exceptions, error log entries, dialogs
	requests []string // URLs the page loaded
	probes   int      // console errors of the test's own probe
}

const probe = "shiplens-console-probe"

func (e *events) add(ev any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		if len(ev.Args) == 1 && string(ev.Args[0].Value) == `"`+probe+`"` {
			e.probes++
			return
		}
		var args []string
		for _, a := range ev.Args {
			args = append(args, string(a.Value)+a.Description)
		}
		e.problems = append(e.problems, "console.error: "+strings.Join(args, " "))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		e.problems = append(e.problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, msg))
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.EntryLevelError {
			e.problems = append(e.problems, "log: "+ev.Entry.Text)
		}
	case *page.EventJavascriptDialogOpening:
		e.problems = append(e.problems, "dialog: "+ev.Message)
	case *network.EventRequestWillBeSent:
		e.requests = append(e.requests, ev.Request.URL)
	}
}

// TestHTMLInChromium opens the page in headless Chromium, in English and
// in Chinese: it must load nothing but itself, log no error, show the
// report's figures in the DOM, fit a phone's width and print.
func TestHTMLInChromium(t *testing.T) {
	path := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("cannot start %s: %v", path, err)
	}
	version, err := chromedp.Run(browser, chromedp.Evaluate[string]("navigator.userAgent"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("browser: %s (%s)", path, version)

	// The sample and a carrier whose name is markup, for the browser to show
	// as text and never run.
	const hostile = `<img src=x onerror="alert(1)"><script>alert(2)</script>`
	r := sample()
	r.Rows = append(r.Rows, analytics.ScoreRow{Carrier: hostile, Lane: "CN-US", Delivered: 9, WithPromise: 9, OnTime: 9, OnTimeRate: ptr(1), Exceptions: 0})
	r.Carriers = append(r.Carriers, analytics.ScoreRow{Carrier: hostile, Delivered: 9, WithPromise: 9, OnTime: 9, OnTimeRate: ptr(1)})

	headings := map[string][]string{
		"en": {"Carrier scorecard", "On-time rate by carrier", "Transit time by carrier (hours)", "Deliveries per day", "On-time rate per week", "By carrier and lane"},
		"zh": {"承运商绩效报告", "各承运商准时率", "各承运商运输时长（小时）", "每日签收量", "每周准时率", "按承运商和线路"},
	}
	for _, lang := range []string{"en", "zh"} {
		t.Run(lang, func(t *testing.T) {
			var b bytes.Buffer
			if err := report.HTML(&b, r, lang); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "report-"+lang+".html")
			if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			url := "file://" + file

			tab, cancelTab := chromedp.NewContext(browser)
			defer cancelTab()
			var ev events
			if err := chromedp.Listen(tab, ev.add); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("#report-data"))); err != nil {
				t.Fatal(err)
			}

			got, err := chromedp.Run(tab, chromedp.Evaluate[string]("document.documentElement.lang"))
			if err != nil || got != lang {
				t.Errorf(`<html lang=%q> (%v), want %q`, got, err, lang)
			}
			shownText, err := chromedp.Run(tab, chromedp.Evaluate[string]("document.body.innerText"))
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range headings[lang] {
				if !strings.Contains(shownText, h) {
					t.Errorf("%s: %q is not shown", lang, h)
				}
			}

			figs, err := chromedp.Run(tab, chromedp.Evaluate[[]figure](`[...document.querySelectorAll('[data-field]')].map(e => ({
				Scope: e.dataset.scope || "", Field: e.dataset.field || "", Carrier: e.dataset.carrier || "", Lane: e.dataset.lane || "",
				Day: e.dataset.day || "", Week: e.dataset.week || "",
				Value: e.hasAttribute("data-value") ? e.getAttribute("data-value") : null,
				Text: e.textContent}))`))
			if err != nil {
				t.Fatal(err)
			}
			if len(figs) < 9*len(r.Rows) {
				t.Fatalf("%d figures in the DOM for %d rows", len(figs), len(r.Rows))
			}
			checkFigures(t, lang, r, figs)
			t.Logf("%s: %d figures in the DOM match the report", lang, len(figs))

			unlabelled, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`(() => {
				const out = [], w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
				while (w.nextNode()) {
					const n = w.currentNode, p = n.parentElement;
					if (/\d/.test(n.nodeValue) && !p.closest("script") && !p.closest("[data-value],[data-date],[data-tick],[data-text]")) out.push(n.nodeValue);
				}
				return out; })()`))
			if err != nil || len(unlabelled) > 0 {
				t.Errorf("numbers shown without data-value: %q (%v)", unlabelled, err)
			}

			// The hostile name is text: no image, one script (the data), the
			// name as a heading.
			dom, err := chromedp.Run(tab, chromedp.Evaluate[struct {
				Images, Scripts int
				Names           []string
			}](`({Images: document.images.length, Scripts: document.scripts.length,
				Names: [...document.querySelectorAll("h3")].map(h => h.textContent)})`))
			if err != nil {
				t.Fatal(err)
			}
			if dom.Images != 0 || dom.Scripts != 1 || !strings.Contains(strings.Join(dom.Names, "\n"), hostile) {
				t.Errorf("the hostile carrier name became markup: %+v", dom)
			}

			shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			desktop := savePNG(t, dir, "report-"+lang+"-desktop.png", shot)

			// A phone: the page fits its width (the tables turn into lists)
			// and nothing scrolls sideways.
			if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2))); err != nil {
				t.Fatal(err)
			}
			phone, err := chromedp.Run(tab, chromedp.Evaluate[struct {
				ScrollWidth, InnerWidth int
				CellDisplay             string
			}](`({ScrollWidth: document.documentElement.scrollWidth, InnerWidth: window.innerWidth,
				CellDisplay: getComputedStyle(document.querySelector("td[data-field]")).display})`))
			if err != nil {
				t.Fatal(err)
			}
			if phone.InnerWidth != 390 || phone.ScrollWidth > phone.InnerWidth || phone.CellDisplay != "flex" {
				t.Errorf("on a 390 px phone: %+v, want no sideways scrolling and table cells as flex rows", phone)
			}
			shot, err = chromedp.Run(tab, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			mobile := savePNG(t, dir, "report-"+lang+"-phone.png", shot)

			// Print: white paper, tables not cut off by a scroll box, a PDF.
			if err := chromedp.Do(tab, chromedp.ResetViewport(), chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
				_, err := cdp.Call(ctx, tgt, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
				return err
			})); err != nil {
				t.Fatal(err)
			}
			printed, err := chromedp.Run(tab, chromedp.Evaluate[struct{ Background, Overflow string }](
				`({Background: getComputedStyle(document.body).backgroundColor, Overflow: getComputedStyle(document.querySelector(".table")).overflowX})`))
			if err != nil || printed.Background != "rgb(255, 255, 255)" || printed.Overflow != "visible" {
				t.Errorf("print styles: %+v (%v)", printed, err)
			}
			pdf, err := chromedp.Run(tab, chromedp.PrintToPDF(chromedp.PDFPrintBackground()))
			if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
				t.Errorf("print to PDF: %d bytes, %v", len(pdf), err)
			}

			// The listener sees console errors: the probe's must arrive, and
			// nothing else may have.
			if _, err := chromedp.Run(tab, chromedp.Evaluate[chromedp.Void](`console.error("`+probe+`")`)); err != nil {
				t.Fatal(err)
			}
			ev.mu.Lock()
			defer ev.mu.Unlock()
			if ev.probes != 1 {
				t.Errorf("the listener saw %d probe errors, want 1: it cannot tell whether the page logged errors", ev.probes)
			}
			if len(ev.problems) > 0 {
				t.Errorf("the page logged errors: %q", ev.problems)
			}
			for _, u := range ev.requests {
				if u != url {
					t.Errorf("the page loaded %s", u)
				}
			}
			if len(ev.requests) == 0 {
				t.Error("no request seen, not even the page's own: the network listener does not work")
			}
			t.Logf("%s: screenshots %s, %s; PDF %d bytes", lang, desktop, mobile, len(pdf))
		})
	}
}

// savePNG checks that b is a PNG image, writes it into dir and describes it.
func savePNG(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", name, err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	size := img.Bounds().Size()
	return fmt.Sprintf("%s (%dx%d, %d bytes)", p, size.X, size.Y, len(b))
}
