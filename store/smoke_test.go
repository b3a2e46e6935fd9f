package store

import (
	"context"
	"testing"

	"github.com/shiplens/shiplens/analytics"
)

func TestSmokeDays(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	facts := sampleFacts()
	var d analytics.Days
	for i := range facts {
		c := facts[i].State.Contribution()
		d.Add(&c, 1)
	}
	adv := []analytics.Advance{{Partition: 3, From: 0, To: 10}, {Partition: 5, From: 0, To: 7}}
	if err := s.WriteDays(ctx, &d, adv, false); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteDays(ctx, &d, adv, true); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFacts(ctx, facts); err != nil {
		t.Fatal(err)
	}
	pos, err := s.Positions(ctx)
	t.Log(pos, err)
	rows, err := s.Scorecard(ctx, ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 10)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		t.Logf("%+v p50 %v", r, *r.TransitHoursP50)
	}
	n := 0
	if err := s.Restore(ctx, 3, analytics.DefaultRetention, func(tn string, st analytics.Shipment) { n++ }); err != nil {
		t.Fatal(err)
	}
	t.Log("restored", n)
	if err := s.Lookup(ctx, 5, []string{"C", "X"}, func(tn string, st analytics.Shipment) { t.Log("found", tn) }); err != nil {
		t.Fatal(err)
	}
	for _, f := range []func() (any, error){
		func() (any, error) { return s.DeliveredPerDay(ctx, ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 10)}) },
		func() (any, error) { return s.OnTimePerWeek(ctx, ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 10)}) },
		func() (any, error) { return s.TransitPerDay(ctx, ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 10)}) },
		func() (any, error) { return s.CustomsByDestination(ctx, ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 10)}) },
		func() (any, error) { return s.ExceptionsPerDay(ctx, ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 10)}) },
	} {
		v, err := f()
		t.Logf("%+v %v", v, err)
	}
}
