package dlq

import (
	"errors"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/ingest/carriers"
	"github.com/shiplens/shiplens/schemas"
)

// FromMessage is the dead letter of a Kafka message of topic that source
// (e.g. "processor") rejected with err: its original key and bytes, and
// where it was read.
func FromMessage(msg *kafka.Message, topic, source string, err error) Letter {
	d := New(source, msg.Key, msg.Value, err)
	d.Topic, d.Partition, d.Offset = topic, msg.Partition, msg.Offset
	return d
}

// FromProblem is the dead letter of one record of a carrier payload that the
// adapter could not turn into an event: the raw record when the adapter kept
// it, else the whole payload.
func FromProblem(source string, key, payload []byte, p *carriers.Problem) Letter {
	raw := p.Raw
	if raw == nil {
		raw = payload
	}
	return New(source, key, raw, &schemas.InvalidError{Reason: p.Reason, Field: p.Field, Detail: p.Error()})
}

// FromPayload is the dead letter of a whole carrier payload that its adapter
// refused with err (not the source's format, too large).
func FromPayload(source string, key, payload []byte, err error) Letter {
	reason := schemas.ReasonMalformed
	var pe *carriers.PayloadError
	if errors.As(err, &pe) {
		reason = pe.Reason
	}
	return New(source, key, payload, &schemas.InvalidError{Reason: reason, Detail: err.Error()})
}

// FromResult is the dead letters of a parsed payload: one per problem of res,
// or one for the whole payload when parseErr is set.
func FromResult(source string, key, payload []byte, res carriers.Result, parseErr error) []Letter {
	var out []Letter
	if parseErr != nil {
		out = append(out, FromPayload(source, key, payload, parseErr))
	}
	for i := range res.Problems {
		out = append(out, FromProblem(source, key, payload, &res.Problems[i]))
	}
	return out
}
