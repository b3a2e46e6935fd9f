package notify_test

import (
	"context"
	"encoding/base64"
	"io"
	"mime"
	"net/mail"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/notify"
	"github.com/shiplens/shiplens/notify/mailpit"
)

// decodedMail is a message decoded with the standard library alone, as a
// mail client would: headers unfolded, RFC 2047 words and base64 undone.
type decodedMail struct {
	subject, body string
	header        mail.Header
}

func decodeMail(t *testing.T, raw []byte) decodedMail {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, raw)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject %q: %v", m.Header.Get("Subject"), err)
	}
	if cte := m.Header.Get("Content-Transfer-Encoding"); cte != "base64" {
		t.Fatalf("Content-Transfer-Encoding %q", cte)
	}
	body, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, m.Body))
	if err != nil {
		t.Fatalf("body is not base64: %v", err)
	}
	return decodedMail{subject: subject, body: string(body), header: m.Header}
}

// TestEmail sends alerts to customer service and notifications to customers
// through a real SMTP server (mailpit) and checks what arrived, decoded both
// by mailpit and by the standard library.
func TestEmail(t *testing.T) {
	t.Parallel()
	mp := mailpit.Start(t)
	brokers := startBroker(t)
	const (
		zhSubject = "您的包裹 LX100CN 已到达目的国"
		zhBody    = "您好！\n您的包裹 LX100CN 已于 11月5日 到达美国，正在等待清关。\n预计送达：11月9日至11月12日。\n"
	)
	critical := alertJSON("a1", "LX100CN", "acme", "critical", 1, "opened")
	escalated := alertJSON("b2", "LX200CN", "globex", "warning", 2, "escalated")
	info := alertJSON("c3", "LX300CN", "globex", "info", 1, "opened") // below alerts_min_tier
	zh := notificationJSON("n-zh", "LX100CN", "acme", "zh", zhSubject, zhBody)
	unknown := notificationJSON("n-unknown", "LX999CN", "acme", "en", "Arrived", "Your parcel arrived.") // no address known
	produce(t, brokers, critical, escalated, info, zh, unknown)

	cfg := notify.Config{Brokers: brokers, Group: "g-mail", Delivery: fastDelivery, Email: &notify.Email{
		Addr: mp.SMTPAddr, From: mail.Address{Name: "Shiplens 通知", Address: "alerts@shiplens.example"},
		Username: "mailer", Password: "hunter2", TLS: notify.TLSAuto,
		AlertsTo:      []string{"cs@shop.example", "oncall@shop.example"},
		MerchantAlert: map[string][]string{"acme": {"support@acme.example"}},
		AlertsMinTier: "warning",
		Contacts:      notify.NewContacts(map[string][]string{"LX100CN": {"li.wei@example.cn"}}),
	}}
	n, stop := run(t, cfg)
	waitCommitted(t, brokers, "g-mail", alertsTopic, notificationsTopic)
	stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msgs, err := mp.WaitMessages(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	bySubject := map[string]*mailpit.Message{}
	for i := range msgs {
		bySubject[msgs[i].Subject] = &msgs[i]
	}
	type want struct {
		subject, lang, messageID string
		to                       []string
		bodyHas                  []string
		body                     string // exact, when set
		header                   map[string]string
	}
	check := func(w want) {
		t.Helper()
		m := bySubject[w.subject]
		if m == nil {
			subjects := make([]string, 0, len(bySubject))
			for s := range bySubject {
				subjects = append(subjects, s)
			}
			t.Errorf("no message with subject %q; got %q", w.subject, subjects)
			return
		}
		d := decodeMail(t, m.Raw)
		if d.subject != w.subject {
			t.Errorf("%s: subject decoded by net/mail %q", w.subject, d.subject)
		}
		got := m.Recipients()
		slices.Sort(got)
		if !reflect.DeepEqual(got, w.to) {
			t.Errorf("%s: recipients %v, want %v", w.subject, got, w.to)
		}
		if m.From.Address != "alerts@shiplens.example" || m.From.Name != "Shiplens 通知" {
			t.Errorf("%s: from %+v", w.subject, m.From)
		}
		if m.Username != "mailer" {
			t.Errorf("%s: sent as SMTP user %q, want mailer", w.subject, m.Username)
		}
		if m.MessageID != w.messageID {
			t.Errorf("%s: Message-ID %q, want %q", w.subject, m.MessageID, w.messageID)
		}
		text := strings.ReplaceAll(m.Text, "\r\n", "\n")
		body := strings.ReplaceAll(d.body, "\r\n", "\n")
		if w.body != "" && (text != w.body || body != w.body) {
			t.Errorf("%s: body\nmailpit: %q\nnet/mail: %q\nwant:     %q", w.subject, text, body, w.body)
		}
		for _, s := range w.bodyHas {
			if !strings.Contains(body, s) || !strings.Contains(text, s) {
				t.Errorf("%s: body lacks %q:\n%s", w.subject, s, body)
			}
		}
		for k, v := range map[string]string{"Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "base64",
			"Content-Language": w.lang, "Mime-Version": "1.0"} {
			if got := m.Headers[k]; len(got) != 1 || got[0] != v {
				t.Errorf("%s: header %s %q, want %q", w.subject, k, got, v)
			}
		}
		for k, v := range w.header {
			if got := d.header.Get(k); got != v {
				t.Errorf("%s: header %s %q, want %q", w.subject, k, got, v)
			}
		}
		if _, err := d.header.Date(); err != nil {
			t.Errorf("%s: Date: %v", w.subject, err)
		}
	}
	check(want{
		subject: "[critical] stalled: LX100CN (chinapost CN-US)", lang: "en", messageID: "alert.a1.1.opened@shiplens.example",
		to: []string{"support@acme.example"}, // acme's override of alerts_to
		bodyHas: []string{"Tracking number:  LX100CN", "Tier:             critical", "Carrier:          chinapost", "Lane:             CN-US",
			"Merchant:         acme", "Opened at:        2026-11-04T08:00:00Z", "no scan for 72 hours"},
		header: map[string]string{"X-Shiplens-Record": "alert", "Auto-Submitted": "auto-generated"},
	})
	check(want{
		subject: "[warning] stalled escalated: LX200CN (chinapost CN-US)", lang: "en", messageID: "alert.b2.2.escalated@shiplens.example",
		to:      []string{"cs@shop.example", "oncall@shop.example"},
		bodyHas: []string{"Change:           escalated", "Merchant:         globex"},
		header:  map[string]string{"In-Reply-To": "<alert.b2.1.opened@shiplens.example>"},
	})
	check(want{
		subject: zhSubject, lang: "zh", messageID: "notification.n-zh@shiplens.example",
		to: []string{"li.wei@example.cn"}, body: zhBody,
		header: map[string]string{"X-Shiplens-Record": "notification"},
	})
	f := func(name string, labels map[string]string, want float64) {
		t.Helper()
		if got := metric(t, n, name, labels); got != want {
			t.Errorf("%s%v = %g, want %g", name, labels, got, want)
		}
	}
	f("shiplens_notify_delivered_total", map[string]string{"channel": "email", "destination": "alerts"}, 2)
	f("shiplens_notify_delivered_total", map[string]string{"channel": "email", "destination": "customers"}, 1)
	f("shiplens_notify_skipped_total", map[string]string{"channel": "email", "destination": "customers", "why": "no_address"}, 1)
	f("shiplens_notify_dead_lettered_total", nil, 0)
}

// TestEmailRefusedRecipient: an SMTP 5xx (here a recipient the server
// refuses) is permanent: dead-lettered without retries.
func TestEmailRefusedRecipient(t *testing.T) {
	t.Parallel()
	mp := mailpit.Start(t, "--smtp-allowed-recipients", `@shop\.example$`)
	brokers := startBroker(t)
	produce(t, brokers, notificationJSON("n1", "LX100CN", "acme", "en", "Arrived", "Your parcel arrived."))
	cfg := notify.Config{Brokers: brokers, Group: "g-mail-refused", Delivery: fastDelivery, Email: &notify.Email{
		Addr: mp.SMTPAddr, From: mail.Address{Address: "alerts@shiplens.example"},
		// This mailpit answers 550 to any recipient outside shop.example.
		Contacts: notify.NewContacts(map[string][]string{"LX100CN": {"li.wei@example.cn"}}),
	}}
	n, stop := run(t, cfg)
	waitCommitted(t, brokers, "g-mail-refused", notificationsTopic)
	stop()
	letters := readDead(t, brokers)
	if len(letters) != 1 {
		t.Fatalf("%d dead letters, want 1", len(letters))
	}
	d := letters[0]
	if d.Source != "notify/email/customers" || d.Reason != "refused" || !strings.Contains(d.Error, "RCPT TO") {
		t.Errorf("dead letter %q %q %q", d.Source, d.Reason, d.Error)
	}
	if got := metric(t, n, "shiplens_notify_retried_total", map[string]string{"channel": "email"}); got != 0 {
		t.Errorf("a refused recipient was retried %g times", got)
	}
}
