package alerts

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/shiplens/shiplens/schemas"
)

// DefaultRules is the rules file shiplens uses without --rules: every rule
// type with the limits of common practice. `shiplens alerts rules` prints it.
//
//go:embed default.yaml
var DefaultRules []byte

// MaxRules bounds the rules of one file: a shipment remembers its open
// alerts as one bit per rule.
const MaxRules = 32

// Rules is a parsed rules file.
type Rules struct {
	Rules         []Rule
	Notifications Notifications
}

// Rule is one alert rule. Which fields apply depends on its Type.
type Rule struct {
	Name string
	Type Type
	Tier Tier
	// Escalate raises the tier of an alert open for longer than After;
	// zero After: never.
	Escalate Escalation
	// Carriers and Lanes, when set, restrict the rule to those.
	Carriers, Lanes []string

	// stalled: the limit of time without an event, looked up by the
	// shipment's latest status, then its category, then InDestination once
	// the shipment is in its destination country, then After.
	// lost: After alone.
	After         time.Duration
	ByStatus      map[schemas.Status]time.Duration
	ByCategory    map[schemas.Category]time.Duration
	InDestination time.Duration

	// slow: the learned Quantile (0.95) of the time at the milestone, for
	// the shipment's carrier and lane, from groups of at least
	// MinDeliveries deliveries; never below Floor.
	Quantile      float64
	MinDeliveries float64
	Floor         time.Duration

	// predicted_late: p50 later than promised_at by more than Margin.
	Margin time.Duration
}

// Escalation raises an open alert's tier after a while.
type Escalation struct {
	After time.Duration
	To    Tier
}

// Notifications configures customer notifications.
type Notifications struct {
	Disabled bool
	// Merchants gives a merchant's language for customers whose events
	// carry no supported locale.
	Merchants map[string]string
	// ETAChange is how far the predicted delivery must move before the
	// customer is told (default 24h: "more than a day").
	ETAChange time.Duration
	// ReminderBefore is how long before the predicted delivery the
	// reminder goes out (default 24h).
	ReminderBefore time.Duration
}

// Limit returns the stalled limit of a shipment whose latest status is st,
// inDestination telling whether it reached its destination country.
func (r *Rule) Limit(st schemas.Status, inDestination bool) time.Duration {
	if d, ok := r.ByStatus[st]; ok {
		return d
	}
	if d, ok := r.ByCategory[st.Category()]; ok {
		return d
	}
	if inDestination && r.InDestination > 0 {
		return r.InDestination
	}
	return r.After
}

// Applies reports whether the rule covers a shipment of carrier on lane.
func (r *Rule) Applies(carrier, lane string) bool {
	return (len(r.Carriers) == 0 || slices.Contains(r.Carriers, carrier)) && (len(r.Lanes) == 0 || slices.Contains(r.Lanes, lane))
}

// The file's YAML form. Durations are strings ("72h", "3d", "90m").
type (
	fileYAML struct {
		Rules         []ruleYAML        `yaml:"rules"`
		Notifications notificationsYAML `yaml:"notifications"`
	}
	ruleYAML struct {
		Name          string        `yaml:"name"`
		Type          yaml.Node     `yaml:"type"`
		Tier          yaml.Node     `yaml:"tier"`
		Escalate      *escalateYAML `yaml:"escalate"`
		Carriers      []string      `yaml:"carriers"`
		Lanes         []string      `yaml:"lanes"`
		After         durationYAML  `yaml:"after"`
		ByStatus      yaml.Node     `yaml:"by_status"`
		ByCategory    yaml.Node     `yaml:"by_category"`
		InDestination durationYAML  `yaml:"in_destination"`
		Quantile      *float64      `yaml:"quantile"`
		MinDeliveries *float64      `yaml:"min_deliveries"`
		Floor         durationYAML  `yaml:"floor"`
		Margin        durationYAML  `yaml:"margin"`
		Disabled      bool          `yaml:"disabled"`
		line          int
	}
	escalateYAML struct {
		After durationYAML `yaml:"after"`
		To    yaml.Node    `yaml:"to"`
	}
	notificationsYAML struct {
		Disabled       bool              `yaml:"disabled"`
		Merchants      map[string]string `yaml:"merchants"`
		ETAChange      durationYAML      `yaml:"eta_change"`
		ReminderBefore durationYAML      `yaml:"reminder_before"`
	}
)

// durationYAML is a duration with the line it was written on.
type durationYAML struct {
	d    time.Duration
	line int
	set  bool
}

func (d *durationYAML) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: invalid duration %q: want e.g. 72h, 3d or 90m", n.Line, n.Value)
	}
	*d = durationYAML{d: v, line: n.Line, set: true}
	return nil
}

// ParseDuration parses a Go duration ("72h", "90m") or a number of days
// ("3d", "1.5d"). It refuses negative and zero durations.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		f, err := strconv.ParseFloat(days, 64)
		if err != nil || math.IsNaN(f) || f > 1e5 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		d = time.Duration(f * float64(24*time.Hour))
	} else {
		v, err := time.ParseDuration(s)
		if err != nil {
			return 0, err
		}
		d = v
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return d, nil
}

// ParseRules parses and checks a rules file. An unknown field, type, tier,
// status or category, or a bad duration, is an error naming its line.
func ParseRules(b []byte) (*Rules, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f fileYAML
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("invalid rules: the file is empty")
		}
		return nil, fmt.Errorf("invalid rules: %s", yamlError(err))
	}
	// The line of each rule, for errors found after decoding.
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err == nil {
		lines := ruleLines(&root)
		for i := range f.Rules {
			if i < len(lines) {
				f.Rules[i].line = lines[i]
			}
		}
	}
	rs := &Rules{}
	names := map[string]int{}
	for i := range f.Rules {
		ry := &f.Rules[i]
		if ry.Disabled {
			continue
		}
		r, err := ry.rule()
		if err != nil {
			return nil, fmt.Errorf("invalid rules: %w", err)
		}
		if l, dup := names[r.Name]; dup {
			return nil, fmt.Errorf("invalid rules: line %d: rule name %q is used already on line %d", ry.line, r.Name, l)
		}
		names[r.Name] = ry.line
		rs.Rules = append(rs.Rules, r)
	}
	if len(rs.Rules) > MaxRules {
		return nil, fmt.Errorf("invalid rules: %d rules, at most %d", len(rs.Rules), MaxRules)
	}
	n := f.Notifications
	rs.Notifications = Notifications{Disabled: n.Disabled, Merchants: n.Merchants, ETAChange: 24 * time.Hour, ReminderBefore: 24 * time.Hour}
	if n.ETAChange.set {
		rs.Notifications.ETAChange = n.ETAChange.d
	}
	if n.ReminderBefore.set {
		rs.Notifications.ReminderBefore = n.ReminderBefore.d
	}
	for m, l := range n.Merchants {
		if l == "" || schemas.Language(l) == "" {
			return nil, fmt.Errorf("invalid rules: notifications: merchant %q: invalid locale %q", m, l)
		}
	}
	return rs, nil
}

var unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

// yamlError makes a decoding error one line: "line 3: unknown field foo".
func yamlError(err error) string {
	var te *yaml.TypeError
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for i, m := range msgs {
		msgs[i] = unknownField.ReplaceAllString(strings.TrimSpace(m), "unknown field $1")
	}
	return strings.Join(msgs, "; ")
}

// ruleLines returns the line of each item of the top-level rules sequence.
func ruleLines(root *yaml.Node) []int {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "rules" {
			var out []int
			for _, item := range m.Content[i+1].Content {
				out = append(out, item.Line)
			}
			return out
		}
	}
	return nil
}

func (ry *ruleYAML) rule() (Rule, error) {
	line := ry.line
	if ry.Type.Kind == 0 {
		return Rule{}, fmt.Errorf("line %d: rule without a type: want one of %s", line, typeList())
	}
	t := Type(ry.Type.Value)
	if !slices.Contains(Types, t) {
		return Rule{}, fmt.Errorf("line %d: unknown rule type %q: want one of %s", ry.Type.Line, ry.Type.Value, typeList())
	}
	r := Rule{Name: ry.Name, Type: t, Tier: Warning, Carriers: ry.Carriers, Lanes: ry.Lanes}
	if r.Name == "" {
		r.Name = string(t)
	}
	if ry.Tier.Kind != 0 {
		tier, err := parseTier(&ry.Tier)
		if err != nil {
			return Rule{}, err
		}
		r.Tier = tier
	}
	if ry.Escalate != nil {
		if !ry.Escalate.After.set {
			return Rule{}, fmt.Errorf("line %d: escalate needs after", line)
		}
		r.Escalate = Escalation{After: ry.Escalate.After.d, To: Critical}
		if ry.Escalate.To.Kind != 0 {
			to, err := parseTier(&ry.Escalate.To)
			if err != nil {
				return Rule{}, err
			}
			r.Escalate.To = to
		}
		if r.Escalate.To.Rank() <= r.Tier.Rank() {
			return Rule{}, fmt.Errorf("line %d: escalate to %s is not above the rule's tier %s", ry.Escalate.After.line, r.Escalate.To, r.Tier)
		}
	}
	// Fields that do not apply to the type are refused: a limit that does
	// nothing is a mistake the author should hear about.
	allowed := map[Type][]string{
		Stalled: {"after", "by_status", "by_category", "in_destination"},
		Slow:    {"quantile", "min_deliveries", "floor"},
		Lost:    {"after"},

		PredictedLate: {"margin"},
	}[t]
	for name, set := range map[string]bool{
		"after": ry.After.set, "by_status": ry.ByStatus.Kind != 0, "by_category": ry.ByCategory.Kind != 0,
		"in_destination": ry.InDestination.set, "quantile": ry.Quantile != nil, "min_deliveries": ry.MinDeliveries != nil,
		"floor": ry.Floor.set, "margin": ry.Margin.set,
	} {
		if set && !slices.Contains(allowed, name) {
			return Rule{}, fmt.Errorf("line %d: field %s does not apply to a %s rule", line, name, t)
		}
	}
	for _, d := range []durationYAML{ry.After, ry.InDestination} {
		if d.set && d.d == 0 {
			return Rule{}, fmt.Errorf("line %d: a limit of 0 would alert at once: give a positive duration", d.line)
		}
	}
	if ry.Escalate != nil && r.Escalate.After == 0 {
		return Rule{}, fmt.Errorf("line %d: escalate after 0: give a positive duration", ry.Escalate.After.line)
	}
	switch t {
	case Stalled:
		r.After = 72 * time.Hour
		if ry.After.set {
			r.After = ry.After.d
		}
		r.InDestination = ry.InDestination.d
		var err error
		if r.ByStatus, err = statusDurations(&ry.ByStatus); err != nil {
			return Rule{}, err
		}
		if r.ByCategory, err = categoryDurations(&ry.ByCategory); err != nil {
			return Rule{}, err
		}
	case Lost:
		r.After = 10 * 24 * time.Hour
		if ry.After.set {
			r.After = ry.After.d
		}
	case Slow:
		r.Quantile, r.MinDeliveries, r.Floor = 0.95, 30, 12*time.Hour
		if ry.Quantile != nil {
			if q := *ry.Quantile; !(q > 0.5 && q < 1) {
				return Rule{}, fmt.Errorf("line %d: quantile %v: want more than 0.5 and less than 1", line, q)
			}
			r.Quantile = *ry.Quantile
		}
		if ry.MinDeliveries != nil {
			if *ry.MinDeliveries < 1 {
				return Rule{}, fmt.Errorf("line %d: min_deliveries %v: want at least 1", line, *ry.MinDeliveries)
			}
			r.MinDeliveries = *ry.MinDeliveries
		}
		if ry.Floor.set {
			r.Floor = ry.Floor.d
		}
	case PredictedLate:
		r.Margin = ry.Margin.d
	}
	return r, nil
}

func parseTier(n *yaml.Node) (Tier, error) {
	t := Tier(n.Value)
	if t.Rank() == 0 {
		return "", fmt.Errorf("line %d: unknown tier %q: want info, warning or critical", n.Line, n.Value)
	}
	return t, nil
}

func typeList() string {
	s := make([]string, len(Types))
	for i, t := range Types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// mapping walks a YAML mapping of name: duration.
func mapping(n *yaml.Node, what string, fn func(key *yaml.Node, d time.Duration) error) error {
	if n.Kind == 0 {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: %s must map names to durations", n.Line, what)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		d, err := ParseDuration(v.Value)
		if err != nil || v.Kind != yaml.ScalarNode || d == 0 {
			return fmt.Errorf("line %d: invalid duration %q: want e.g. 72h, 3d or 90m", v.Line, v.Value)
		}
		if err := fn(k, d); err != nil {
			return err
		}
	}
	return nil
}

func statusDurations(n *yaml.Node) (map[schemas.Status]time.Duration, error) {
	out := map[schemas.Status]time.Duration{}
	err := mapping(n, "by_status", func(k *yaml.Node, d time.Duration) error {
		st, err := schemas.ParseStatus(k.Value)
		if err != nil {
			return fmt.Errorf("line %d: unknown status %q", k.Line, k.Value)
		}
		out[st] = d
		return nil
	})
	return out, err
}

func categoryDurations(n *yaml.Node) (map[schemas.Category]time.Duration, error) {
	out := map[schemas.Category]time.Duration{}
	err := mapping(n, "by_category", func(k *yaml.Node, d time.Duration) error {
		c, ok := parseCategory(k.Value)
		if !ok {
			return fmt.Errorf("line %d: unknown category %q", k.Line, k.Value)
		}
		out[c] = d
		return nil
	})
	return out, err
}

func parseCategory(s string) (schemas.Category, bool) {
	for c := schemas.Category(1); c < 64; c++ {
		if c.String() == s && s != schemas.CategoryUnknown.String() {
			return c, true
		}
	}
	return 0, false
}

// LoadRules reads a rules file; an empty path gives DefaultRules.
func LoadRules(path string) (*Rules, error) {
	if path == "" {
		return ParseRules(DefaultRules)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the rules file: %w", err)
	}
	r, err := ParseRules(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}
