package dlq

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/schemas"
)

// Filter selects dead letters; an empty field matches every letter.
type Filter struct {
	Source string         // who rejected it: processor, http, webhook/<name>, poll/<name>
	Reason schemas.Reason // why
}

// Match reports whether d passes the filter.
func (f Filter) Match(d *Letter) bool {
	return (f.Source == "" || d.Source == f.Source) && (f.Reason == "" || d.Reason == f.Reason)
}

// Apply returns the letters that pass the filter, in order.
func (f Filter) Apply(letters []Letter) []Letter {
	var out []Letter
	for i := range letters {
		if f.Match(&letters[i]) {
			out = append(out, letters[i])
		}
	}
	return out
}

// ReadTopic returns every dead letter on topic, partition by partition, up to
// the topic's end at the time of the call. Records that are not shiplens dead
// letters are passed to skip (which may be nil) and left out.
func ReadTopic(ctx context.Context, brokers []string, topic string, skip func(m *kafka.Message, err error)) ([]Letter, error) {
	var out []Letter
	err := kafkaadmin.ReadAll(ctx, brokers, topic, func(m *kafka.Message) error {
		d, err := Parse(m)
		if err != nil {
			if skip != nil {
				skip(m, err)
			}
			return nil
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// WriteJSONLines writes letters as JSON lines, the format of `shiplens dlq
// export`: source, reason, error, where it came from, and the original value
// as text when it is UTF-8 (so a person can fix it in an editor), else as
// value_base64.
func WriteJSONLines(w io.Writer, letters []Letter) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range letters {
		if err := enc.Encode(letters[i]); err != nil {
			return fmt.Errorf("cannot encode dead letter %d: %w", i, err)
		}
	}
	return bw.Flush()
}

// ReadJSONLines reads what WriteJSONLines wrote, possibly edited by hand;
// blank lines are skipped and an error names the line. name labels errors
// (a file name).
func ReadJSONLines(r io.Reader, name string) ([]Letter, error) {
	var out []Letter
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var d Letter
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return nil, fmt.Errorf("cannot parse %s line %d: %w", name, n, err)
		}
		out = append(out, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	return out, nil
}
