package processor_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/shiplens/shiplens/processor"
)

// TestMemoryLearnsAsStorage runs the same stream through two processors
// that each own every partition: one builds model versions from what its
// owners wrote (the default), the other reads them back from ClickHouse
// (ETAConfig.FromStorage). Every version both saved must be the same model
// to the last bit (every float equal), and every prediction made with the same version the
// same.
func TestMemoryLearnsAsStorage(t *testing.T) {
	_, msgs := workload(t, 2000, 31)
	run := func(fromStorage bool) (*pipeline, *processor.Processor) {
		p := newPipeline(t, 4)
		p.predict, p.fromStorage = true, fromStorage
		p.publish(msgs)
		d := newDone(p.ends)
		proc, stop := p.processorWith("memo", d.commit)
		p.wait(d, "the stream")
		stop()
		return p, proc
	}
	pm, mem := run(false)
	ps, sto := run(true)
	mm, ms := mem.ModelBuilds()
	sm, ss := sto.ModelBuilds()
	if mm == 0 || ms != 0 {
		t.Errorf("the default processor built %d steps from memory and %d from storage; want all from memory", mm, ms)
	}
	if ss == 0 || sm != 0 {
		t.Errorf("the FromStorage processor built %d steps from memory and %d from storage; want all from storage", sm, ss)
	}
	a, b := savedModels(t, pm), savedModels(t, ps)
	both := 0
	for v, ma := range a {
		mb, ok := b[v]
		if !ok {
			continue
		}
		both++
		// A snapshot is a gob of maps, whose bytes follow map order: the
		// decoded models are compared instead, every float exactly.
		x, y := ma[len(ma)-1], mb[len(mb)-1]
		if !reflect.DeepEqual(x, y) {
			t.Errorf("model version %s differs: %d deliveries from memory, %d from storage",
				time.Unix(int64(v), 0).UTC().Format(time.DateOnly), x.Deliveries(), y.Deliveries())
		}
	}
	if both < 3 {
		t.Fatalf("only %d model versions were saved by both runs (%d and %d saved): the comparison proves little", both, len(a), len(b))
	}
	ha, hb := history(t, pm.conn()), history(t, ps.conn())
	same := 0
	for k, x := range ha {
		y, ok := hb[k]
		if !ok {
			continue
		}
		same++
		if x != y {
			t.Errorf("prediction %s differs:\nfrom memory  %+v\nfrom storage %+v", k, x, y)
		}
	}
	t.Logf("%d versions saved by both; %d of %d predictions made with the same version in both", both, same, len(ha))
	if same < len(ha)/5 {
		t.Errorf("only %d of %d predictions were made with the same model version in both runs", same, len(ha))
	}
}
