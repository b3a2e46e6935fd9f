package analytics

// Fact is one version of a shipment's state, ready to be stored: what the
// processor hands its sink and what the sink gives back on restore.
type Fact struct {
	TrackingNumber string
	Partition      int // the Kafka partition whose owner wrote it
	State          Shipment
}
