package analytics

// Fact is one version of a shipment's state, ready to be stored: what the
// processor hands its sink and what the sink gives back on restore.
type Fact struct {
	TrackingNumber string
	Partition      int // the Kafka partition whose owner wrote it
	State          Shipment
}

// Advance moves the position of a Kafka partition in the daily aggregates:
// once a write that carries it is stored, the aggregates hold the effect of
// every event of Partition before offset To, where they held those before
// From.
type Advance struct {
	Partition int
	From, To  int64
}
