package bench

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/bench/alt"
	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/chserver"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/store"
)

// Run runs every stage and returns the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	o = o.withDefaults()
	r := &Report{Version: version(), Quick: o.Quick, Started: time.Now().UTC(), Machine: machine(),
		Stages: map[string]Stage{}, Ratios: map[string]float64{}}
	partitions := kafkaadmin.DefaultPartitions

	say(o.Progress, "generating %d shipments (seed %d) and learning their ETA model", o.Shipments, o.Seed)
	w, err := newWorkload(o.Shipments, o.Seed, partitions)
	if err != nil {
		return nil, err
	}
	events := int64(len(w.msgs))
	r.Workload = Workload{Shipments: o.Shipments, Events: events, Bytes: w.bytes, Partitions: partitions, Seed: o.Seed}

	// In memory.
	rep := func(name string, fn func() (float64, error)) error {
		var runs, secs []float64
		for i := range o.Reps {
			say(o.Progress, "%s, run %d of %d", name, i+1, o.Reps)
			began := time.Now()
			v, err := fn()
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			secs = append(secs, since(began))
			runs = append(runs, v)
		}
		r.Stages[name] = Stage{EventsPerS: statOf(runs), Events: events, Seconds: statOf(secs)}
		return nil
	}
	if err := rep(StageDecode, w.decode); err != nil {
		return nil, err
	}
	if err := rep(StageProcessOne, func() (float64, error) { return w.processOneCore(), nil }); err != nil {
		return nil, err
	}
	if err := rep(StageProcessAll, func() (float64, error) { return w.processAllCores(), nil }); err != nil {
		return nil, err
	}
	r.State.BytesPerShipment, r.State.Held, r.State.Open = w.heldBytes()

	// Kafka: the embedded broker, the workload published once.
	emb, err := broker.Start(broker.Options{Partitions: partitions})
	if err != nil {
		return nil, err
	}
	defer emb.Close()
	brokers := emb.Addrs()
	topic := "bench.events"
	say(o.Progress, "publishing %d events to %s on the embedded broker", events, topic)
	ends, err := w.publish(ctx, brokers, topic)
	if err != nil {
		return nil, err
	}
	if err := rep(StageBareConsumer, func() (float64, error) { return bareKafkaGo(ctx, brokers, topic, ends) }); err != nil {
		return nil, err
	}
	if err := rep(StageBareFranz, func() (float64, error) { return bareFranz(ctx, brokers, topic, ends) }); err != nil {
		return nil, err
	}

	// ClickHouse: the given server, or a private one.
	addr := o.ClickHouse
	if addr == "" {
		if _, err := chserver.EnsureInstalled(ctx, o.Progress); err != nil {
			return nil, err
		}
		srv, err := chserver.Start(ctx, chserver.Options{})
		if err != nil {
			return nil, err
		}
		defer srv.Stop()
		addr = srv.Addr
	}
	base, err := store.ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	r.Machine.ClickHouseVersion = chserver.Version(ctx, base.Addr)
	say(o.Progress, "ClickHouse %s at %s", r.Machine.ClickHouseVersion, base.Addr)

	var ours *store.Store
	if err := rep(StageEndToEnd, func() (float64, error) {
		if ours != nil {
			ours.Close()
		}
		v, st, err := endToEnd(ctx, brokers, topic, ends, base, "bench_e2e", o.Shipments)
		ours = st
		return v, err
	}); err != nil {
		return nil, err
	}
	defer ours.Close()
	e2e := r.Stages[StageEndToEnd]
	e2e.Note = "kfake, the processor with its defaults (ETA and alerts on), ClickHouse; from the first message read to every offset committed and the shipments counted"
	r.Stages[StageEndToEnd] = e2e

	// The alternative, on the same events.
	say(o.Progress, "the alternative: %d raw events into ClickHouse, the scorecard in SQL", events)
	var altRuns, altSecs []float64
	for i := range o.Reps {
		say(o.Progress, "%s, run %d of %d", StageAlternative, i+1, o.Reps)
		if err := alt.Reset(ctx, ours.Conn()); err != nil {
			return nil, err
		}
		took, err := alt.Insert(ctx, ours.Conn(), w.events)
		if err != nil {
			return nil, fmt.Errorf("the alternative: %w", err)
		}
		altRuns = append(altRuns, float64(events)/took.Seconds())
		altSecs = append(altSecs, took.Seconds())
	}
	r.Stages[StageAlternative] = Stage{EventsPerS: statOf(altRuns), Events: events, Seconds: statOf(altSecs),
		Note: "raw events inserted with clickhouse-go in batches; nothing computed until a query"}
	var answers []float64
	var altRows []alt.Row
	for range o.Reps {
		began := time.Now()
		if altRows, err = alt.Scorecard(ctx, ours.Conn(), w.from, w.to); err != nil {
			return nil, fmt.Errorf("the alternative's scorecard: %w", err)
		}
		answers = append(answers, since(began))
	}
	r.Queries.AlternativeTimeToAnswer = statOf(answers)
	r.Queries.AlternativeRows = len(altRows)
	q := store.ScorecardQuery{From: w.from, To: w.to}
	if r.Queries.OursTimeToAnswer, _, err = timeScorecard(ctx, ours, q, o.Reps); err != nil {
		return nil, err
	}
	card, err := ours.ScorecardOf(ctx, q)
	if err != nil {
		return nil, err
	}
	r.Queries.AlternativeCountsEqual = countsEqual(card.Rows(), altRows)

	// Freshness at a fixed offered rate.
	say(o.Progress, "freshness: offering %d events/s for %s", o.FreshnessRate, o.FreshnessFor)
	fr, err := freshness(ctx, brokers, base, o.FreshnessRate, o.FreshnessFor, o.Seed, partitions)
	if err != nil {
		return nil, err
	}
	r.Stages[StageFreshness] = fr

	// Stored workloads: scorecards, restore, ETA lookups, dashboards.
	var largest *stored
	for _, size := range sortedSizes(o.Sizes) {
		s, err := loadSize(ctx, o, base, size)
		if err != nil {
			return nil, err
		}
		say(o.Progress, "scorecards over %d shipments", size)
		d30, full, err := scorecards(ctx, s, o.Reps)
		if err != nil {
			s.st.Close()
			return nil, err
		}
		r.Queries.Scorecard30d = append(r.Queries.Scorecard30d, d30)
		r.Queries.ScorecardFull = append(r.Queries.ScorecardFull, full)
		if largest != nil {
			largest.st.Close()
		}
		largest = s
	}
	defer largest.st.Close()
	var restores []float64
	for i := range o.Reps {
		say(o.Progress, "restoring the state of %d stored shipments, run %d of %d", largest.shipments, i+1, o.Reps)
		n, secs, err := restore(ctx, largest.st, partitions)
		if err != nil {
			return nil, err
		}
		restores = append(restores, secs)
		r.State.RestoreShipments = n
	}
	r.State.RestoreSeconds, r.State.RestoreFrom = statOf(restores), largest.shipments
	lookups := 1000
	if o.Quick {
		lookups = 200
	}
	say(o.Progress, "GET /v1/eta/{tn}: %d lookups over %d shipments", lookups, largest.shipments)
	if r.Queries.ETALookupP99, r.Queries.ETALookups, err = etaLookups(ctx, largest.st, lookups); err != nil {
		return nil, err
	}
	say(o.Progress, "every dashboard panel over %d shipments", largest.shipments)
	sp := &r.Queries.SlowestPanel
	if sp.Dashboard, sp.Panel, sp.Seconds, err = slowestPanel(ctx, largest.st, o.Reps); err != nil {
		return nil, err
	}
	sp.Shipments = largest.shipments

	r.Ratios["end_to_end_over_bare_consumer"] = ratio(r.Stages[StageEndToEnd].EventsPerS.Median, r.Stages[StageBareConsumer].EventsPerS.Median)
	r.Ratios["process_over_decode"] = ratio(r.Stages[StageProcessOne].EventsPerS.Median, r.Stages[StageDecode].EventsPerS.Median)
	r.Ratios["alternative_time_to_answer_over_ours"] = ratio(r.Queries.AlternativeTimeToAnswer.Median, r.Queries.OursTimeToAnswer.Median)
	r.Ratios["alternative_ingest_over_end_to_end"] = ratio(r.Stages[StageAlternative].EventsPerS.Median, r.Stages[StageEndToEnd].EventsPerS.Median)
	r.Ratios["process_all_cores_over_one_core"] = ratio(r.Stages[StageProcessAll].EventsPerS.Median, r.Stages[StageProcessOne].EventsPerS.Median)
	r.targets()
	r.Seconds = since(r.Started)
	runtime.KeepAlive(w)
	return r, nil
}

// countsEqual reports whether the alternative's counts equal ours, row by
// row (carrier and lane).
func countsEqual(ours []analytics.ScoreRow, theirs []alt.Row) bool {
	type counts struct{ delivered, withPromise, onTime, exceptions int64 }
	a := map[[2]string]counts{}
	for _, r := range ours {
		if r.Delivered == 0 && r.Exceptions == 0 {
			continue
		}
		a[[2]string{r.Carrier, r.Lane}] = counts{r.Delivered, r.WithPromise, r.OnTime, r.Exceptions}
	}
	b := map[[2]string]counts{}
	for _, r := range theirs {
		if r.Delivered == 0 && r.Exceptions == 0 {
			continue
		}
		b[[2]string{r.Carrier, r.Lane}] = counts{int64(r.Delivered), int64(r.WithPromise), int64(r.OnTime), int64(r.Exceptions)}
	}
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
