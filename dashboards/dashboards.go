package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
)

// The provisioned datasources (provisioning/datasources/shiplens.yaml),
// which every panel references by uid.
const (
	ClickHouseUID  = "shiplens-clickhouse"
	ClickHouseType = "grafana-clickhouse-datasource"
	AnalyticsUID   = "shiplens-analytics"
	AnalyticsType  = "shiplens-analytics-datasource"
)

// Tag is on every dashboard; the dashboards' link menus list the others by it.
const Tag = "shiplens"

// Format is how the ClickHouse datasource shapes a query's rows: the
// format field of its query model.
type Format int

const (
	// TimeSeries turns rows of (time, labels..., values...) into one
	// series per label set; the rows must be sorted by time.
	TimeSeries Format = 0
	// Table passes the rows on as they are.
	Table Format = 1
)

func (f Format) queryType() string {
	if f == TimeSeries {
		return "timeseries"
	}
	return "table"
}

// Column is a column a query returns.
type Column struct {
	Name string
	Type string // ClickHouse type name, e.g. Nullable(Float64)
}

// Query is one SQL query of a dashboard, as Grafana sends it before
// interpolation: a panel target or a variable's options.
type Query struct {
	Dashboard string // uid
	Panel     string // panel title, or "variable <name>"
	RefID     string // the target's refId; "" for a variable
	SQL       string // with Grafana variables and ClickHouse datasource macros
	Format    Format
	Columns   []Column // what it returns, in order
	// Main queries must return rows over a workload with deliveries,
	// predictions, alerts and flushes in the selected range.
	Main bool
}

// VariableKind is how a template variable gets its value.
type VariableKind string

const (
	// Multi is a query variable offering the values its SQL returns,
	// several at once or All.
	Multi VariableKind = "multi"
	// Hidden is a query variable the user does not see: the one value its
	// SQL returns, from the other variables.
	Hidden VariableKind = "hidden"
	// Text is a free-text variable.
	Text VariableKind = "textbox"
	// Custom is a choice among fixed values.
	Custom VariableKind = "custom"
)

// Variable is one template variable of a dashboard.
type Variable struct {
	Name    string
	Kind    VariableKind
	SQL     string   // for Multi and Hidden: the query of its options (also in Queries)
	Default string   // for Text and Custom: its initial value
	Values  []string // for Custom: the values offered
}

// Dashboard is one rendered dashboard.
type Dashboard struct {
	UID       string
	File      string // name of its JSON file in dashboards/json
	Title     string
	JSON      []byte
	Variables []Variable // in the order Grafana resolves them
	Queries   []Query    // the variables' and the panels' SQL
}

// Build renders every dashboard.
func Build() ([]Dashboard, error) {
	var out []Dashboard
	for _, def := range []func() *board{carriers, lanes, customs, exceptions, etaBoard, pipeline} {
		b := def()
		d, err := b.render()
		if err != nil {
			return nil, fmt.Errorf("cannot build dashboard %s: %w", b.uid, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// board collects one dashboard while its definition adds panels.
type board struct {
	uid, file, title string
	b                *dashboard.DashboardBuilder
	queries          []Query
	vars             []Variable
	errs             []error
	x, y, rowH       uint32 // the next free grid cell and the height of the current line
	nextID           uint32
}

func newBoard(uid, file, title, description string) *board {
	b := &board{uid: uid, file: file, title: title}
	b.b = dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags([]string{Tag}).
		Editable().
		Timezone("utc").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Time("now-30d", "now").
		Link(dashboard.NewDashboardLinkBuilder("shiplens").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{Tag}).
			AsDropdown(true).
			IncludeVars(true).
			KeepTime(true))
	return b
}

// place returns the grid position of the next panel, w of 24 columns wide
// and h high, starting a new line when it does not fit on this one.
func (b *board) place(w, h uint32) dashboard.GridPos {
	if b.x+w > 24 {
		b.newLine()
	}
	p := dashboard.GridPos{X: b.x, Y: b.y, W: w, H: h}
	b.x += w
	b.rowH = max(b.rowH, h)
	return p
}

func (b *board) newLine() {
	b.y += b.rowH
	b.x, b.rowH = 0, 0
}

// row starts a titled row of panels.
func (b *board) row(title string) {
	b.newLine()
	b.nextID++
	b.b.WithRow(dashboard.NewRowBuilder(title).Id(b.nextID).GridPos(dashboard.GridPos{X: 0, Y: b.y, W: 24, H: 1}))
	b.y++
}

// add adds a panel, giving it the next id.
func (b *board) add(p cog.Builder[dashboard.Panel]) {
	b.nextID++
	b.b.WithPanel(idPanel{p, b.nextID})
}

// idPanel sets a panel's id, which the SDK leaves to the caller.
type idPanel struct {
	p  cog.Builder[dashboard.Panel]
	id uint32
}

func (p idPanel) Build() (dashboard.Panel, error) {
	panel, err := p.p.Build()
	if err != nil {
		return panel, buildErr(fmt.Sprintf("panel %d", p.id), err)
	}
	panel.Id = &p.id
	return panel, nil
}

// sql returns a ClickHouse target of panel and records its query.
func (b *board) sql(panel string, f Format, sql string, cols []Column, main bool) ClickHouseQuery {
	ref := "A"
	for _, q := range b.queries {
		if q.Panel == panel {
			ref = string(rune(q.RefID[0] + 1))
		}
	}
	sql = strings.TrimSpace(sql)
	b.queries = append(b.queries, Query{Dashboard: b.uid, Panel: panel, RefID: ref, SQL: sql, Format: f, Columns: cols, Main: main})
	return ClickHouseQuery{RefID: ref, Datasource: clickhouse(), EditorType: "sql", QueryType: f.queryType(), Format: f, RawSQL: sql}
}

func (b *board) render() (Dashboard, error) {
	if err := errors.Join(b.errs...); err != nil {
		return Dashboard{}, err
	}
	d, err := b.b.Build()
	if err != nil {
		return Dashboard{}, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return Dashboard{}, err
	}
	out, err := unescapeHTML(buf.Bytes())
	if err != nil {
		return Dashboard{}, err
	}
	return Dashboard{UID: b.uid, File: b.file, Title: b.title, JSON: out, Variables: b.vars, Queries: b.queries}, nil
}

// unescapeHTML writes <, > and & as themselves: the SDK's types marshal
// with encoding/json's HTML escaping, which makes the SQL in the files hard
// to read. It checks that the JSON means the same after.
func unescapeHTML(j []byte) ([]byte, error) {
	out := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(j))
	var before, after any
	if err := json.Unmarshal(j, &before); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(out), &after); err != nil || !reflect.DeepEqual(before, after) {
		return nil, fmt.Errorf("cannot unescape the dashboard JSON (%v)", err)
	}
	return []byte(out), nil
}

func ref(typ, uid string) common.DataSourceRef { return common.DataSourceRef{Type: &typ, Uid: &uid} }

// clickhouse references the ClickHouse datasource.
func clickhouse() common.DataSourceRef { return ref(ClickHouseType, ClickHouseUID) }

// analyticsDS references shiplens' plugin datasource.
func analyticsDS() common.DataSourceRef { return ref(AnalyticsType, AnalyticsUID) }

// ClickHouseQuery is a target of the ClickHouse datasource: raw SQL, as
// its SQL editor saves it.
type ClickHouseQuery struct {
	RefID      string               `json:"refId"`
	Datasource common.DataSourceRef `json:"datasource"`
	EditorType string               `json:"editorType"` // sql
	QueryType  string               `json:"queryType"`  // table or timeseries
	Format     Format               `json:"format"`
	RawSQL     string               `json:"rawSql"`
}

var _ variants.Dataquery = ClickHouseQuery{}

// ImplementsDataqueryVariant marks ClickHouseQuery as a panel target.
func (ClickHouseQuery) ImplementsDataqueryVariant() {}

// DataqueryType returns the datasource type.
func (ClickHouseQuery) DataqueryType() string { return ClickHouseType }

// Validate reports a target the datasource cannot run.
func (q ClickHouseQuery) Validate() error {
	if q.RefID == "" || strings.TrimSpace(q.RawSQL) == "" {
		return errors.New("a ClickHouse target needs a refId and SQL")
	}
	return nil
}

// Equals reports whether other is the same target.
func (q ClickHouseQuery) Equals(other variants.Dataquery) bool { return reflect.DeepEqual(q, other) }

// Build returns q: a target is its own builder.
func (q ClickHouseQuery) Build() (variants.Dataquery, error) {
	return q, buildErr("target "+q.RefID, q.Validate())
}

// AnalyticsQuery is a target of shiplens' plugin datasource: its query
// model (dashboards/plugin), of which the dashboards use eta_lookup and
// quote. Values may hold Grafana variables, which the plugin's frontend
// interpolates.
type AnalyticsQuery struct {
	RefID          string               `json:"refId"`
	Datasource     common.DataSourceRef `json:"datasource"`
	QueryType      string               `json:"queryType"` // scorecard, lane_percentiles, eta_lookup, quote, open_alerts
	Carrier        string               `json:"carrier,omitempty"`
	Lane           string               `json:"lane,omitempty"`
	Service        string               `json:"service,omitempty"`
	TrackingNumber string               `json:"trackingNumber,omitempty"`
	Deadline       string               `json:"deadline,omitempty"`
}

var _ variants.Dataquery = AnalyticsQuery{}

// ImplementsDataqueryVariant marks AnalyticsQuery as a panel target.
func (AnalyticsQuery) ImplementsDataqueryVariant() {}

// DataqueryType returns the datasource type.
func (AnalyticsQuery) DataqueryType() string { return AnalyticsType }

// Validate reports a target the plugin cannot run.
func (q AnalyticsQuery) Validate() error {
	switch q.QueryType {
	case "scorecard", "lane_percentiles", "eta_lookup", "quote", "open_alerts":
	default:
		return fmt.Errorf("unknown plugin queryType %q", q.QueryType)
	}
	if q.RefID == "" {
		return errors.New("a plugin target needs a refId")
	}
	return nil
}

// Equals reports whether other is the same target.
func (q AnalyticsQuery) Equals(other variants.Dataquery) bool { return reflect.DeepEqual(q, other) }

// Build returns q: a target is its own builder.
func (q AnalyticsQuery) Build() (variants.Dataquery, error) {
	return q, buildErr("target "+q.RefID, q.Validate())
}

// buildErr wraps err as the SDK's builders expect the errors of nested
// builders: cog.BuildErrors.
func buildErr(path string, err error) error {
	if err == nil {
		return nil
	}
	return cog.MakeBuildErrors(path, err)
}

// cols parses column declarations, "name Type" each.
func cols(decl ...string) []Column {
	out := make([]Column, len(decl))
	for i, d := range decl {
		name, typ, ok := strings.Cut(d, " ")
		if !ok {
			panic("dashboards: column declaration without a type: " + d)
		}
		out[i] = Column{Name: name, Type: typ}
	}
	return out
}

// link is a data link on a field, opening another view in the same tab.
func link(title, url string) map[string]any {
	return map[string]any{"title": title, "url": url, "targetBlank": false}
}

// links overrides the data links of field.
func links(field string, ls ...map[string]any) cog.Builder[dashboard.DashboardFieldConfigSourceOverrides] {
	return dashboard.NewDashboardFieldConfigSourceOverridesBuilder().
		Matcher(dashboard.MatcherConfig{Id: "byName", Options: field}).
		Properties([]dashboard.DynamicConfigValue{{Id: "links", Value: ls}})
}

// unitOf overrides the unit of fields.
func unitOf(unit string, fields ...string) []cog.Builder[dashboard.DashboardFieldConfigSourceOverrides] {
	var out []cog.Builder[dashboard.DashboardFieldConfigSourceOverrides]
	for _, f := range fields {
		out = append(out, dashboard.NewDashboardFieldConfigSourceOverridesBuilder().
			Matcher(dashboard.MatcherConfig{Id: "byName", Options: f}).
			Properties([]dashboard.DynamicConfigValue{{Id: "unit", Value: unit}}))
	}
	return out
}

// customVar is a choice of one of fixed values, each {text, value}.
func (b *board) customVar(name, label, description string, choices [][2]string, value string) cog.Builder[dashboard.VariableModel] {
	var parts, values []string
	var opts []dashboard.VariableOption
	text := value
	for _, c := range choices {
		parts = append(parts, c[0]+" : "+c[1])
		values = append(values, c[1])
		o := option(c[0], c[1])
		if c[1] == value {
			text = c[0]
		} else {
			o.Selected = nil
		}
		opts = append(opts, o)
	}
	b.vars = append(b.vars, Variable{Name: name, Kind: Custom, Default: value, Values: values})
	q := strings.Join(parts, ", ")
	return dashboard.NewCustomVariableBuilder(name).
		Label(label).
		Description(description).
		Values(dashboard.StringOrMap{String: &q}).
		Current(option(text, value)).
		Options(opts)
}

// figures is a stat panel showing each number of a one-row query beside
// its name.
func figures() *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Datasource(clickhouse()).
		GraphMode(common.BigValueGraphModeNone).
		TextMode(common.BigValueTextModeValueAndName).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false).Fields("/.*/"))
}

// textVar is a free-text variable.
func (b *board) textVar(name, label, value, description string) cog.Builder[dashboard.VariableModel] {
	b.vars = append(b.vars, Variable{Name: name, Kind: Text, Default: value})
	return dashboard.NewTextBoxVariableBuilder(name).
		Label(label).
		Description(description).
		DefaultValue(dashboard.StringOrMap{String: &value}).
		Current(option(value, value))
}

func option(text, value string) dashboard.VariableOption {
	yes := true
	return dashboard.VariableOption{Selected: &yes,
		Text: dashboard.StringOrArrayOfString{String: &text}, Value: dashboard.StringOrArrayOfString{String: &value}}
}

// allOption is the current value of a multi-value variable on All.
func allOption() dashboard.VariableOption {
	yes := true
	return dashboard.VariableOption{Selected: &yes,
		Text: dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}}, Value: dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}}}
}

// queryVar is a ClickHouse query variable: multi-value with All, refreshed
// when the time range changes (its options are the values seen in the
// range), recorded as a query of b.
func (b *board) queryVar(name, label, description, sql string) cog.Builder[dashboard.VariableModel] {
	sql = strings.TrimSpace(sql)
	b.queries = append(b.queries, Query{Dashboard: b.uid, Panel: "variable " + name, SQL: sql, Format: Table,
		Columns: []Column{{Name: name, Type: "String"}}, Main: true})
	b.vars = append(b.vars, Variable{Name: name, Kind: Multi, SQL: sql})
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Description(description).
		Datasource(clickhouse()).
		Query(dashboard.StringOrMap{String: &sql}).
		Definition(sql).
		Multi(true).
		IncludeAll(true).
		Current(allOption()).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
}

// hiddenVar is a ClickHouse query variable the user does not see: one
// value computed from the others.
func (b *board) hiddenVar(name, description, sql, initial string) cog.Builder[dashboard.VariableModel] {
	sql = strings.TrimSpace(sql)
	b.queries = append(b.queries, Query{Dashboard: b.uid, Panel: "variable " + name, SQL: sql, Format: Table,
		Columns: []Column{{Name: name, Type: "String"}}, Main: true})
	b.vars = append(b.vars, Variable{Name: name, Kind: Hidden, SQL: sql})
	return dashboard.NewQueryVariableBuilder(name).
		Description(description).
		Hide(dashboard.VariableHideHideVariable).
		Datasource(clickhouse()).
		Query(dashboard.StringOrMap{String: &sql}).
		Definition(sql).
		Current(option(initial, initial)).
		Refresh(dashboard.VariableRefreshOnDashboardLoad)
}

// filterVars adds the carrier, lane, service and merchant variables and,
// with days, the hidden aggregates variable that picks the table the
// panels on daily aggregates read.
func (b *board) filterVars(days bool) {
	b.b.WithVariable(b.queryVar("carrier", "Carrier", "Carriers delivering in the time range.", carrierOptionsSQL))
	b.b.WithVariable(b.queryVar("lane", "Lane", "Lanes (origin-destination) of the selected carriers in the time range.", laneOptionsSQL))
	b.b.WithVariable(b.queryVar("service", "Service", "The carriers' products (express, standard, economy, ...); a choice other than All reads shipment_days.", serviceOptionsSQL))
	b.b.WithVariable(b.queryVar("merchant", "Merchant", "Merchants shipping in the time range; a choice other than All reads shipment_days.", merchantOptionsSQL))
	if days {
		b.b.WithVariable(b.hiddenVar("aggregates", "The daily aggregates the panels read: carrier_days (rolled up over service and merchant) unless service or merchant is filtered.", aggregatesSQL, "carrier_days"))
	}
}
