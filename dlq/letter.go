// Package dlq is shiplens' dead-letter queue, in one place: the record
// (Letter) and its Kafka header codec, the writer that every component uses
// to put rejected input on shiplens.dlq (processor, HTTP receiver, poller),
// the conversions from a rejection to a Letter, the JSON lines that
// `shiplens dlq export` writes and a person edits, filters, and Replay, which
// runs dead letters through ingestion again (DESIGN section 10).
//
// A Letter keeps the original key and bytes untouched; why and where the
// record was rejected travel in headers. dlq must not decide what is valid:
// schemas and the carrier adapters do.
package dlq

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/schemas"
)

// Header names of a dead-letter record on shiplens.dlq. The record's key and
// value are the original key and bytes, untouched.
const (
	HeaderReason    = "shiplens.reason"    // a Reason, e.g. unknown_status
	HeaderError     = "shiplens.error"     // the full error message, naming the field
	HeaderSource    = "shiplens.source"    // who rejected it: processor, http, webhook/<source>, poll/<source>
	HeaderTopic     = "shiplens.topic"     // the topic it was read from, when it came from Kafka
	HeaderPartition = "shiplens.partition" // its partition there
	HeaderOffset    = "shiplens.offset"    // its offset there
	HeaderAt        = "shiplens.rejected_at"
)

// Letter is a rejected record with why and where it was rejected
// (DESIGN section 10).
type Letter struct {
	Key, Value []byte
	Reason     schemas.Reason
	Error      string
	Source     string
	Topic      string // empty when the record did not come from Kafka
	Partition  int
	Offset     int64
	At         time.Time
}

// New builds the dead letter of value (and key), rejected by source with err;
// its reason is schemas.ReasonOf(err).
func New(source string, key, value []byte, err error) Letter {
	return Letter{Key: key, Value: value, Reason: schemas.ReasonOf(err), Error: err.Error(), Source: source, Offset: -1, At: time.Now().UTC()}
}

// Message returns the record to write to the DLQ topic: the original key and
// value, with d's metadata in headers.
func (d *Letter) Message() kafka.Message {
	h := []kafka.Header{
		{Key: HeaderReason, Value: []byte(d.Reason)},
		{Key: HeaderError, Value: []byte(d.Error)},
		{Key: HeaderSource, Value: []byte(d.Source)},
		{Key: HeaderAt, Value: []byte(d.At.UTC().Format(time.RFC3339Nano))},
	}
	if d.Topic != "" {
		h = append(h,
			kafka.Header{Key: HeaderTopic, Value: []byte(d.Topic)},
			kafka.Header{Key: HeaderPartition, Value: []byte(strconv.Itoa(d.Partition))},
			kafka.Header{Key: HeaderOffset, Value: []byte(strconv.FormatInt(d.Offset, 10))})
	}
	return kafka.Message{Key: d.Key, Value: d.Value, Headers: h}
}

// Parse reads a record of the DLQ topic back into a Letter.
func Parse(m *kafka.Message) (Letter, error) {
	d := Letter{Key: m.Key, Value: m.Value, Offset: -1}
	for _, h := range m.Headers {
		v := string(h.Value)
		switch h.Key {
		case HeaderReason:
			d.Reason = schemas.Reason(v)
		case HeaderError:
			d.Error = v
		case HeaderSource:
			d.Source = v
		case HeaderTopic:
			d.Topic = v
		case HeaderPartition:
			p, err := strconv.Atoi(v)
			if err != nil {
				return d, fmt.Errorf("cannot parse dead letter header %s %q: %w", h.Key, v, err)
			}
			d.Partition = p
		case HeaderOffset:
			o, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return d, fmt.Errorf("cannot parse dead letter header %s %q: %w", h.Key, v, err)
			}
			d.Offset = o
		case HeaderAt:
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return d, fmt.Errorf("cannot parse dead letter header %s %q: %w", h.Key, v, err)
			}
			d.At = t
		}
	}
	if d.Reason == "" || d.Source == "" {
		return d, fmt.Errorf("not a shiplens dead letter: headers %s and %s are required", HeaderReason, HeaderSource)
	}
	return d, nil
}

// deadLetterJSON is the export shape of a dead letter: the value as text when
// it is UTF-8 (so a person can fix it in an editor), else as base64.
type deadLetterJSON struct {
	Source      string         `json:"source"`
	Reason      schemas.Reason `json:"reason"`
	Error       string         `json:"error"`
	Topic       string         `json:"topic,omitempty"`
	Partition   int            `json:"partition,omitempty"`
	Offset      int64          `json:"offset"`
	RejectedAt  time.Time      `json:"rejected_at,omitzero"`
	Key         string         `json:"key,omitempty"`
	Value       *string        `json:"value,omitempty"`
	ValueBase64 string         `json:"value_base64,omitempty"`
}

// MarshalJSON encodes d for `shiplens dlq export`.
func (d Letter) MarshalJSON() ([]byte, error) {
	j := deadLetterJSON{Source: d.Source, Reason: d.Reason, Error: d.Error, Topic: d.Topic, Partition: d.Partition,
		Offset: d.Offset, RejectedAt: d.At, Key: string(d.Key)}
	if utf8.Valid(d.Value) {
		v := string(d.Value)
		j.Value = &v
	} else {
		j.ValueBase64 = base64.StdEncoding.EncodeToString(d.Value)
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes what MarshalJSON wrote (possibly edited by hand).
func (d *Letter) UnmarshalJSON(b []byte) error {
	var j deadLetterJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*d = Letter{Source: j.Source, Reason: j.Reason, Error: j.Error, Topic: j.Topic, Partition: j.Partition,
		Offset: j.Offset, At: j.RejectedAt}
	if j.Key != "" {
		d.Key = []byte(j.Key)
	}
	switch {
	case j.Value != nil:
		d.Value = []byte(*j.Value)
	case j.ValueBase64 != "":
		v, err := base64.StdEncoding.DecodeString(j.ValueBase64)
		if err != nil {
			return fmt.Errorf("cannot decode value_base64: %w", err)
		}
		d.Value = v
	}
	if d.Source == "" {
		return errors.New("dead letter without a source")
	}
	return nil
}
