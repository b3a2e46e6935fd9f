package notify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/shiplens/shiplens/analytics/alerts"
)

// DefaultGroup is the consumer group of `shiplens notify`.
const DefaultGroup = "shiplens-notify"

// Config is everything a Notifier needs. LoadConfig fills the destinations
// and the delivery policy from a YAML file; the caller adds the brokers, the
// group and the logger. Zero values take the defaults noted on each field.
type Config struct {
	Brokers            []string
	Group              string // consumer group; defaults to DefaultGroup
	AlertsTopic        string // defaults to alerts.AlertsTopic
	NotificationsTopic string // defaults to alerts.NotificationsTopic
	DeadTopic          string // defaults to alerts.DeadTopic
	// StartAtEnd makes a group that has committed nothing yet start at the
	// end of the topics; by default it starts at the beginning, so nothing
	// published before the first run is lost.
	StartAtEnd bool

	Webhooks []Webhook
	Email    *Email // nil sends no e-mail
	Delivery Delivery

	Log *slog.Logger // defaults to slog.Default()
	// HTTPClient sends the webhooks; defaults to a client that follows no
	// redirects (each attempt has its own Delivery.Timeout).
	HTTPClient *http.Client
}

// Delivery is the retry and concurrency policy shared by every destination.
type Delivery struct {
	MaxAttempts    int           // attempts per record and destination, the first included; defaults to 8
	InitialBackoff time.Duration // first backoff before full jitter; defaults to 1s
	// MaxBackoff caps the backoff, which doubles after each failure, and a
	// server's Retry-After; defaults to 5m.
	MaxBackoff time.Duration
	Timeout    time.Duration // of one attempt (an HTTP request, an SMTP session); defaults to 10s
	Workers    int           // concurrent deliveries per destination; defaults to 4
	Queue      int           // records waiting per worker; defaults to 256
	// MaxInFlight bounds the records read from one partition and not yet
	// delivered everywhere; defaults to 1024.
	MaxInFlight    int
	CommitInterval time.Duration // how often finished offsets are committed; defaults to 1s
	// DrainTimeout is how long a revoked partition (rebalance, shutdown)
	// waits for its records in flight before it gives them up, uncommitted,
	// to its next owner; defaults to 30s.
	DrainTimeout time.Duration
	DedupSize    int // delivered record ids remembered, over all destinations; defaults to 100000
}

func (d Delivery) withDefaults() Delivery {
	def := func(v *int, n int) {
		if *v <= 0 {
			*v = n
		}
	}
	defDur := func(v *time.Duration, n time.Duration) {
		if *v <= 0 {
			*v = n
		}
	}
	def(&d.MaxAttempts, 8)
	defDur(&d.InitialBackoff, time.Second)
	defDur(&d.MaxBackoff, 5*time.Minute)
	defDur(&d.Timeout, 10*time.Second)
	def(&d.Workers, 4)
	def(&d.Queue, 256)
	def(&d.MaxInFlight, 1024)
	defDur(&d.CommitInterval, time.Second)
	defDur(&d.DrainTimeout, 30*time.Second)
	def(&d.DedupSize, 100000)
	if d.MaxBackoff < d.InitialBackoff {
		d.MaxBackoff = d.InitialBackoff
	}
	return d
}

// Webhook is one signed HTTP destination.
type Webhook struct {
	Name     string // unique; labels metrics and dead letters (notify/webhook/<name>)
	Merchant string // the merchant whose records it gets, or "*" for every record
	URL      string
	Secret   []byte // HMAC-SHA256 key of the signature
	// Alerts and Notifications say which records it gets.
	Alerts, Notifications bool
	MinTier               alerts.Tier // alerts below this tier are not sent; empty sends every tier
	Rate                  float64     // requests per second; defaults to 10
	Burst                 int         // defaults to 10
}

// TLSMode says when the SMTP client upgrades with STARTTLS.
type TLSMode string

// The TLS modes.
const (
	TLSAuto   TLSMode = "auto"   // when the server offers STARTTLS
	TLSAlways TLSMode = "always" // fail the attempt when it does not
	TLSNever  TLSMode = "never"
)

// Email is the SMTP destination: alerts to customer service, notifications
// to the customer of the shipment when an address is known.
type Email struct {
	Addr     string       // SMTP relay host:port
	From     mail.Address // envelope sender and From header
	Username string       // AUTH PLAIN when set
	Password string
	TLS      TLSMode // defaults to TLSAuto
	// HelloName is sent with EHLO; defaults to the host name.
	HelloName string
	// MessageIDDomain is the right-hand side of Message-IDs; defaults to
	// the domain of From.
	MessageIDDomain string

	AlertsTo      []string            // customer-service addresses for every merchant's alerts
	MerchantAlert map[string][]string // per merchant, replaces AlertsTo
	AlertsMinTier alerts.Tier         // alerts below this tier are not e-mailed; empty sends every tier
	// Contacts holds the customers' addresses by tracking number; nil
	// e-mails no notification.
	Contacts *Contacts
	Rate     float64 // messages per second, over both kinds; defaults to 10
	Burst    int     // defaults to 10
}

// file is the YAML shape of the configuration file (see the package
// documentation for an example).
type file struct {
	StartAt  string        `yaml:"start_at"`
	Delivery fileDelivery  `yaml:"delivery"`
	Webhooks []fileWebhook `yaml:"webhooks"`
	Email    *fileEmail    `yaml:"email"`
}

type fileDelivery struct {
	MaxAttempts    int           `yaml:"max_attempts"`
	InitialBackoff time.Duration `yaml:"initial_backoff"`
	MaxBackoff     time.Duration `yaml:"max_backoff"`
	Timeout        time.Duration `yaml:"timeout"`
	Workers        int           `yaml:"workers"`
	Queue          int           `yaml:"queue"`
	MaxInFlight    int           `yaml:"max_in_flight"`
	CommitInterval time.Duration `yaml:"commit_interval"`
	DrainTimeout   time.Duration `yaml:"drain_timeout"`
	DedupSize      int           `yaml:"dedup_size"`
}

type fileWebhook struct {
	Name      string   `yaml:"name"`
	Merchant  string   `yaml:"merchant"`
	URL       string   `yaml:"url"`
	SecretEnv string   `yaml:"secret_env"`
	Records   []string `yaml:"records"`
	MinTier   string   `yaml:"min_tier"`
	Rate      *float64 `yaml:"rate"`
	Burst     *int     `yaml:"burst"`
}

type fileEmail struct {
	SMTP            string                       `yaml:"smtp"`
	From            string                       `yaml:"from"`
	UsernameEnv     string                       `yaml:"username_env"`
	PasswordEnv     string                       `yaml:"password_env"`
	StartTLS        string                       `yaml:"starttls"`
	HelloName       string                       `yaml:"hello_name"`
	MessageIDDomain string                       `yaml:"message_id_domain"`
	AlertsTo        []string                     `yaml:"alerts_to"`
	AlertsMinTier   string                       `yaml:"alerts_min_tier"`
	Merchants       map[string]fileEmailMerchant `yaml:"merchants"`
	Contacts        string                       `yaml:"contacts"`
	ContactsReload  time.Duration                `yaml:"contacts_reload"`
	Rate            *float64                     `yaml:"rate"`
	Burst           *int                         `yaml:"burst"`
}

type fileEmailMerchant struct {
	AlertsTo []string `yaml:"alerts_to"`
}

// LoadConfig reads the configuration file at path (see the package
// documentation for its format). Secrets are read with lookupEnv (os.LookupEnv
// in production) from the variables the file names; a contacts file is read
// relative to the configuration file's folder. Errors name the file and line.
func LoadConfig(path string, lookupEnv func(string) (string, bool)) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("cannot read notify config: %w", err)
	}
	return ParseConfig(data, path, lookupEnv)
}

// ParseConfig is LoadConfig of data, the contents of the file at path.
func ParseConfig(data []byte, path string, lookupEnv func(string) (string, bool)) (Config, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("%s: empty notify config: configure at least one webhook or email", path)
		}
		return Config{}, fmt.Errorf("%s: %s", path, yamlError(err))
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%s line %d: a second YAML document; want one", path, more.Line)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Config{}, fmt.Errorf("%s: %s", path, yamlError(err))
	}
	p := &parser{path: path, root: &root, env: lookupEnv}
	return p.config(&f)
}

// yamlError turns yaml's multi-line errors into one line, and its "field x
// not found in type notify.fileWebhook" into "unknown field x".
func yamlError(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return strings.TrimPrefix(err.Error(), "yaml: ")
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		where, what, _ := strings.Cut(m, ": ")
		if field, ok := strings.CutPrefix(what, "field "); ok {
			if name, _, found := strings.Cut(field, " not found in type "); found {
				m = where + ": unknown field " + strconv.Quote(name)
			}
		}
		if strings.HasSuffix(m, "into time.Duration") {
			m += " (want a duration such as 10s, 5m or 1h30m)"
		}
		msgs[i] = m
	}
	return strings.Join(msgs, "; ")
}

// parser turns the YAML shape into a Config, with errors that name the
// line of the offending value.
type parser struct {
	path string
	root *yaml.Node
	env  func(string) (string, bool)
}

// errorf returns an error located at the node reached by keys (mapping keys
// as strings, sequence indices as ints); where the path ends early, at the
// deepest node found.
func (p *parser) errorf(keys []any, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if line := p.line(keys...); line > 0 {
		return fmt.Errorf("%s line %d: %s", p.path, line, msg)
	}
	return fmt.Errorf("%s: %s", p.path, msg)
}

func (p *parser) line(keys ...any) int {
	n := p.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, k := range keys {
		var next *yaml.Node
		switch k := k.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						line, next = n.Content[i].Line, n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
				line = next.Line
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

func (p *parser) config(f *file) (Config, error) {
	cfg := Config{
		Delivery: Delivery{
			MaxAttempts: f.Delivery.MaxAttempts, InitialBackoff: f.Delivery.InitialBackoff, MaxBackoff: f.Delivery.MaxBackoff,
			Timeout: f.Delivery.Timeout, Workers: f.Delivery.Workers, Queue: f.Delivery.Queue, MaxInFlight: f.Delivery.MaxInFlight,
			CommitInterval: f.Delivery.CommitInterval, DrainTimeout: f.Delivery.DrainTimeout, DedupSize: f.Delivery.DedupSize,
		},
	}
	switch f.StartAt {
	case "", "earliest":
	case "latest":
		cfg.StartAtEnd = true
	default:
		return cfg, p.errorf([]any{"start_at"}, "start_at %q: want earliest or latest", f.StartAt)
	}
	for _, check := range []struct {
		key string
		bad bool
	}{
		{"max_attempts", f.Delivery.MaxAttempts < 0}, {"initial_backoff", f.Delivery.InitialBackoff < 0},
		{"max_backoff", f.Delivery.MaxBackoff < 0}, {"timeout", f.Delivery.Timeout < 0}, {"workers", f.Delivery.Workers < 0},
		{"queue", f.Delivery.Queue < 0}, {"max_in_flight", f.Delivery.MaxInFlight < 0},
		{"commit_interval", f.Delivery.CommitInterval < 0}, {"drain_timeout", f.Delivery.DrainTimeout < 0}, {"dedup_size", f.Delivery.DedupSize < 0},
	} {
		if check.bad {
			return cfg, p.errorf([]any{"delivery", check.key}, "delivery.%s is negative; leave it out or use 0 for the default", check.key)
		}
	}
	names := map[string]int{}
	for i := range f.Webhooks {
		w, err := p.webhook(i, &f.Webhooks[i])
		if err != nil {
			return cfg, err
		}
		if prev, ok := names[w.Name]; ok {
			return cfg, p.errorf([]any{"webhooks", i}, "webhook name %q is used twice (also webhooks[%d]); give each a distinct name", w.Name, prev)
		}
		names[w.Name] = i
		cfg.Webhooks = append(cfg.Webhooks, w)
	}
	if f.Email != nil {
		e, err := p.email(f.Email)
		if err != nil {
			return cfg, err
		}
		cfg.Email = e
	}
	if len(cfg.Webhooks) == 0 && cfg.Email == nil {
		return cfg, fmt.Errorf("%s: no destination: configure at least one webhook or email", p.path)
	}
	return cfg, nil
}

func (p *parser) secret(at []any, key, name string, required bool) (string, error) {
	if name == "" {
		if required {
			return "", p.errorf(at, "%s is required: the environment variable that holds the secret", key)
		}
		return "", nil
	}
	v, ok := p.env(name)
	if !ok || v == "" {
		return "", p.errorf(append(at, key), "environment variable %s (named by %s) is not set or empty", name, key)
	}
	return v, nil
}

func (p *parser) tier(at []any, key, s string) (alerts.Tier, error) {
	t := alerts.Tier(s)
	if s != "" && t.Rank() == 0 {
		return "", p.errorf(append(at, key), "%s %q: want info, warning or critical", key, s)
	}
	return t, nil
}

func (p *parser) rate(at []any, r *float64, b *int) (float64, int, error) {
	rate, burst := 10.0, 10
	if r != nil {
		if *r <= 0 {
			return 0, 0, p.errorf(append(at, "rate"), "rate must be positive (requests per second)")
		}
		rate = *r
	}
	if b != nil {
		if *b < 1 {
			return 0, 0, p.errorf(append(at, "burst"), "burst must be at least 1")
		}
		burst = *b
	}
	return rate, burst, nil
}

func (p *parser) webhook(i int, fw *fileWebhook) (Webhook, error) {
	at := []any{"webhooks", i}
	w := Webhook{Name: fw.Name, Merchant: fw.Merchant, URL: fw.URL}
	if w.Merchant == "" {
		return w, p.errorf(at, "webhooks[%d]: merchant is required: a merchant id, or \"*\" for every merchant", i)
	}
	if w.Name == "" {
		w.Name = w.Merchant
		if w.Merchant == "*" {
			w.Name = "all"
		}
		w.Name = strings.ToLower(w.Name)
	}
	if !namePattern.MatchString(w.Name) {
		return w, p.errorf(append(at, "name"), "webhook name %q: want lower-case letters, digits, '.', '_' or '-'", w.Name)
	}
	u, err := url.Parse(fw.URL)
	if fw.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return w, p.errorf(append(at, "url"), "webhook %s: url %q: want an absolute http or https URL", w.Name, fw.URL)
	}
	secret, err := p.secret(at, "secret_env", fw.SecretEnv, true)
	if err != nil {
		return w, err
	}
	w.Secret = []byte(secret)
	if len(fw.Records) == 0 {
		w.Alerts, w.Notifications = true, true
	}
	for j, r := range fw.Records {
		switch r {
		case "alerts":
			w.Alerts = true
		case "notifications":
			w.Notifications = true
		default:
			return w, p.errorf(append(at, "records", j), "webhook %s: records %q: want alerts or notifications", w.Name, r)
		}
	}
	if w.MinTier, err = p.tier(at, "min_tier", fw.MinTier); err != nil {
		return w, err
	}
	if w.Rate, w.Burst, err = p.rate(at, fw.Rate, fw.Burst); err != nil {
		return w, err
	}
	return w, nil
}

func (p *parser) address(at []any, s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", p.errorf(at, "address %q: %v", s, err)
	}
	return a.Address, nil
}

func (p *parser) email(fe *fileEmail) (*Email, error) {
	at := []any{"email"}
	e := &Email{Addr: fe.SMTP, HelloName: fe.HelloName, MessageIDDomain: fe.MessageIDDomain}
	host, port, err := net.SplitHostPort(fe.SMTP)
	if fe.SMTP == "" || err != nil || host == "" || port == "" {
		return nil, p.errorf(append(at, "smtp"), "email.smtp %q: want the relay's host:port, e.g. smtp.example.com:587", fe.SMTP)
	}
	from, err := mail.ParseAddress(fe.From)
	if fe.From == "" || err != nil {
		return nil, p.errorf(append(at, "from"), "email.from %q: want an address such as \"Shiplens <alerts@shop.example>\"", fe.From)
	}
	e.From = *from
	if e.MessageIDDomain == "" {
		_, e.MessageIDDomain, _ = strings.Cut(from.Address, "@")
	}
	if e.Username, err = p.secret(at, "username_env", fe.UsernameEnv, false); err != nil {
		return nil, err
	}
	if e.Password, err = p.secret(at, "password_env", fe.PasswordEnv, false); err != nil {
		return nil, err
	}
	if (e.Username == "") != (e.Password == "") {
		return nil, p.errorf(at, "email: give both username_env and password_env, or neither")
	}
	switch TLSMode(fe.StartTLS) {
	case "", TLSAuto:
		e.TLS = TLSAuto
	case TLSAlways, TLSNever:
		e.TLS = TLSMode(fe.StartTLS)
	default:
		return nil, p.errorf(append(at, "starttls"), "email.starttls %q: want auto, always or never", fe.StartTLS)
	}
	if e.TLS == TLSNever && e.Username != "" && !isLoopback(host) {
		return nil, p.errorf(append(at, "starttls"), "email: starttls never with a password would send it in clear text to %s; use auto or always", host)
	}
	for i, a := range fe.AlertsTo {
		addr, err := p.address(append(at, "alerts_to", i), a)
		if err != nil {
			return nil, err
		}
		e.AlertsTo = append(e.AlertsTo, addr)
	}
	for _, m := range slices.Sorted(maps.Keys(fe.Merchants)) {
		fm := fe.Merchants[m]
		if len(fm.AlertsTo) == 0 {
			return nil, p.errorf(append(at, "merchants", m), "email.merchants.%s: alerts_to is empty", m)
		}
		for i, a := range fm.AlertsTo {
			addr, err := p.address(append(at, "merchants", m, "alerts_to", i), a)
			if err != nil {
				return nil, err
			}
			if e.MerchantAlert == nil {
				e.MerchantAlert = map[string][]string{}
			}
			e.MerchantAlert[m] = append(e.MerchantAlert[m], addr)
		}
	}
	if e.AlertsMinTier, err = p.tier(at, "alerts_min_tier", fe.AlertsMinTier); err != nil {
		return nil, err
	}
	if e.Rate, e.Burst, err = p.rate(at, fe.Rate, fe.Burst); err != nil {
		return nil, err
	}
	if fe.Contacts != "" {
		path := fe.Contacts
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(p.path), path)
		}
		c, err := LoadContacts(path, fe.ContactsReload)
		if err != nil {
			return nil, p.errorf(append(at, "contacts"), "email.contacts: %v", err)
		}
		e.Contacts = c
	}
	if len(e.AlertsTo) == 0 && len(e.MerchantAlert) == 0 && e.Contacts == nil {
		return nil, p.errorf(at, "email: nothing to send: give alerts_to, merchants or contacts")
	}
	return e, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
