package schemas

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Header is one Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

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

// DeadLetter is a rejected record with why and where it was rejected
// (DESIGN section 10).
type DeadLetter struct {
	Key, Value []byte
	Reason     Reason
	Error      string
	Source     string
	Topic      string // empty when the record did not come from Kafka
	Partition  int
	Offset     int64
	At         time.Time
}

// NewDeadLetter builds the dead letter of value (and key), rejected by source
// with err.
func NewDeadLetter(source string, key, value []byte, err error) DeadLetter {
	return DeadLetter{Key: key, Value: value, Reason: ReasonOf(err), Error: err.Error(), Source: source, Offset: -1, At: time.Now().UTC()}
}

// Headers returns the record headers that carry d's metadata.
func (d *DeadLetter) Headers() []Header {
	h := []Header{
		{HeaderReason, []byte(d.Reason)},
		{HeaderError, []byte(d.Error)},
		{HeaderSource, []byte(d.Source)},
		{HeaderAt, []byte(d.At.UTC().Format(time.RFC3339Nano))},
	}
	if d.Topic != "" {
		h = append(h,
			Header{HeaderTopic, []byte(d.Topic)},
			Header{HeaderPartition, []byte(strconv.Itoa(d.Partition))},
			Header{HeaderOffset, []byte(strconv.FormatInt(d.Offset, 10))})
	}
	return h
}

// ParseDeadLetter reads a dead-letter record back from its key, value and
// headers.
func ParseDeadLetter(key, value []byte, headers []Header) (DeadLetter, error) {
	d := DeadLetter{Key: key, Value: value, Offset: -1}
	for _, h := range headers {
		v := string(h.Value)
		switch h.Key {
		case HeaderReason:
			d.Reason = Reason(v)
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
	Source      string    `json:"source"`
	Reason      Reason    `json:"reason"`
	Error       string    `json:"error"`
	Topic       string    `json:"topic,omitempty"`
	Partition   int       `json:"partition,omitempty"`
	Offset      int64     `json:"offset"`
	RejectedAt  time.Time `json:"rejected_at,omitzero"`
	Key         string    `json:"key,omitempty"`
	Value       *string   `json:"value,omitempty"`
	ValueBase64 string    `json:"value_base64,omitempty"`
}

// MarshalJSON encodes d for `shiplens dlq export`.
func (d DeadLetter) MarshalJSON() ([]byte, error) {
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
func (d *DeadLetter) UnmarshalJSON(b []byte) error {
	var j deadLetterJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*d = DeadLetter{Source: j.Source, Reason: j.Reason, Error: j.Error, Topic: j.Topic, Partition: j.Partition,
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
		return fmt.Errorf("dead letter without a source")
	}
	return nil
}
