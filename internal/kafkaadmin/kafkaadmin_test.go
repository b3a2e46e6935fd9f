package kafkaadmin_test

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/schemas"
)

func TestParseBrokers(t *testing.T) {
	f := func(in string, want int, wantErr bool) {
		t.Helper()
		got, err := kafkaadmin.ParseBrokers(in)
		if (err != nil) != wantErr || len(got) != want {
			t.Fatalf("kafkaadmin.ParseBrokers(%q) = %v, %v", in, got, err)
		}
	}
	f("127.0.0.1:9092", 1, false)
	f(" a:1, b:2 ,", 2, false)
	f("", 0, true)
	f("kafka", 0, true)
}

func TestTopicsAndLag(t *testing.T) {
	e, err := broker.Start(broker.Options{Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := kafkaadmin.Ping(ctx, e.Addrs()); err != nil {
		t.Fatal(err)
	}
	if err := kafkaadmin.EnsureTopics(ctx, e.Addrs(), 2, "t1", schemas.EventsTopic); err != nil {
		t.Fatal(err)
	}
	if err := kafkaadmin.EnsureTopics(ctx, e.Addrs(), 2, "t1"); err != nil {
		t.Fatalf("second EnsureTopics: %v", err)
	}
	parts, err := kafkaadmin.Partitions(ctx, e.Addrs(), schemas.EventsTopic)
	if err != nil || len(parts) != 3 {
		t.Fatalf("partitions of %s = %v, %v; want 3 (seeded)", schemas.EventsTopic, parts, err)
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
	lag, total, err := kafkaadmin.Lag(ctx, e.Addrs(), "g", "t1")
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
	ends, _ := kafkaadmin.EndOffsets(ctx, e.Addrs(), "t1")
	if err := gen.CommitOffsets(map[string]map[int]int64{"t1": {0: ends[0], 1: ends[1]}}); err != nil {
		t.Fatal(err)
	}
	g.Close()
	lag, _, err = kafkaadmin.Lag(ctx, e.Addrs(), "g", "t1")
	if err != nil || lag != ends[2] {
		t.Fatalf("lag after commit = %d, %v; want %d", lag, err, ends[2])
	}
	if _, err := kafkaadmin.Partitions(ctx, e.Addrs(), "missing"); err == nil {
		t.Fatal("no error for a missing topic")
	}
}

func TestPingUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := kafkaadmin.Ping(ctx, []string{"127.0.0.1:1"}); err == nil {
		t.Fatal("ping of a closed port succeeded")
	}
}
