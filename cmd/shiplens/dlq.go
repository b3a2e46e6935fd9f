package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/dlq"
	"github.com/shiplens/shiplens/ingest"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/schemas"
)

func runDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "export" && args[0] != "replay") {
		return errUsage{"want a subcommand: shiplens dlq export|replay ..."}
	}
	sub := args[0]
	f := newFlags("dlq "+sub, "dlq export [--out FILE] | dlq replay [--in FILE] [--dry-run]  (--brokers B)", stderr)
	brokers := f.String("brokers", "127.0.0.1:9092", "Kafka brokers host:port[,host:port]")
	dlqTopic := f.String("dlq-topic", schemas.DLQTopic, "the dead-letter topic")
	topic := f.String("topic", schemas.EventsTopic, "where replayed events go")
	out := f.String("out", "-", "export: file for the JSON lines (- for standard output)")
	in := f.String("in", "", "replay: JSON lines from dlq export, fixed by hand; default: the DLQ topic itself")
	source := f.String("source", "", "only records rejected by this source (processor, http, webhook/<name>, poll/<name>)")
	reason := f.String("reason", "", "only records with this reason")
	dry := f.Bool("dry-run", false, "replay: report what would be replayed, publish nothing")
	if err := f.parseNoArgs(args[1:]); err != nil {
		return err
	}
	bs, err := brokerList(*brokers)
	if err != nil {
		return err
	}
	var letters []dlq.Letter
	if sub == "replay" && *in != "" {
		file, err := os.Open(*in)
		if err != nil {
			return fmt.Errorf("cannot open %s: %w", *in, err)
		}
		letters, err = dlq.ReadJSONLines(file, *in)
		file.Close()
		if err != nil {
			return err
		}
	} else {
		if err := kafkaadmin.Ping(ctx, bs); err != nil {
			return err
		}
		letters, err = dlq.ReadTopic(ctx, bs, *dlqTopic, func(m *kafka.Message, err error) {
			fmt.Fprintf(stderr, "skipping %s/%d@%d: %v\n", *dlqTopic, m.Partition, m.Offset, err)
		})
		if err != nil {
			return err
		}
	}
	kept := dlq.Filter{Source: *source, Reason: schemas.Reason(*reason)}.Apply(letters)
	if sub == "export" {
		if err := writeOut(*out, stdout, func(w io.Writer) error { return dlq.WriteJSONLines(w, kept) }); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "exported %d dead letters\n", len(kept))
		return nil
	}
	res := dlq.Replay(kept, time.Now())
	for _, p := range res.StillBad {
		fmt.Fprintf(stderr, "still rejected: %v\n", p)
	}
	if !*dry && len(res.Events) > 0 {
		p, err := ingest.NewProducer(ingest.ProducerConfig{Brokers: bs, Topic: *topic})
		if err != nil {
			return err
		}
		defer p.Close()
		if err := p.Publish(ctx, res.Events); err != nil {
			return err
		}
	}
	verb := "replayed"
	if *dry {
		verb = "would replay"
	}
	fmt.Fprintf(stdout, "%s %d events from %d of %d dead letters; %d still rejected\n", verb, len(res.Events), res.Fixed, len(kept), len(res.StillBad))
	if len(res.StillBad) > 0 {
		return errors.New("some dead letters are still invalid: fix them (dlq export, edit, dlq replay --in FILE)")
	}
	return nil
}

// writeOut calls write with the file at path, or with stdout when path is "-".
func writeOut(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	file, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", path, err)
	}
	if err := write(file); err != nil {
		file.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return file.Close()
}
