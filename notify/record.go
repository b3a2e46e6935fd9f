package notify

import (
	"encoding/json"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/schemas"
)

// Kind is the kind of a record: an alert or a customer notification.
type Kind string

// The record kinds; they are the values of the X-Shiplens-record header.
const (
	AlertRecord        Kind = "alert"
	NotificationRecord Kind = "notification"
)

// record is one message read from Kafka, decoded.
type record struct {
	Kind Kind
	// ID is the record's idempotency key: an alert's TransitionID, a
	// notification's ID.
	ID             string
	TrackingNumber string
	Merchant       string
	Alert          *alerts.Alert        // set for an alert
	Notification   *alerts.Notification // set for a notification

	// Where it was read, and its original key and bytes (a webhook posts
	// the bytes as they are).
	Topic     string
	Partition int
	Offset    int64
	Key, Raw  []byte
}

// decode reads a message of kind's topic. A record that cannot be delivered
// because of its content is an error carrying a schemas.Reason.
func decode(kind Kind, m *kafka.Message) (*record, error) {
	r := &record{Kind: kind, Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: m.Key, Raw: m.Value}
	switch kind {
	case AlertRecord:
		var a alerts.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			return nil, &schemas.InvalidError{Reason: schemas.ReasonMalformed, Detail: "cannot parse alert: " + err.Error()}
		}
		if a.TransitionID == "" {
			return nil, &schemas.InvalidError{Reason: schemas.ReasonMissingField, Field: "transition_id", Detail: "required"}
		}
		r.ID, r.TrackingNumber, r.Merchant, r.Alert = a.TransitionID, a.TrackingNumber, a.Merchant, &a
	default:
		var n alerts.Notification
		if err := json.Unmarshal(m.Value, &n); err != nil {
			return nil, &schemas.InvalidError{Reason: schemas.ReasonMalformed, Detail: "cannot parse notification: " + err.Error()}
		}
		if n.ID == "" {
			return nil, &schemas.InvalidError{Reason: schemas.ReasonMissingField, Field: "notification_id", Detail: "required"}
		}
		if n.Subject == "" && n.Body == "" {
			// The processor leaves the text to the deliverer (see
			// alerts.NewRenderer): rendered here, in the record's locale,
			// and posted with it.
			if err := alerts.Render(&n); err != nil {
				return nil, &schemas.InvalidError{Reason: schemas.ReasonInvalidField, Field: "kind", Detail: "cannot render notification: " + err.Error()}
			}
			b, err := json.Marshal(&n)
			if err != nil {
				return nil, &schemas.InvalidError{Reason: schemas.ReasonInternal, Detail: err.Error()}
			}
			r.Raw = b
		}
		r.ID, r.TrackingNumber, r.Merchant, r.Notification = n.ID, n.TrackingNumber, n.Merchant, &n
	}
	if r.TrackingNumber == "" {
		return nil, &schemas.InvalidError{Reason: schemas.ReasonMissingField, Field: "tracking_number", Detail: "required"}
	}
	return r, nil
}
