package notify

import (
	"encoding/base64"
	"io"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shiplens/shiplens/analytics/alerts"
)

func note(subject, body, locale string) *alerts.Notification {
	return &alerts.Notification{ID: "n1", TrackingNumber: "LX1", Subject: subject, Body: body, Locale: locale}
}

func TestTracker(t *testing.T) {
	tr := newTracker()
	e5 := tr.add(5, 2)
	e6 := tr.add(6, 1)
	e9 := tr.add(9, 0) // a gap in the offsets (compaction) and a record no destination takes
	f := func(step string, wantNext int64, wantPopped, wantLeft int) {
		t.Helper()
		next, popped := tr.advance()
		if popped != wantPopped || (popped > 0 && next != wantNext) || tr.len() != wantLeft {
			t.Errorf("%s: advance = %d, %d popped, %d left; want %d, %d, %d", step, next, popped, tr.len(), wantNext, wantPopped, wantLeft)
		}
	}
	f("nothing finished", 0, 0, 3)
	tr.finish(e6)
	f("a later record finished first", 0, 0, 3)
	tr.finish(e5)
	f("one of two destinations", 0, 0, 3)
	tr.finish(e5)
	f("all", 10, 3, 0) // 5, 6 and 9 are done: commit 10
	_ = e9
	e10 := tr.add(10, 1)
	tr.finish(e10)
	f("again", 11, 1, 0)
}

func TestSeen(t *testing.T) {
	s := newSeen(3)
	for _, k := range []string{"a", "b", "c"} {
		s.add(k)
	}
	if !s.has("a") { // a becomes the most recent: b is the oldest now
		t.Fatal("a forgotten")
	}
	s.add("d")
	f := func(key string, want bool) {
		t.Helper()
		if got := s.has(key); got != want {
			t.Errorf("has(%q) = %v, want %v", key, got, want)
		}
	}
	f("b", false)
	f("a", true)
	f("c", true)
	f("d", true)
	if s.len() != 3 {
		t.Errorf("%d keys held, want 3", s.len())
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	f := func(v string, want time.Duration, wantOK bool) {
		t.Helper()
		got, ok := retryAfter(v, now)
		if got != want || ok != wantOK {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", v, got, ok, want, wantOK)
		}
	}
	f("", 0, false)
	f("3", 3*time.Second, true)
	f(" 120 ", 2*time.Minute, true)
	f("-1", 0, false)
	f("soon", 0, false)
	f("Fri, 20 Nov 2026 12:00:30 GMT", 30*time.Second, true)
	f("Fri, 20 Nov 2026 11:00:00 GMT", 0, true) // in the past: at once
	f("99999999999", 24*time.Hour, true)
}

func TestMessageID(t *testing.T) {
	f := func(kind Kind, id, want string) {
		t.Helper()
		got := messageID(kind, id, "shiplens.example")
		if got != want {
			t.Errorf("messageID(%s, %q) = %s, want %s", kind, id, got, want)
		}
		if _, err := mail.ParseAddress("x " + got); err != nil {
			t.Errorf("%s is not an addr-spec in angle brackets: %v", got, err)
		}
	}
	f(AlertRecord, "3f2a9c:1:opened", "<alert.3f2a9c.1.opened@shiplens.example>")
	f(AlertRecord, "3f2a9c:12:resolved", "<alert.3f2a9c.12.resolved@shiplens.example>")
	f(NotificationRecord, "9b1e", "<notification.9b1e@shiplens.example>")
	f(NotificationRecord, "a b//c.", "<notification.a.b.c@shiplens.example>")
}

func TestFold(t *testing.T) {
	long := "Subject: " + strings.Repeat("word ", 40)
	folded := fold(strings.TrimSpace(long))
	for _, line := range strings.Split(folded, "\r\n") {
		if len(line) > 78 {
			t.Errorf("line of %d characters: %q", len(line), line)
		}
	}
	if unfolded := strings.ReplaceAll(folded, "\r\n", ""); unfolded != strings.TrimSpace(long) {
		t.Errorf("unfolding changed the header:\n%q\n%q", unfolded, long)
	}
	if got := fold("To: <a@b.example>"); got != "To: <a@b.example>" {
		t.Errorf("short header folded: %q", got)
	}
}

// FuzzMessage: whatever the subject and body (any UTF-8, any language, CR
// and LF included), the rendered message parses with net/mail and decodes
// back to the same text; no header line is longer than 998 characters.
func FuzzMessage(f *testing.F) {
	f.Add("您的包裹已到达目的地国家", "您好！\n包裹已清关。", "zh")
	f.Add("Ihr Paket ist unterwegs: Zustellung am Montag", "Grüße\r\nIhr Team", "de")
	f.Add("Subject: injected\r\nBcc: x@y.example", "line\n.\nafter a lone dot", "en\r\nX: y")
	f.Add(strings.Repeat("长", 300), "", "")
	f.Add("=?UTF-8?b?5L2g?= looks encoded", "", "")
	f.Fuzz(func(t *testing.T, subject, body, lang string) {
		if !utf8.ValidString(subject) || !utf8.ValidString(body) {
			t.Skip()
		}
		m := notificationMessage(&Email{From: mail.Address{Name: "Shiplens", Address: "a@b.example"}, MessageIDDomain: "b.example"},
			note(subject, body, lang), []string{"c@d.example"})
		raw := m.render(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
		for _, line := range strings.Split(string(raw), "\r\n") {
			if len(line) > 998 {
				t.Fatalf("line of %d characters", len(line))
			}
		}
		msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatalf("cannot parse: %v\n%q", err, raw)
		}
		if got := msg.Header["To"]; len(got) != 1 || got[0] != "<c@d.example>" {
			t.Fatalf("To %q: the subject or language leaked into headers", got)
		}
		if len(msg.Header["Bcc"]) != 0 || len(msg.Header["X"]) != 0 {
			t.Fatalf("injected header: %v", msg.Header)
		}
		gotSubject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil {
			t.Fatalf("subject: %v", err)
		}
		wantSubject := strings.Join(strings.Fields(subject), " ")
		if utf8.RuneCountInString(wantSubject) > 200 {
			wantSubject = string([]rune(wantSubject)[:199]) + "…"
		}
		if gotSubject != wantSubject {
			t.Fatalf("subject %q, want %q", gotSubject, wantSubject)
		}
		b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, msg.Body))
		if err != nil {
			t.Fatalf("body: %v", err)
		}
		wantBody := strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")
		if !strings.HasSuffix(wantBody, "\r\n") {
			wantBody += "\r\n"
		}
		if string(b) != wantBody {
			t.Fatalf("body %q, want %q", b, wantBody)
		}
	})
}

func FuzzContacts(f *testing.F) {
	f.Add("tracking_number,email\nLX1,a@b.example\n")
	f.Add("tracking_number,email\n\"LX,1\",\"A <a@b.example>\"\n")
	f.Add("\ufefftracking_number,email\r\n")
	f.Fuzz(func(t *testing.T, csv string) {
		m, err := parseContacts(strings.NewReader(csv))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for num, addrs := range m {
			if num == "" || len(addrs) == 0 {
				t.Fatalf("entry %q: %v", num, addrs)
			}
			for _, a := range addrs {
				if _, err := mail.ParseAddress(a); err != nil {
					t.Fatalf("kept address %q: %v", a, err)
				}
			}
		}
	})
}
