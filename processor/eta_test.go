package processor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/shiplens/shiplens/analytics/eta"
)

// prediction is one stored prediction, as compared across runs.
type prediction struct {
	tn, milestone string
	asOf, version uint32
	rev           uint64
	p10, p50, p90 uint32
	basis         string
}

func (p prediction) key() string {
	return fmt.Sprintf("%s|%d|%s|%d|%d", p.tn, p.asOf, p.milestone, p.rev, p.version)
}

// history reads every stored prediction, deduplicated.
func history(t *testing.T, conn driver.Conn) map[string]prediction {
	t.Helper()
	// A prediction is the shipment's state (rev) at a scan (as_of,
	// milestone) read by a model version: a change that leaves the latest
	// scan as it was (a late promise) predicts again at the same as_of with
	// the next rev. A retried write repeats a row, which GROUP BY folds.
	rows, err := conn.Query(context.Background(), `SELECT tracking_number, milestone, toUInt32(as_of), toUInt32(model_version), rev,
		toUInt32(any(p10)), toUInt32(any(p50)), toUInt32(any(p90)), any(basis)
		FROM eta_history GROUP BY tracking_number, milestone, as_of, model_version, rev`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]prediction{}
	for rows.Next() {
		var p prediction
		if err := rows.Scan(&p.tn, &p.milestone, &p.asOf, &p.version, &p.rev, &p.p10, &p.p50, &p.p90, &p.basis); err != nil {
			t.Fatal(err)
		}
		out[p.key()] = p
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (p *pipeline) conn() driver.Conn {
	p.t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{p.addr}, Auth: clickhouse.Auth{Database: p.db, Username: "default"}})
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { conn.Close() })
	return conn
}

// TestPredictionsSurviveRestart runs the same stream twice: once without a
// stop, once stopped halfway and restarted. Every prediction made with the
// same model version must be the same in both runs: the model and the
// shipments' states survive the restart, and a version's content does not
// depend on when it was built.
func TestPredictionsSurviveRestart(t *testing.T) {
	_, msgs := workload(t, 2000, 23)
	models := func(p *pipeline) map[uint32]int64 {
		out := map[uint32]int64{}
		for v, ms := range savedModels(t, p) {
			out[v] = ms[0].Deliveries()
		}
		return out
	}
	run := func(stops ...int) (*pipeline, map[string]prediction, uint32) {
		p := newPipeline(t, 4)
		p.predict = true
		var v uint32
		from := 0
		for _, end := range append(stops, len(msgs)) {
			p.publish(msgs[from:end])
			d := newDone(p.ends)
			proc, stop := p.processorWith("eta", d.commit)
			p.wait(d, fmt.Sprintf("events %d to %d", from, end))
			stop()
			v, _ = proc.ModelVersion()
			from = end
		}
		return p, history(t, p.conn()), v
	}
	pa, straight, v1 := run()
	pb, restarted, v2 := run(len(msgs) / 2)
	ma, mb := models(pa), models(pb)
	for v, n := range ma {
		if nb, ok := mb[v]; ok && nb != n {
			t.Errorf("model version %s learned %d deliveries uninterrupted, %d with a restart", time.Unix(int64(v), 0).UTC().Format(time.DateOnly), n, nb)
		}
	}
	if v1 == 0 || v2 == 0 {
		t.Fatalf("no model version was built (uninterrupted %d, restarted %d)", v1, v2)
	}
	same, learned := 0, 0
	for k, a := range straight {
		b, ok := restarted[k]
		if !ok {
			continue
		}
		same++
		if a.basis != eta.BasisPromised.String() && a.basis != eta.BasisPrior.String() {
			learned++
		}
		if a != b {
			t.Errorf("prediction %s differs after a restart:\nuninterrupted %+v\nrestarted     %+v", k, a, b)
		}
	}
	t.Logf("%d predictions uninterrupted, %d with a restart; %d made with the same version in both, %d of them from learned groups; versions %s and %s",
		len(straight), len(restarted), same, learned, time.Unix(int64(v1), 0).UTC().Format(time.DateOnly), time.Unix(int64(v2), 0).UTC().Format(time.DateOnly))
	// How many predictions both runs made with the same version depends on
	// how fast the learner kept up (the race detector slows it); the
	// comparison needs enough of them to mean something.
	if same < len(straight)/5 || learned < same/2 {
		t.Errorf("only %d of %d predictions were made with the same model version in both runs (%d learned): the comparison proves little", same, len(straight), learned)
	}
}

// TestVersionsAgreeAcrossProcessors runs two processors in one group, each
// owning some partitions. Each builds or loads every model version; a
// version saved by both must predict the same, whoever built it.
func TestVersionsAgreeAcrossProcessors(t *testing.T) {
	_, msgs := workload(t, 2000, 29)
	p := newPipeline(t, 4)
	p.predict = true
	p.publish(msgs)
	d := newDone(p.ends)
	a, stopA := p.processorWith("eta-two", d.commit)
	b, stopB := p.processorWith("eta-two", d.commit)
	p.wait(d, "two processors")
	stopA()
	stopB()
	va, _ := a.ModelVersion()
	vb, _ := b.ModelVersion()
	if va == 0 || vb == 0 {
		t.Fatalf("model versions %d and %d: both processors should have learned", va, vb)
	}
	byVersion := savedModels(t, p)
	if len(byVersion) < 3 {
		t.Fatalf("%d model versions saved, want several", len(byVersion))
	}
	lanes := []string{"CN-US", "CN-DE", "CN-BR", "DE-FR", "US-CA"}
	for v, ms := range byVersion {
		for _, m := range ms[1:] {
			if m.Deliveries() != ms[0].Deliveries() {
				t.Errorf("version %d saved twice with %d and %d deliveries", v, ms[0].Deliveries(), m.Deliveries())
			}
			for _, lane := range lanes {
				qa := ms[0].NewPredictor().Rank(lane, "", "", v, v+10*86400)
				qb := m.NewPredictor().Rank(lane, "", "", v, v+10*86400)
				if fmt.Sprint(qa) != fmt.Sprint(qb) {
					t.Errorf("version %d, lane %s: two saved copies quote differently:\n%v\n%v", v, lane, qa, qb)
				}
			}
		}
	}
}

// savedModels reads every saved model snapshot, by version.
func savedModels(t *testing.T, p *pipeline) map[uint32][]*eta.Model {
	t.Helper()
	rows, err := p.conn().Query(context.Background(), "SELECT toUInt32(version), model FROM eta_models ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[uint32][]*eta.Model{}
	for rows.Next() {
		var v uint32
		var blob string
		if err := rows.Scan(&v, &blob); err != nil {
			t.Fatal(err)
		}
		m, err := eta.Unmarshal([]byte(blob))
		if err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
		out[v] = append(out[v], m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
