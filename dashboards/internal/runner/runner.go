// Package runner runs the SQL of shiplens' dashboards the way Grafana
// would: it resolves a dashboard's template variables in order (each query
// variable's options from its own SQL, expanded with the variables before
// it), then expands a panel's SQL for a time range and a selection with
// package macro. The tests of package dashboards and the querytime tool
// use it; it holds no test-only code.
package runner

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/shiplens/shiplens/dashboards"
	"github.com/shiplens/shiplens/dashboards/internal/macro"
)

// Null is how a NULL value reads in a Result, as in ClickHouse's
// TabSeparated output.
const Null = `\N`

// Result is the answer of a query: its columns and each row's values as
// text (numbers in Go's shortest form, times in UTC, NULL as Null).
type Result struct {
	Columns []dashboards.Column
	Rows    [][]string
}

// Engine runs one query.
type Engine func(ctx context.Context, sql string) (*Result, error)

// Selection chooses variable values: a multi-value variable not in it is
// on All, a text variable not in it keeps its default.
type Selection map[string][]string

// Env resolves the variables of d for the time range [from, to] and sel,
// running their queries on run, and returns what its panels' SQL is
// expanded with.
func Env(ctx context.Context, run Engine, d dashboards.Dashboard, from, to time.Time, interval time.Duration, sel Selection) (macro.Env, error) {
	env := macro.Env{From: from, To: to, Interval: interval, Vars: map[string]macro.Var{}}
	for _, v := range d.Variables {
		chosen, picked := sel[v.Name]
		switch v.Kind {
		case dashboards.Text, dashboards.Custom:
			if !picked {
				chosen = []string{v.Default}
			}
			if v.Kind == dashboards.Custom && (len(chosen) != 1 || !slices.Contains(v.Values, chosen[0])) {
				return env, fmt.Errorf("variable %s of %s offers %v, not %v", v.Name, d.UID, v.Values, chosen)
			}
			env.Vars[v.Name] = macro.Var{Selected: chosen, Options: chosen}
		case dashboards.Multi, dashboards.Hidden:
			sql, err := macro.Expand(v.SQL, env)
			if err != nil {
				return env, fmt.Errorf("variable %s of %s: %w", v.Name, d.UID, err)
			}
			res, err := run(ctx, sql)
			if err != nil {
				return env, fmt.Errorf("variable %s of %s: %w", v.Name, d.UID, err)
			}
			var opts []string
			for _, r := range res.Rows {
				opts = append(opts, r[0])
			}
			mv := macro.Var{Options: opts}
			switch {
			case v.Kind == dashboards.Hidden:
				if len(opts) != 1 {
					return env, fmt.Errorf("hidden variable %s of %s has %d values, want 1", v.Name, d.UID, len(opts))
				}
				mv.Selected = opts
			case picked:
				mv.Selected = chosen
			default:
				mv.All = true
			}
			env.Vars[v.Name] = mv
		default:
			return env, fmt.Errorf("variable %s of %s: unknown kind %q", v.Name, d.UID, v.Kind)
		}
	}
	return env, nil
}

// Native returns an Engine over a clickhouse-go connection.
func Native(conn driver.Conn) Engine {
	return func(ctx context.Context, sql string) (*Result, error) {
		rows, err := conn.Query(ctx, sql)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		types := rows.ColumnTypes()
		res := &Result{}
		for _, ct := range types {
			res.Columns = append(res.Columns, dashboards.Column{Name: ct.Name(), Type: ct.DatabaseTypeName()})
		}
		for rows.Next() {
			dest := make([]any, len(types))
			for i, ct := range types {
				dest[i] = reflect.New(ct.ScanType()).Interface()
			}
			if err := rows.Scan(dest...); err != nil {
				return nil, err
			}
			row := make([]string, len(dest))
			for i, d := range dest {
				row[i] = text(reflect.ValueOf(d).Elem(), types[i].DatabaseTypeName())
			}
			res.Rows = append(res.Rows, row)
		}
		return res, rows.Err()
	}
}

// text renders a scanned value as a Result holds it.
func text(v reflect.Value, typ string) string {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return Null
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case string:
		return x
	case time.Time:
		if strings.TrimPrefix(strings.TrimSuffix(typ, ")"), "Nullable(") == "Date" {
			return x.Format(time.DateOnly)
		}
		return x.UTC().Format(time.DateTime)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	return fmt.Sprint(v.Interface())
}

// Time runs sql n times on run and returns the median duration and the
// last result.
func Time(ctx context.Context, run Engine, sql string, n int) (time.Duration, *Result, error) {
	var (
		took []time.Duration
		res  *Result
	)
	for range n {
		began := time.Now()
		r, err := run(ctx, sql)
		if err != nil {
			return 0, nil, err
		}
		took = append(took, time.Since(began))
		res = r
	}
	for i := range took {
		for j := i + 1; j < len(took); j++ {
			if took[j] < took[i] {
				took[i], took[j] = took[j], took[i]
			}
		}
	}
	return took[len(took)/2], res, nil
}
