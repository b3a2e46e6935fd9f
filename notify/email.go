package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/internal/retry"
)

// mailer sends messages through the SMTP relay, one session per message.
type mailer struct {
	cfg   *Email
	host  string
	hello string
	now   func() time.Time
}

func newMailer(cfg *Email) *mailer {
	host, _, _ := net.SplitHostPort(cfg.Addr)
	hello := cfg.HelloName
	if hello == "" {
		if h, err := os.Hostname(); err == nil && h != "" {
			hello = h
		} else {
			hello = "localhost"
		}
	}
	return &mailer{cfg: cfg, host: host, hello: hello, now: time.Now}
}

// alertMail e-mails alerts to customer service.
type alertMail struct{ m *mailer }

func (a alertMail) recipients(r *record) []string {
	if to, ok := a.m.cfg.MerchantAlert[r.Merchant]; ok {
		return to
	}
	return a.m.cfg.AlertsTo
}

func (a alertMail) accepts(r *record) (bool, string) {
	if r.Kind != AlertRecord {
		return false, ""
	}
	if min := a.m.cfg.AlertsMinTier; min != "" && r.Alert.Tier.Rank() < min.Rank() {
		return false, ""
	}
	return len(a.recipients(r)) > 0, ""
}

func (a alertMail) send(ctx context.Context, r *record) error {
	to := a.recipients(r)
	msg := alertMessage(a.m.cfg, r.Alert, to)
	return a.m.deliver(ctx, to, msg.render(a.m.now()))
}

// customerMail e-mails notifications to the customer of the shipment.
type customerMail struct{ m *mailer }

func (c customerMail) accepts(r *record) (bool, string) {
	if r.Kind != NotificationRecord || c.m.cfg.Contacts == nil {
		return false, ""
	}
	if len(c.m.cfg.Contacts.Lookup(r.TrackingNumber)) == 0 {
		return false, "no_address"
	}
	return true, ""
}

func (c customerMail) send(ctx context.Context, r *record) error {
	to := c.m.cfg.Contacts.Lookup(r.TrackingNumber)
	if len(to) == 0 {
		return retry.Permanent(fmt.Errorf("no e-mail address for %s any more", r.TrackingNumber))
	}
	msg := notificationMessage(c.m.cfg, r.Notification, to)
	return c.m.deliver(ctx, to, msg.render(c.m.now()))
}

// deliver runs one SMTP session. A 5xx reply is permanent; a 4xx reply and
// network errors are worth retrying.
func (m *mailer) deliver(ctx context.Context, to []string, msg []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot connect to SMTP server %s: %w", m.cfg.Addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		conn.Close()
		return m.fail("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(m.hello); err != nil {
		return m.fail("EHLO", err)
	}
	if m.cfg.TLS != TLSNever {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(&tls.Config{ServerName: m.host, MinVersion: tls.VersionTLS12}); err != nil {
				return m.fail("STARTTLS", err)
			}
		} else if m.cfg.TLS == TLSAlways {
			return fmt.Errorf("SMTP server %s does not offer STARTTLS, which email.starttls always requires", m.cfg.Addr)
		}
	}
	if m.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, m.host)); err != nil {
			return m.fail("AUTH", err)
		}
	}
	if err := c.Mail(m.cfg.From.Address); err != nil {
		return m.fail("MAIL FROM", err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return m.fail("RCPT TO <"+rcpt+">", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return m.fail("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return m.fail("DATA", err)
	}
	if err := w.Close(); err != nil {
		return m.fail("end of DATA", err)
	}
	// The message is accepted once DATA ends: a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

func (m *mailer) fail(stage string, err error) error {
	err = fmt.Errorf("SMTP %s at %s: %w", stage, m.cfg.Addr, err)
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return retry.Permanent(err)
	}
	return err
}

// message is a plain-text e-mail.
type message struct {
	from      mail.Address
	to        []string
	subject   string
	lang      string // Content-Language; empty leaves it out
	messageID string
	inReplyTo string // the Message-ID it follows, if any
	kind      Kind
	id        string
	extra     [][2]string // more headers, name and ASCII value
	body      string
}

var langPattern = regexp.MustCompile(`^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$`)

// messageID returns the deterministic Message-ID of a record: the same on
// every attempt, so a receiving system can drop a copy it already has.
func messageID(kind Kind, id, domain string) string {
	var b strings.Builder
	b.WriteString(string(kind))
	dot := true
	for _, r := range id {
		switch {
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'):
			if dot {
				b.WriteByte('.')
				dot = false
			}
			b.WriteRune(r)
		default:
			dot = true
		}
	}
	return "<" + b.String() + "@" + domain + ">"
}

func alertMessage(cfg *Email, a *alerts.Alert, to []string) *message {
	what := string(a.Type)
	if a.Change != alerts.Opened && a.Change != "" {
		what += " " + string(a.Change)
	}
	where := a.Carrier
	if a.Lane != "" {
		where += " " + a.Lane
	}
	msg := &message{
		from: cfg.From, to: to, kind: AlertRecord, id: a.TransitionID, lang: "en",
		subject:   fmt.Sprintf("[%s] %s: %s (%s)", a.Tier, what, a.TrackingNumber, where),
		messageID: messageID(AlertRecord, a.TransitionID, cfg.MessageIDDomain),
		extra:     [][2]string{{"X-Shiplens-Tier", headerToken(string(a.Tier))}},
	}
	if a.Change != alerts.Opened && a.ID != "" {
		// Threads every transition of an alert under its opening.
		msg.inReplyTo = messageID(AlertRecord, alerts.TransitionID(a.ID, alerts.Opened, 1), cfg.MessageIDDomain)
	}
	var b strings.Builder
	line := func(label, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-17s %s\n", label+":", v)
		}
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(&b, "%s alert %s for shipment %s.\n", capitalize(string(a.Tier)), what, a.TrackingNumber)
	if a.Detail != "" {
		fmt.Fprintf(&b, "%s\n", a.Detail)
	}
	b.WriteString("\n")
	line("Tracking number", a.TrackingNumber)
	line("Alert", string(a.Type))
	line("Tier", string(a.Tier))
	line("Change", string(a.Change))
	line("State", string(a.State))
	line("Carrier", a.Carrier)
	line("Service", a.Service)
	line("Lane", a.Lane)
	line("Merchant", a.Merchant)
	line("Status", a.Status)
	line("Milestone", a.Milestone)
	if a.Attempts > 0 {
		line("Attempts", fmt.Sprint(a.Attempts))
	}
	if a.LimitHours > 0 {
		line("Limit", fmt.Sprintf("%g h", a.LimitHours))
	}
	line("Last event at", at(a.LastEventAt))
	line("Opened at", at(a.OpenedAt))
	line("Escalated at", at(a.EscalatedAt))
	line("Resolved at", at(a.ResolvedAt))
	line("Promised at", at(a.PromisedAt))
	line("Predicted at", at(a.PredictedAt))
	line("Transition at", at(a.At))
	line("Rule", a.Rule)
	line("Alert ID", a.ID)
	line("Transition ID", a.TransitionID)
	b.WriteString("\nTimes are event time (UTC). This message was sent by shiplens notify.\n")
	msg.body = b.String()
	return msg
}

func notificationMessage(cfg *Email, n *alerts.Notification, to []string) *message {
	msg := &message{
		from: cfg.From, to: to, kind: NotificationRecord, id: n.ID, subject: n.Subject, body: n.Body,
		messageID: messageID(NotificationRecord, n.ID, cfg.MessageIDDomain),
	}
	if langPattern.MatchString(n.Locale) {
		msg.lang = n.Locale
	}
	return msg
}

func capitalize(s string) string {
	if s == "" {
		return "An"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// headerToken keeps the characters of s that are safe in a header as is.
func headerToken(s string) string {
	return strings.Map(func(r rune) rune {
		if r > ' ' && r < 0x7f {
			return r
		}
		return -1
	}, s)
}

// render returns the message in RFC 5322 form: UTF-8 text, base64 in the
// body and RFC 2047 words in the Subject, CRLF line ends.
func (m *message) render(date time.Time) []byte {
	var b bytes.Buffer
	header := func(name, value string) {
		b.WriteString(fold(name + ": " + value))
		b.WriteString("\r\n")
	}
	header("From", m.from.String())
	to := make([]string, len(m.to))
	for i, a := range m.to {
		to[i] = (&mail.Address{Address: a}).String()
	}
	header("To", strings.Join(to, ", "))
	subject := strings.Join(strings.Fields(m.subject), " ")
	if n := utf8.RuneCountInString(subject); n > 200 {
		subject = string([]rune(subject)[:199]) + "…"
	}
	header("Subject", encodeText(subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", m.messageID)
	if m.inReplyTo != "" {
		header("In-Reply-To", m.inReplyTo)
		header("References", m.inReplyTo)
	}
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "base64")
	if m.lang != "" {
		header("Content-Language", m.lang)
	}
	header("Auto-Submitted", "auto-generated")
	header(HeaderRecord, string(m.kind))
	header("X-Shiplens-Id", headerToken(m.id))
	for _, h := range m.extra {
		header(h[0], h[1])
	}
	b.WriteString("\r\n")
	body := strings.ReplaceAll(strings.ReplaceAll(m.body, "\r\n", "\n"), "\n", "\r\n")
	if !strings.HasSuffix(body, "\r\n") {
		body += "\r\n"
	}
	enc := base64.StdEncoding.EncodeToString([]byte(body))
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
	b.WriteString("\r\n")
	return b.Bytes()
}

// encodeText returns s as RFC 2047 encoded words (UTF-8, base64) unless it
// is printable ASCII that no decoder would mistake for an encoded word.
// mime.BEncoding leaves "=?...?=" in plain text as is, which a mail client
// would then decode.
func encodeText(s string) string {
	plain := !strings.Contains(s, "=?")
	for i := 0; plain && i < len(s); i++ {
		plain = s[i] >= ' ' && s[i] <= '~'
	}
	if plain {
		return s
	}
	var words []string
	for s != "" {
		// 45 bytes make 60 base64 characters: a word of 72, under RFC 2047's 75.
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > 45 {
				break
			}
			n += size
		}
		words = append(words, "=?UTF-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, " ")
}

// fold breaks a header line longer than 78 characters at spaces (RFC 5322
// folding): continuation lines start with a space, which unfolding keeps.
func fold(line string) string {
	if len(line) <= 78 {
		return line
	}
	words := strings.Split(line, " ")
	var b strings.Builder
	n := 0
	for i, w := range words {
		switch {
		case i == 0:
		case n+1+len(w) > 76:
			b.WriteString("\r\n ")
			n = 1
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
