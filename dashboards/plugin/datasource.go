// Package plugin is shiplens' Grafana backend data source,
// shiplens-analytics-datasource: the carrier scorecard, transit-time
// percentiles per day, ETA lookups and what-if quotes, open alerts and the
// pipeline's throughput, read from shiplens' ClickHouse database through
// package store and served to Grafana over the plugin SDK's gRPC protocol
// (cmd/gpx_shiplens_analytics_datasource starts it with datasource.Manage).
//
// One Datasource serves one Grafana data source (instance settings:
// Settings). It answers:
//
//   - QueryData: one frame per query, by the query's queryType (query.go):
//     scorecard, lane_percentiles, eta_lookup, quote, open_alerts and
//     throughput (whose frame names the Grafana Live channel that keeps it
//     current).
//   - Streams (stream.go), on channels ds/<uid>/throughput and
//     ds/<uid>/alerts: the processor's events per second and lag from
//     pipeline_stats, and alert transitions as they are stored.
//   - CheckHealth: whether ClickHouse answers, with these credentials, and
//     which schema version its database has.
//   - CallResource (resource.go): GET carriers and lanes for the query
//     editor.
//
// It reads only; it never migrates, writes or deletes. Its own SQL (the
// schema version, distinct carriers and lanes, pipeline_stats and the
// alert transitions a stream follows) is in sql.go; everything else goes
// through store's queries, so that the panels show the figures `shiplens
// report`, `shiplens eta` and the HTTP API give. It must not import cmd or
// any test-only package.
package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/resource/httpadapter"

	"github.com/shiplens/shiplens/api"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/store"
)

// ID is the plugin id of plugin.json.
const ID = "shiplens-analytics-datasource"

// Options tune a Datasource: its streams, its model cache and its clock.
// The zero value is what Grafana runs.
type Options struct {
	PollInterval      time.Duration // how often the throughput stream reads pipeline_stats; defaults to 1s
	AlertPollInterval time.Duration // how often the alerts stream reads alerts; defaults to 2s
	// Settle is how long after a second has passed it is sent on the
	// throughput stream, so that the flushes of that second have landed;
	// defaults to 2s. Flush rows stored later than that are not streamed
	// (a query of the range still counts them).
	Settle  time.Duration
	Backlog time.Duration // throughput history sent to a new subscriber; defaults to 5m
	// AlertLookback is how far back in event time (alerts.at) each poll of
	// the alerts stream looks for transitions not sent yet: partitions'
	// watermarks differ, so a transition stored later can carry an earlier
	// at. Defaults to 1h.
	AlertLookback time.Duration
	ModelRefresh  time.Duration // how often the ETA model is read again; defaults to a minute
	Now           func() time.Time
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PollInterval, time.Second)
	def(&o.AlertPollInterval, 2*time.Second)
	def(&o.Settle, 2*time.Second)
	def(&o.Backlog, 5*time.Minute)
	def(&o.AlertLookback, time.Hour)
	def(&o.ModelRefresh, time.Minute)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Datasource is one shiplens data source of a Grafana organisation.
type Datasource struct {
	uid    string
	cfg    store.Config
	opts   Options
	models *api.Models
	res    backend.CallResourceHandler

	mu sync.Mutex
	st *store.Store // nil until the first call that reached ClickHouse
}

var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ backend.StreamHandler         = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// Factory returns the instance factory of datasource.Manage, building each
// data source with opts.
func Factory(opts Options) datasource.InstanceFactoryFunc {
	return func(ctx context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
		return New(s, opts)
	}
}

// NewDatasource is the instance factory Grafana runs.
var NewDatasource = Factory(Options{})

// New builds the data source of settings s. It does not connect: ClickHouse
// may be down when Grafana starts, and CheckHealth says why it cannot be
// reached. Invalid settings fail with an error wrapping ErrSettings, marked
// as the user's to fix (backend.DownstreamError).
func New(s backend.DataSourceInstanceSettings, opts Options) (*Datasource, error) {
	set, err := LoadSettings(s)
	if err != nil {
		return nil, backend.DownstreamError(err)
	}
	cfg, err := set.Store()
	if err != nil {
		return nil, backend.DownstreamError(err)
	}
	d := &Datasource{uid: s.UID, cfg: cfg, opts: opts.withDefaults()}
	d.models = &api.Models{Source: modelSource{d}, Refresh: d.opts.ModelRefresh}
	d.res = httpadapter.New(d.resources())
	return d, nil
}

// Dispose closes the connection; Grafana calls it when the settings change.
func (d *Datasource) Dispose() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.st != nil {
		d.st.Close()
		d.st = nil
	}
}

// store returns the connection, opening it on first use. A failure is
// not kept: the next call tries again.
func (d *Datasource) store(ctx context.Context) (*store.Store, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.st != nil {
		return d.st, nil
	}
	st, err := store.Open(ctx, d.cfg)
	if err != nil {
		return nil, explain(d.cfg, err)
	}
	d.st = st
	return st, nil
}

// modelSource reads the ETA model through the data source's connection.
type modelSource struct{ d *Datasource }

func (m modelSource) LatestModel(ctx context.Context) (uint32, []byte, bool, error) {
	st, err := m.d.store(ctx)
	if err != nil {
		return 0, nil, false, err
	}
	return st.LatestModel(ctx)
}

// ClickHouse exception codes that mean the credentials were refused.
const (
	codeUnknownUser          = 192
	codeWrongPassword        = 193
	codeRequiredPassword     = 194
	codeAuthenticationFailed = 516
	codeUnknownTable         = 60
)

// explain turns a failure to connect into a message a Grafana user can act
// on.
func explain(cfg store.Config, err error) error {
	var ex *clickhouse.Exception
	var nerr net.Error
	switch {
	case errors.As(err, &ex) && (ex.Code == codeUnknownUser || ex.Code == codeWrongPassword ||
		ex.Code == codeRequiredPassword || ex.Code == codeAuthenticationFailed):
		return fmt.Errorf("ClickHouse at %s refused user %q: wrong password or unknown user (code %d: %s)", cfg.Addr, cfg.User, ex.Code, ex.Message)
	case errors.Is(err, store.ErrNoDatabase):
		return fmt.Errorf("ClickHouse at %s has no database %s: run %s first", cfg.Addr, cfg.Database, migrateHint(cfg))
	case errors.As(err, &nerr), errors.Is(err, context.DeadlineExceeded):
		if strings.HasPrefix(err.Error(), "cannot reach ClickHouse") { // store.Open's own
			return err
		}
		return fmt.Errorf("cannot reach ClickHouse at %s: %w", cfg.Addr, err)
	}
	return err
}

// migrateHint is the command that migrates cfg's database (without the password).
func migrateHint(cfg store.Config) string {
	addr := cfg.Addr
	if cfg.Database != store.DefaultDatabase || cfg.User != "default" {
		addr = "clickhouse://" + cfg.User + "@" + cfg.Addr + "/" + cfg.Database
	}
	return "`shiplens migrate --clickhouse " + addr + "`"
}

// CheckHealth reports whether ClickHouse answers with these settings, and
// the schema version of the database: OK when it has every migration this
// build knows, an error saying what to do otherwise.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	fail := func(err error) (*backend.CheckHealthResult, error) {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: err.Error()}, nil
	}
	st, err := d.store(ctx)
	if err != nil {
		return fail(err)
	}
	version, err := schemaVersion(ctx, st)
	if err != nil {
		var ex *clickhouse.Exception
		if errors.As(err, &ex) && ex.Code == codeUnknownTable {
			return fail(fmt.Errorf("database %s at %s has no schema_migrations table: run %s first", d.cfg.Database, d.cfg.Addr, migrateHint(d.cfg)))
		}
		return fail(explain(d.cfg, err))
	}
	want, err := latestMigration()
	if err != nil {
		return fail(err)
	}
	server := "ClickHouse"
	if v, err := st.Conn().ServerVersion(); err == nil {
		server += " " + v.Version.String()
	}
	details, _ := json.Marshal(map[string]any{"schemaVersion": version, "latestSchemaVersion": want, "server": server, "database": d.cfg.Database})
	msg := fmt.Sprintf("%s at %s, database %s: schema version %d", server, d.cfg.Addr, d.cfg.Database, version)
	if version < want {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, JSONDetails: details,
			Message: fmt.Sprintf("%s, this plugin needs %d: run %s", msg, want, migrateHint(d.cfg))}, nil
	}
	if version > want {
		msg += fmt.Sprintf(" (newer than this plugin's %d)", want)
	}
	return &backend.CheckHealthResult{Status: backend.HealthStatusOk, Message: msg, JSONDetails: details}, nil
}

// latestMigration is the highest migration version this build ships.
func latestMigration() (uint32, error) {
	migs, err := schemas.Migrations()
	if err != nil {
		return 0, err
	}
	var v uint32
	for _, m := range migs {
		v = max(v, uint32(m.Version))
	}
	return v, nil
}

// CallResource serves the query editor's lists (resource.go).
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	return d.res.CallResource(ctx, req, sender)
}
