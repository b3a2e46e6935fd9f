package plugin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/shiplens/shiplens/store"
)

// The stream paths: Grafana Live channels ds/<uid>/throughput and
// ds/<uid>/alerts.
const (
	PathThroughput = "throughput"
	PathAlerts     = "alerts"
)

const (
	// alertPage bounds the transitions one poll reads at a time.
	alertPage = 1000
	// alertBacklog is how many of the latest transitions a new subscriber
	// of the alerts stream gets.
	alertBacklog = 100
)

// SubscribeStream admits subscribers of the two paths and hands each the
// recent history: the throughput of the last Backlog, the latest alert
// transitions. When ClickHouse cannot be read, the subscription still
// succeeds without history; the stream keeps trying.
func (d *Datasource) SubscribeStream(ctx context.Context, req *backend.SubscribeStreamRequest) (*backend.SubscribeStreamResponse, error) {
	var history func(context.Context, *store.Store) (*data.Frame, error)
	switch req.Path {
	case PathThroughput:
		history = d.throughputHistory
	case PathAlerts:
		history = func(ctx context.Context, st *store.Store) (*data.Frame, error) {
			ts, err := transitions(ctx, st, latestTransitionsSQL(alertBacklog))
			slices.Reverse(ts)
			return transitionFrame(ts), err
		}
	default:
		return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusNotFound}, nil
	}
	resp := &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusOK}
	st, err := d.store(ctx)
	var f *data.Frame
	if err == nil {
		f, err = history(ctx, st)
	}
	if err != nil {
		log.DefaultLogger.Warn("cannot read the history of a stream", "path", req.Path, "err", err)
		return resp, nil
	}
	if resp.InitialData, err = backend.NewInitialFrame(f, data.IncludeAll); err != nil {
		return nil, fmt.Errorf("cannot encode the history of stream %s: %w", req.Path, err)
	}
	return resp, nil
}

// PublishStream refuses: the streams are read-only.
func (d *Datasource) PublishStream(context.Context, *backend.PublishStreamRequest) (*backend.PublishStreamResponse, error) {
	return &backend.PublishStreamResponse{Status: backend.PublishStreamStatusPermissionDenied}, nil
}

// RunStream sends what is new on a path until ctx ends (Grafana cancels it
// when the last subscriber leaves). Failures to read ClickHouse are logged
// and retried at the next poll; a failure to send ends the stream.
func (d *Datasource) RunStream(ctx context.Context, req *backend.RunStreamRequest, sender *backend.StreamSender) error {
	switch req.Path {
	case PathThroughput:
		return d.runThroughput(ctx, sender)
	case PathAlerts:
		return d.runAlerts(ctx, sender)
	}
	return fmt.Errorf("unknown stream path %q: want %s or %s", req.Path, PathThroughput, PathAlerts)
}

// settled returns the latest second whose flushes have landed.
func (d *Datasource) settled() uint32 {
	return uint32(max(d.opts.Now().Add(-d.opts.Settle).Unix(), 0))
}

// throughputHistory is the throughput, per second, of the Backlog before
// the latest settled second.
func (d *Datasource) throughputHistory(ctx context.Context, st *store.Store) (*data.Frame, error) {
	to := d.settled()
	from := to - min(uint32(d.opts.Backlog/time.Second), to)
	rows, err := stats(ctx, st, from-min(lagStale, from), to, 1)
	if err != nil {
		return nil, err
	}
	var c lagCarry
	// The minute before from only fills in the partitions' lags.
	c.frame(rows, from-min(lagStale, from), from-1, 1)
	return c.frame(rows, from, to, 1), nil
}

// runThroughput sends, about every PollInterval, one row per second since
// the last one sent (zero events for a second without flushes).
func (d *Datasource) runThroughput(ctx context.Context, sender *backend.StreamSender) error {
	last := d.settled() // subscribers got the seconds up to here as history
	var c lagCarry
	if st, err := d.store(ctx); err == nil {
		if rows, err := stats(ctx, st, last-min(lagStale, last), last, 1); err == nil {
			c.frame(rows, last-min(lagStale, last), last, 1)
		}
	}
	tick := time.NewTicker(d.opts.PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		upto := d.settled()
		if upto <= last {
			continue
		}
		// After an outage, resume with the Backlog rather than everything missed.
		last = max(last, upto-min(uint32(d.opts.Backlog/time.Second), upto))
		st, err := d.store(ctx)
		var rows []statRow
		if err == nil {
			rows, err = stats(ctx, st, last+1, upto, 1)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.DefaultLogger.Warn("throughput stream: cannot read pipeline_stats", "err", err)
			continue
		}
		if err := sender.SendFrame(c.frame(rows, last+1, upto, 1), data.IncludeAll); err != nil {
			return fmt.Errorf("cannot send on the throughput stream: %w", err)
		}
		last = upto
	}
}

// errSend marks a failure to send on a stream, which ends it.
var errSend = errors.New("stream closed")

func isSend(err error) bool { return errors.Is(err, errSend) }

// alertCursor is where the alerts stream is: the transitions sent (or
// seen before it started) within AlertLookback of the latest at.
type alertCursor struct {
	sent   map[string]time.Time // transition id → at
	latest time.Time            // the latest at seen
}

// poll reads the transitions from AlertLookback before the latest at on,
// page by page, and calls send with those not seen yet, in (at,
// transition id) order.
func (c *alertCursor) poll(ctx context.Context, st *store.Store, lookback time.Duration, send func([]transition) error) error {
	lower := c.latest.Add(-lookback)
	at, id := lower.Unix(), ""
	for {
		rows, err := transitions(ctx, st, transitionsSQL(at, id, alertPage))
		if err != nil {
			return err
		}
		var fresh []transition
		for _, r := range rows {
			if _, ok := c.sent[r.TransitionID]; !ok {
				fresh = append(fresh, r)
				c.sent[r.TransitionID] = r.At
			}
			if r.At.After(c.latest) {
				c.latest = r.At
			}
		}
		if len(fresh) > 0 {
			if err := send(fresh); err != nil {
				return err
			}
		}
		if len(rows) < alertPage {
			break
		}
		at, id = rows[len(rows)-1].At.Unix(), rows[len(rows)-1].TransitionID
	}
	// Keep what the next poll reads again, from its lower bound on.
	lower = c.latest.Add(-lookback)
	for tid, t := range c.sent {
		if t.Before(lower) {
			delete(c.sent, tid)
		}
	}
	return nil
}

// runAlerts sends, about every AlertPollInterval, the alert transitions
// stored since the last poll. The transitions present when it starts are
// history (SubscribeStream's) and are not sent.
func (d *Datasource) runAlerts(ctx context.Context, sender *backend.StreamSender) error {
	c := alertCursor{sent: map[string]time.Time{}}
	started := false
	tick := time.NewTicker(d.opts.AlertPollInterval)
	defer tick.Stop()
	for {
		st, err := d.store(ctx)
		if err == nil && !started {
			if c.latest, err = latestAlertAt(ctx, st); err == nil {
				err = c.poll(ctx, st, d.opts.AlertLookback, func([]transition) error { return nil })
				started = err == nil
			}
		} else if err == nil {
			err = c.poll(ctx, st, d.opts.AlertLookback, func(ts []transition) error {
				if err := sender.SendFrame(transitionFrame(ts), data.IncludeAll); err != nil {
					return fmt.Errorf("%w: %v", errSend, err)
				}
				return nil
			})
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && isSend(err):
			return fmt.Errorf("cannot send on the alerts stream: %w", err)
		case err != nil:
			log.DefaultLogger.Warn("alerts stream: cannot read alerts", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// transitionFrame is the frame of alert transitions the alerts stream sends.
func transitionFrame(ts []transition) *data.Frame {
	n := len(ts)
	var (
		at, opened                            = make([]time.Time, n), make([]time.Time, n)
		resolved                              = make([]*time.Time, n)
		seq                                   = make([]int64, n)
		id, tid, change, typ, rule, tier, sta = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		tn, carrier, service, lane, merchant  = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		status, detail                        = make([]string, n), make([]string, n)
	)
	for i, t := range ts {
		at[i], opened[i], seq[i] = t.At, t.OpenedAt, int64(t.Seq)
		if t.ResolvedAt.Unix() > 0 {
			r := t.ResolvedAt
			resolved[i] = &r
		}
		id[i], tid[i], change[i], typ[i], rule[i], tier[i], sta[i] = t.AlertID, t.TransitionID, t.Change, t.Type, t.Rule, t.Tier, t.State
		tn[i], carrier[i], service[i], lane[i], merchant[i] = t.TrackingNumber, t.Carrier, t.Service, t.Lane, t.Merchant
		status[i], detail[i] = t.Status, t.Detail
	}
	f := data.NewFrame("alert_transitions",
		field(data.NewField("time", nil, at), "At", ""),
		field(data.NewField("alert_id", nil, id), "Alert", ""),
		field(data.NewField("transition_id", nil, tid), "Transition", ""),
		field(data.NewField("change", nil, change), "Change", ""),
		field(data.NewField("seq", nil, seq), "Seq", ""),
		field(data.NewField("type", nil, typ), "Type", ""),
		field(data.NewField("rule", nil, rule), "Rule", ""),
		field(data.NewField("tier", nil, tier), "Tier", ""),
		field(data.NewField("state", nil, sta), "State", ""),
		field(data.NewField("tracking_number", nil, tn), "Tracking number", ""),
		field(data.NewField("carrier", nil, carrier), "Carrier", ""),
		field(data.NewField("service", nil, service), "Service", ""),
		field(data.NewField("lane", nil, lane), "Lane", ""),
		field(data.NewField("merchant", nil, merchant), "Merchant", ""),
		field(data.NewField("status", nil, status), "Status", ""),
		field(data.NewField("opened_at", nil, opened), "Opened", ""),
		field(data.NewField("resolved_at", nil, resolved), "Resolved", ""),
		field(data.NewField("detail", nil, detail), "Detail", ""),
	)
	f.SetMeta(&data.FrameMeta{Type: data.FrameTypeTable, TypeVersion: data.FrameTypeVersion{0, 1}})
	return f
}
