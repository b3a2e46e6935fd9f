package schemas

// Kafka topics of DESIGN section 1: the one place their names are written.
const (
	EventsTopic        = "shiplens.events"
	DLQTopic           = "shiplens.dlq"
	AlertsTopic        = "shiplens.alerts"
	NotificationsTopic = "shiplens.notifications"
)
