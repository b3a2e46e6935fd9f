// Package notify delivers what the processor publishes for people: the
// alerts of shiplens.alerts (alerts.Alert as JSON) and the customer
// notifications of shiplens.notifications (alerts.Notification, with the
// customer's language chosen) to signed webhooks and by e-mail. It is
// `shiplens notify`. It must not decide what to alert or notify about
// (package analytics/alerts does). It renders a notification's subject and
// body from the templates of package schemas/messages, in the record's
// locale, when the record carries no text (the processor leaves rendering
// to it, off its hot path), and delivers the record with its text.
//
// # Delivery guarantees
//
// The Notifier is one member of a Kafka consumer group (default
// "shiplens-notify") over both topics; each partition has one owner, which
// reads it in order and hands every record to the destinations that take it.
//
//   - At least once. A record's offset is committed only after every
//     destination that takes it has finished with it: delivered (a 2xx, or
//     SMTP accepting the message) or put on the dead-letter topic. Offsets
//     are committed in order, so a slow record holds back the commits of the
//     ones after it, never the reverse. A crash or a rebalance re-reads the
//     uncommitted records.
//   - Duplicates are cut, not ruled out. Each process remembers, per
//     destination, the ids of the last records it finished with (a bounded
//     LRU, delivery.dedup_size), so a record Kafka delivers twice, or that a
//     rebalance gives back to the same process, is skipped where it already
//     arrived. Across processes and restarts a record can arrive twice: every
//     request carries its idempotency key (an alert's transition_id, a
//     notification's notification_id), and every e-mail a Message-ID derived
//     from it, so a receiver can drop the copy.
//   - Order per shipment and destination. A destination has a fixed number of
//     workers (delivery.workers); a shipment's records always go to the same
//     one, so they arrive in the order of their partition. Shipments on other
//     workers go on while one retries.
//   - One destination cannot block the others for ever. Each has its own
//     workers, queues and rate limit, and gives up on a record after
//     delivery.max_attempts. A destination that is down holds the others back
//     only once its queues are full (delivery.queue records per worker) or
//     its partition reaches delivery.max_in_flight uncommitted records: memory
//     stays bounded.
//   - On shutdown or rebalance a partition waits up to delivery.drain_timeout
//     for its records in flight, commits what finished and leaves the rest,
//     uncommitted and not dead-lettered, to its next owner.
//
// Records of the wrong shape (not JSON, no transition_id, notification_id or
// tracking_number) go to the dead-letter topic at once, with source
// "notify".
//
// # Webhooks
//
// A webhook receives an HTTP POST of the record's bytes (a notification with its rendered text added)
// (Content-Type: application/json) with these headers:
//
//	X-Shiplens-Timestamp: <Unix seconds of this attempt>
//	X-Shiplens-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//	Idempotency-Key:      <transition_id or notification_id>
//	X-Shiplens-Record:    alert | notification
//
// It is the scheme shiplens' own webhook receiver checks (ingest.Sign,
// ingest.HeaderSignature, ingest.HeaderTimestamp). Each attempt is signed
// again with a fresh timestamp. A receiver verifies it like this, and should
// also refuse timestamps more than a few minutes away from its clock:
//
//	func verify(secret []byte, r *http.Request, body []byte) bool {
//		ts := r.Header.Get("X-Shiplens-Timestamp")
//		mac := hmac.New(sha256.New, secret)
//		mac.Write([]byte(ts + "." + string(body)))
//		want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
//		return hmac.Equal([]byte(r.Header.Get("X-Shiplens-Signature")), []byte(want))
//	}
//
// # E-mail
//
// Alerts go to customer-service addresses (email.alerts_to, or a merchant's
// own list under email.merchants), with a subject such as
// "[critical] stalled: LX100CN (chinapost CN-US)" and the alert's fields in
// English. Notifications go to the customer, with the record's subject, body
// and language, where an address is known: the event contract carries no
// e-mail address, so addresses come from a CSV file named by email.contacts,
// with the header tracking_number,email (one row per address; several rows
// for one shipment give several recipients). It is read again when it
// changes, at most once per email.contacts_reload. A notification for a
// shipment without an address is counted (shiplens_notify_skipped_total) and
// not sent.
//
// Messages are text/plain; charset=UTF-8 in base64, with an RFC 2047 Subject,
// Date, Message-ID <alert.<transition id>@domain> or
// <notification.<id>@domain> (the same on every attempt; later transitions
// of an alert reply to its opening), Content-Language, Auto-Submitted and
// X-Shiplens-Record. Each message is one SMTP session: EHLO, STARTTLS when
// the server offers it (email.starttls: auto, always, never), AUTH PLAIN when
// a username and password are configured, and one RCPT per recipient.
//
// # Retries
//
// Each destination retries a record with exponential backoff and full
// jitter (internal/retry): the n-th wait is uniform in
// [0, min(initial_backoff·2^(n-1), max_backoff)]. Retried: network errors,
// timeouts (delivery.timeout per attempt), HTTP 5xx, 408 and 429, and SMTP
// 4xx replies. A Retry-After (seconds or an HTTP date) on a 429 or 503
// replaces the backoff, capped at max_backoff. Not retried: other HTTP 4xx,
// 3xx (redirects are not followed) and SMTP 5xx replies. Requests to a
// destination are rate-limited (rate per second, burst), attempts included.
//
// # Dead letters
//
// A record a destination gave up on goes to shiplens.notify.dlq
// (alerts.DeadTopic) in the shiplens dead-letter format of package dlq: the
// record's original key and bytes, and in headers the reason, the last error,
// the source notify/<channel>/<destination> (e.g. notify/webhook/acme,
// notify/email/customers), the topic, partition and offset it was read from,
// and the time. The reasons: undeliverable (every attempt failed), refused
// (a permanent refusal), and malformed_json or missing_field for records
// that do not parse. `shiplens dlq export --dlq-topic shiplens.notify.dlq`
// reads them. A record that fails at two destinations has two dead letters.
//
// # Configuration
//
// LoadConfig reads a YAML file; unknown fields are refused with their line.
// Secrets never appear in it: it names the environment variables that hold
// them. Every field with a default may be left out. A full example:
//
//	start_at: earliest          # where a new consumer group starts: earliest (default) or latest
//
//	delivery:
//	  max_attempts: 8           # attempts per record and destination, the first included
//	  initial_backoff: 1s       # doubles after each failure; each wait is uniform in [0, backoff]
//	  max_backoff: 5m           # caps the backoff and a server's Retry-After
//	  timeout: 10s              # one HTTP request or one SMTP session
//	  workers: 4                # concurrent deliveries per destination; one shipment stays on one worker
//	  queue: 256                # records waiting per worker
//	  max_in_flight: 1024       # records per partition read and not yet finished everywhere
//	  commit_interval: 1s
//	  drain_timeout: 30s        # a revoked partition waits this long for its records in flight
//	  dedup_size: 100000        # record ids remembered per process, to skip Kafka duplicates
//
//	webhooks:
//	  - name: acme                          # labels metrics and dead letters; defaults to the merchant
//	    merchant: acme                      # a merchant id, or "*" for every record
//	    url: https://hooks.acme.example/shiplens
//	    secret_env: SHIPLENS_WEBHOOK_SECRET_ACME
//	    records: [alerts, notifications]    # the default: both
//	    min_tier: warning                   # alerts below it are not sent; default: every tier
//	    rate: 5                             # requests per second; default 10
//	    burst: 1                            # default 10
//	  - name: ops
//	    merchant: "*"
//	    url: https://ops.example/hooks/shiplens?team=cs
//	    secret_env: SHIPLENS_WEBHOOK_SECRET_OPS
//	    records: [alerts]
//
//	email:
//	  smtp: smtp.example.com:587
//	  from: "Shiplens <alerts@shiplens.example>"
//	  username_env: SHIPLENS_SMTP_USERNAME  # both or neither; AUTH PLAIN
//	  password_env: SHIPLENS_SMTP_PASSWORD
//	  starttls: always                      # auto (default: when offered), always or never
//	  hello_name: notify.shiplens.example   # sent with EHLO; default: this host's name
//	  message_id_domain: shiplens.example   # right-hand side of Message-IDs; default: the domain of from
//	  alerts_to: [cs@shop.example]          # customer service, for every merchant
//	  alerts_min_tier: warning
//	  merchants:                            # per merchant, replaces alerts_to
//	    acme:
//	      alerts_to: [support@acme.example, "Acme Logistics <logistics@acme.example>"]
//	  contacts: contacts.csv                # tracking_number,email; relative to this file
//	  contacts_reload: 1m                   # checked for changes at most this often
//	  rate: 10                              # messages per second, alerts and notifications together; default 10
//	  burst: 10
//
// The example is testdata/notify.yaml, which a test loads.
//
// # Metrics
//
// Metrics is a Prometheus collector: shiplens_notify_consumed_total{topic},
// shiplens_notify_delivered_total, shiplens_notify_retried_total and
// shiplens_notify_duplicates_total {channel, destination},
// shiplens_notify_dead_lettered_total{channel, destination, reason} (channel
// and destination "none" for records that do not parse),
// shiplens_notify_skipped_total{channel, destination, why},
// shiplens_notify_rate_limit_wait_seconds_total{channel, destination},
// shiplens_notify_in_flight and shiplens_notify_commit_errors_total.
package notify
