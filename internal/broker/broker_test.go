package broker

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/schemas"
)

func TestParseBrokers(t *testing.T) {
	f := func(in string, want int, wantErr bool) {
		t.Helper()
		got, err := ParseBrokers(in)
		if (err != nil) != wantErr || len(got) != want {
			t.Fatalf("ParseBrokers(%q) = %v, %v", in, got, err)
		}
	}
	f("127.0.0.1:9092", 1, false)
	f(" a:1, b:2 ,", 2, false)
	f("", 0, true)
	f("kafka", 0, true)
}

func TestTopicsAndLag(t *testing.T) {
	e, err := Start(Options{Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := Ping(ctx, e.Addrs()); err != nil {
		t.Fatal(err)
	}
	if err := EnsureTopics(ctx, e.Addrs(), 2, "t1", EventsTopic); err != nil {
		t.Fatal(err)
	}
	if err := EnsureTopics(ctx, e.Addrs(), 2, "t1"); err != nil {
		t.Fatalf("second EnsureTopics: %v", err)
	}
	parts, err := Partitions(ctx, e.Addrs(), EventsTopic)
	if err != nil || len(parts) != 3 {
		t.Fatalf("partitions of %s = %v, %v; want 3 (seeded)", EventsTopic, parts, err)
	}
	w := &kafka.Writer{Addr: kafka.TCP(e.Addrs()...), Topic: "t1", Balancer: &kafka.RoundRobin{}, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	msgs := make([]kafka.Message, 10)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: []byte{byte(i)}}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()
	lag, total, err := Lag(ctx, e.Addrs(), "g", "t1")
	if err != nil || lag != 10 || total != 10 {
		t.Fatalf("lag %d of %d, %v; want 10 of 10", lag, total, err)
	}
	// Commit 4 on partition 0 through a group generation.
	g, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{ID: "g", Brokers: e.Addrs(), Topics: []string{"t1"}})
	if err != nil {
		t.Fatal(err)
	}
	gen, err := g.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ends, _ := EndOffsets(ctx, e.Addrs(), "t1")
	if err := gen.CommitOffsets(map[string]map[int]int64{"t1": {0: ends[0], 1: ends[1]}}); err != nil {
		t.Fatal(err)
	}
	g.Close()
	lag, _, err = Lag(ctx, e.Addrs(), "g", "t1")
	if err != nil || lag != ends[2] {
		t.Fatalf("lag after commit = %d, %v; want %d", lag, err, ends[2])
	}
	if _, err := Partitions(ctx, e.Addrs(), "missing"); err == nil {
		t.Fatal("no error for a missing topic")
	}
}

func TestPingUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := Ping(ctx, []string{"127.0.0.1:1"}); err == nil {
		t.Fatal("ping of a closed port succeeded")
	}
}

func TestDeadLetterRoundTrip(t *testing.T) {
	d := schemas.NewDeadLetter("processor", []byte("k"), []byte(`{"x"`), &schemas.InvalidError{Reason: schemas.ReasonMalformed, Detail: "bad"})
	d.Topic, d.Partition, d.Offset = "shiplens.events", 3, 42
	m := DeadLetterMessage(&d)
	got, err := ParseDeadLetter(&m)
	if err != nil {
		t.Fatal(err)
	}
	if got.Reason != d.Reason || got.Source != "processor" || got.Partition != 3 || got.Offset != 42 || string(got.Value) != `{"x"` || !got.At.Equal(d.At) || got.Error != d.Error {
		t.Fatalf("round trip: %+v, want %+v", got, d)
	}
	if _, err := ParseDeadLetter(&kafka.Message{Value: []byte("x")}); err == nil {
		t.Fatal("a record without headers parsed as a dead letter")
	}
}
