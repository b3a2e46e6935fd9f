// Package macro turns a dashboard panel's SQL into what ClickHouse
// receives: Grafana's template variables interpolated and the macros of the
// official ClickHouse datasource (grafana-clickhouse-datasource) expanded,
// for a time range and a selection of each variable. The tests of package
// dashboards and the querytime tool run panels' SQL through it.
//
// It is written from the datasource's documented macro table (issue 10),
// not from its code, so that a test that runs expanded SQL checks the
// dashboards against that table rather than against themselves:
//
//	$__timeFilter(c)         c >= toDateTime(<from>) AND c <= toDateTime(<to>)   (Unix seconds)
//	$__dateFilter(c)         c >= toDate('YYYY-MM-DD') AND c <= toDate('YYYY-MM-DD')   (UTC days)
//	$__fromTime, $__toTime   toDateTime(<unix>)
//	$__interval_s            the interval in whole seconds, at least 1
//	$__conditionalAll(cond, $v)   cond, or 1=1 when $v is All or nothing is selected
//	${v:singlequote}         'a','b' (each ' escaped as \'), every option when All
//	$v, ${v}                 the single selected value
//
// $__timeInterval (toStartOfInterval) is refused: ClickHouse 18.16 lacks
// it. So is any other $ left after expansion: an unknown variable or macro
// is a mistake in the dashboard, not something to pass on.
package macro

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Var is one template variable's state.
type Var struct {
	// All is true when All is selected (multi-value variables with
	// includeAll); Selected is then ignored.
	All bool
	// Selected are the chosen values; none counts as All for
	// $__conditionalAll, as in the datasource.
	Selected []string
	// Options are all the values the variable offers (without All): what
	// ${v:singlequote} stands for when All is selected.
	Options []string
}

// Env is what a query is expanded for.
type Env struct {
	From, To time.Time     // the dashboard's time range
	Interval time.Duration // $__interval; $__interval_s is its whole seconds, at least 1
	Vars     map[string]Var
}

// values returns what v stands for in a list format.
func (v Var) values() []string {
	if v.All {
		return v.Options
	}
	return v.Selected
}

// conditionalAll is the macro the datasource's frontend expands before
// interpolating variables.
const conditionalAll = "$__conditionalAll("

// Expand returns sql as ClickHouse would receive it under env.
func Expand(sql string, env Env) (string, error) {
	s, err := expandConditionalAll(sql, env)
	if err != nil {
		return "", err
	}
	if s, err = interpolate(s, env); err != nil {
		return "", err
	}
	if s, err = expandMacros(s, env); err != nil {
		return "", err
	}
	if i := strings.IndexByte(s, '$'); i >= 0 {
		return "", fmt.Errorf("unexpanded %q in %s", around(s, i), s)
	}
	return s, nil
}

// expandConditionalAll replaces every $__conditionalAll(cond, $var), the
// last first, so that one nested in another's condition is already
// resolved when the outer one is.
func expandConditionalAll(s string, env Env) (string, error) {
	for {
		i := strings.LastIndex(s, conditionalAll)
		if i < 0 {
			return s, nil
		}
		args, end, err := macroArgs(s, i+len(conditionalAll)-1)
		if err != nil {
			return "", fmt.Errorf("$__conditionalAll at %q: %w", around(s, i), err)
		}
		if len(args) != 2 {
			return "", fmt.Errorf("$__conditionalAll at %q: want 2 arguments, got %d", around(s, i), len(args))
		}
		name, ok := varName(strings.TrimSpace(args[1]))
		if !ok {
			return "", fmt.Errorf("$__conditionalAll at %q: second argument %q is not a variable", around(s, i), args[1])
		}
		v, ok := env.Vars[name]
		if !ok {
			return "", fmt.Errorf("$__conditionalAll at %q: unknown variable %s", around(s, i), name)
		}
		phrase := args[0]
		if v.All || len(v.Selected) == 0 {
			phrase = "1=1"
		}
		s = s[:i] + phrase + s[end:]
	}
}

// macroArgs splits the parenthesised arguments that start at s[open] (a
// '(') on the commas outside nested parentheses and string literals, and
// returns them with the index after the closing parenthesis.
func macroArgs(s string, open int) (args []string, end int, err error) {
	depth, start := 0, open+1
	for i := open; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			j, err := skipString(s, i)
			if err != nil {
				return nil, 0, err
			}
			i = j
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return append(args, s[start:i]), i + 1, nil
			}
		case ',':
			if depth == 1 {
				args = append(args, s[start:i])
				start = i + 1
			}
		}
	}
	return nil, 0, errors.New("no closing parenthesis")
}

// skipString returns the index of the quote that closes the string literal
// opening at s[i].
func skipString(s string, i int) (int, error) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '\'':
			return j, nil
		}
	}
	return 0, errors.New("unterminated string literal")
}

var varRef = regexp.MustCompile(`^\$(?:\{(\w+)\}|(\w+))$`)

// varName returns the name of a lone variable reference, $v or ${v}.
func varName(s string) (string, bool) {
	m := varRef.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[1] + m[2], true
}

// ref matches a variable reference with an optional format; names that
// start with __ are macros or built-ins, left to expandMacros.
var ref = regexp.MustCompile(`\$\{(\w+)(?::(\w+))?\}|\$(\w+)`)

func interpolate(s string, env Env) (string, error) {
	var err error
	out := ref.ReplaceAllStringFunc(s, func(m string) string {
		sub := ref.FindStringSubmatch(m)
		name, format := sub[1]+sub[3], sub[2]
		if strings.HasPrefix(name, "__") {
			return m
		}
		v, ok := env.Vars[name]
		if !ok {
			if err == nil {
				err = fmt.Errorf("unknown variable %s", m)
			}
			return m
		}
		switch format {
		case "singlequote":
			vals := v.values()
			q := make([]string, len(vals))
			for i, x := range vals {
				q[i] = "'" + strings.ReplaceAll(x, "'", `\'`) + "'"
			}
			return strings.Join(q, ",")
		case "":
			if v.All || len(v.Selected) != 1 {
				if err == nil {
					err = fmt.Errorf("%s has %s selected: a raw reference needs exactly one value (use ${%s:singlequote})", m, describe(v), name)
				}
				return m
			}
			return v.Selected[0]
		default:
			if err == nil {
				err = fmt.Errorf("%s: format %q is not one the dashboards use", m, format)
			}
			return m
		}
	})
	return out, err
}

func describe(v Var) string {
	if v.All {
		return "All"
	}
	return fmt.Sprintf("%d values", len(v.Selected))
}

// macros lists the datasource macros this package expands, longest first
// where one name starts another.
var macros = []string{"$__timeFilter(", "$__dateFilter(", "$__fromTime", "$__toTime", "$__interval_s"}

func expandMacros(s string, env Env) (string, error) {
	if env.To.Before(env.From) {
		return "", fmt.Errorf("time range ends (%s) before it starts (%s)", env.To, env.From)
	}
	from, to := env.From.Unix(), env.To.Unix()
	interval := max(int64(env.Interval/time.Second), 1)
	dateTime := func(t int64) string { return "toDateTime(" + strconv.FormatInt(t, 10) + ")" }
	date := func(t time.Time) string { return "toDate('" + t.UTC().Format(time.DateOnly) + "')" }
	var b strings.Builder
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "$__")
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		b.WriteString(s[i : i+j])
		i += j
		name := ""
		for _, m := range macros {
			if strings.HasPrefix(s[i:], m) && !isWord(s, i+len(m), m) {
				name = m
				break
			}
		}
		switch name {
		case "$__timeFilter(", "$__dateFilter(":
			args, end, err := macroArgs(s, i+len(name)-1)
			if err != nil || len(args) != 1 || strings.TrimSpace(args[0]) == "" {
				return "", fmt.Errorf("%s at %q: want one column", strings.TrimSuffix(name, "("), around(s, i))
			}
			col := strings.TrimSpace(args[0])
			if name == "$__timeFilter(" {
				fmt.Fprintf(&b, "%s >= %s AND %s <= %s", col, dateTime(from), col, dateTime(to))
			} else {
				fmt.Fprintf(&b, "%s >= %s AND %s <= %s", col, date(env.From), col, date(env.To))
			}
			i = end
		case "$__fromTime":
			b.WriteString(dateTime(from))
			i += len(name)
		case "$__toTime":
			b.WriteString(dateTime(to))
			i += len(name)
		case "$__interval_s":
			b.WriteString(strconv.FormatInt(interval, 10))
			i += len(name)
		default:
			if strings.HasPrefix(s[i:], "$__timeInterval") {
				return "", fmt.Errorf("$__timeInterval at %q: ClickHouse 18.16 has no toStartOfInterval; bucket with intDiv(toUInt32(c), $__interval_s) * $__interval_s", around(s, i))
			}
			return "", fmt.Errorf("unknown macro at %q", around(s, i))
		}
	}
	return b.String(), nil
}

// isWord reports whether s[k] continues an identifier after macro m that
// takes no arguments ($__toTime_ms is not $__toTime).
func isWord(s string, k int, m string) bool {
	if strings.HasSuffix(m, "(") || k >= len(s) {
		return false
	}
	c := s[k]
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// around returns the text around s[i], for error messages.
func around(s string, i int) string {
	return s[max(i-20, 0):min(i+40, len(s))]
}

// Names returns the variables sql refers to, sorted, without macros and
// built-ins.
func Names(sql string) []string {
	seen := map[string]bool{}
	for _, m := range ref.FindAllStringSubmatch(sql, -1) {
		if n := m[1] + m[3]; !strings.HasPrefix(n, "__") {
			seen[n] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
