// Package broker starts an embedded Kafka broker (franz-go's kfake, speaking
// the real Kafka wire protocol on 127.0.0.1) for tests and the demo, and holds
// test plumbing around it, such as waiting until a consumer group has caught
// up. It links kfake, so no production package may import it: the processor
// and ingestion packages use internal/kafkaadmin, and a test keeps it that way.
package broker

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/schemas"
)

// Options configures an embedded broker.
type Options struct {
	DataDir    string // persist topics and committed offsets here; empty keeps them in memory
	Partitions int    // partitions of each seeded topic; defaults to kafkaadmin.DefaultPartitions
	Port       int    // listen port on 127.0.0.1; 0 picks a free one
}

// Embedded is an in-process Kafka broker.
type Embedded struct {
	c *kfake.Cluster
}

// Start starts an embedded broker with shiplens' topics already created.
func Start(o Options) (*Embedded, error) {
	if o.Partitions <= 0 {
		o.Partitions = kafkaadmin.DefaultPartitions
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(o.Port),
		kfake.SeedTopics(int32(o.Partitions), schemas.EventsTopic, schemas.DLQTopic, schemas.AlertsTopic, schemas.NotificationsTopic),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(o.Partitions),
	}
	if o.DataDir != "" {
		opts = append(opts, kfake.DataDir(o.DataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot start embedded Kafka broker: %w", err)
	}
	return &Embedded{c: c}, nil
}

// Addrs returns the broker's host:port addresses.
func (e *Embedded) Addrs() []string { return e.c.ListenAddrs() }

// Cluster returns the kfake cluster, for fault injection in tests.
func (e *Embedded) Cluster() *kfake.Cluster { return e.c }

// Close stops the broker.
func (e *Embedded) Close() { e.c.Close() }
