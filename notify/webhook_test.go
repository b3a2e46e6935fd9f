package notify_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/notify"
)

// TestWebhookRetriesAndDeliversOnce: a receiver that answers 503 twice for
// every record and then 200 gets each record exactly once as a success,
// signed, with its idempotency key, in order per shipment; a Kafka duplicate
// is not delivered again.
func TestWebhookRetriesAndDeliversOnce(t *testing.T) {
	t.Parallel()
	brokers := startBroker(t)
	const secret = "s3cret-acme"
	h := newHook(t, secret, func(_ string, n int) (int, http.Header) {
		if n <= 2 {
			return http.StatusServiceUnavailable, nil
		}
		return http.StatusOK, nil
	})
	a1 := alertJSON("a1", "LX100CN", "acme", "critical", 1, "opened")
	a2 := alertJSON("a1", "LX100CN", "acme", "critical", 2, "escalated")
	a3 := alertJSON("b7", "LX200CN", "acme", "warning", 1, "opened")
	n1 := notificationJSON("n1", "LX100CN", "acme", "en", "Your parcel arrived in the US", "Hello, your parcel LX100CN arrived.")
	n2 := notificationJSON("n2", "LX200CN", "acme", "zh", "您的包裹已到达", "您好，您的包裹已到达目的地国家。")
	other := alertJSON("c9", "LX300CN", "globex", "critical", 1, "opened") // another merchant: not this hook's
	produce(t, brokers, a1, a2, a3, n1, n2, other, a1 /* a Kafka duplicate */)

	cfg := notify.Config{Brokers: brokers, Group: "g-retry", Delivery: fastDelivery,
		Webhooks: []notify.Webhook{{Name: "acme", Merchant: "acme", URL: h.URL + "/hook", Secret: []byte(secret), Alerts: true, Notifications: true, Rate: 1000, Burst: 100}}}
	n, stop := run(t, cfg)
	waitCommitted(t, brokers, "g-retry", alertsTopic, notificationsTopic)
	stop()

	want := map[string]msg{"a1:1:opened": a1, "a1:2:escalated": a2, "b7:1:opened": a3, "n1": n1, "n2": n2}
	got := map[string]int{}
	for _, x := range h.successes() {
		got[x.key]++
		m, ok := want[x.key]
		if !ok {
			t.Errorf("unexpected delivery with key %q: %s", x.key, x.body)
			continue
		}
		if x.body != m.value {
			t.Errorf("%s: body %s, want the record as is: %s", x.key, x.body, m.value)
		}
		if !validSignature(secret, x.ts, x.signature, x.body) {
			t.Errorf("%s: bad signature %q at timestamp %q", x.key, x.signature, x.ts)
		}
		wantRecord := "alert"
		if m.topic == notificationsTopic {
			wantRecord = "notification"
		}
		if x.record != wantRecord || x.contentType != "application/json" || x.attempt != 3 {
			t.Errorf("%s: X-Shiplens-Record %q, Content-Type %q, attempt %d; want %s, application/json, 3", x.key, x.record, x.contentType, x.attempt, wantRecord)
		}
	}
	for key := range want {
		if got[key] != 1 {
			t.Errorf("%s delivered %d times, want once", key, got[key])
		}
	}
	if hits := len(h.all()); hits != 3*len(want) {
		t.Errorf("%d requests, want %d (3 per record)", hits, 3*len(want))
	}
	// Every failed attempt is signed too.
	for _, x := range h.all() {
		if !validSignature(secret, x.ts, x.signature, x.body) {
			t.Errorf("%s attempt %d: bad signature", x.key, x.attempt)
		}
	}
	// One shipment's records arrive in order.
	var order []string
	for _, x := range h.successes() {
		if strings.HasPrefix(x.key, "a1:") {
			order = append(order, x.key)
		}
	}
	if strings.Join(order, ",") != "a1:1:opened,a1:2:escalated" {
		t.Errorf("LX100CN's alerts arrived as %v", order)
	}
	f := func(name string, labels map[string]string, want float64) {
		t.Helper()
		if got := metric(t, n, name, labels); got != want {
			t.Errorf("%s%v = %g, want %g", name, labels, got, want)
		}
	}
	hook := map[string]string{"channel": "webhook", "destination": "acme"}
	f("shiplens_notify_delivered_total", hook, 5)
	f("shiplens_notify_retried_total", hook, 10)
	f("shiplens_notify_duplicates_total", hook, 1)
	f("shiplens_notify_dead_lettered_total", nil, 0)
	f("shiplens_notify_consumed_total", map[string]string{"topic": alertsTopic}, 5)
	f("shiplens_notify_consumed_total", map[string]string{"topic": notificationsTopic}, 2)
	f("shiplens_notify_in_flight", nil, 0)
	if letters := readDead(t, brokers); len(letters) != 0 {
		t.Errorf("%d dead letters, want none", len(letters))
	}
}

// TestUnreachableDestinationDeadLetters: a destination that never answers
// ends in the dead-letter topic with the reason, the destination and the
// original bytes, and is counted; the healthy destination beside it gets
// everything.
func TestUnreachableDestinationDeadLetters(t *testing.T) {
	t.Parallel()
	brokers := startBroker(t)
	ok := newHook(t, "ok-secret", func(string, int) (int, http.Header) { return http.StatusNoContent, nil })
	a := alertJSON("a1", "LX100CN", "acme", "critical", 1, "opened")
	nt := notificationJSON("n1", "LX100CN", "acme", "en", "Arrived", "Your parcel arrived.")
	produce(t, brokers, a, nt)
	delivery := fastDelivery
	delivery.MaxAttempts = 3
	cfg := notify.Config{Brokers: brokers, Group: "g-down", Delivery: delivery, Webhooks: []notify.Webhook{
		{Name: "down", Merchant: "*", URL: closedURL(t), Secret: []byte("x"), Alerts: true, Notifications: true},
		{Name: "ok", Merchant: "acme", URL: ok.URL, Secret: []byte("ok-secret"), Alerts: true, Notifications: true},
	}}
	n, stop := run(t, cfg)
	waitCommitted(t, brokers, "g-down", alertsTopic, notificationsTopic)
	stop()

	letters := readDead(t, brokers)
	if len(letters) != 2 {
		t.Fatalf("%d dead letters, want 2: %+v", len(letters), letters)
	}
	byValue := map[string]bool{a.value: false, nt.value: false}
	for _, d := range letters {
		if _, ok := byValue[string(d.Value)]; !ok {
			t.Errorf("dead letter with other bytes than the record: %s", d.Value)
		}
		byValue[string(d.Value)] = true
		if d.Source != "notify/webhook/down" || d.Reason != "undeliverable" {
			t.Errorf("dead letter source %q reason %q, want notify/webhook/down undeliverable", d.Source, d.Reason)
		}
		if !strings.Contains(d.Error, "after 3 attempts") || !strings.Contains(d.Error, "connection refused") {
			t.Errorf("dead letter error %q: want the attempts and the cause", d.Error)
		}
		if (d.Topic != alertsTopic && d.Topic != notificationsTopic) || d.Offset != 0 || string(d.Key) != "LX100CN" {
			t.Errorf("dead letter from %s/%d@%d key %q", d.Topic, d.Partition, d.Offset, d.Key)
		}
	}
	for v, seen := range byValue {
		if !seen {
			t.Errorf("no dead letter for %s", v)
		}
	}
	if got := metric(t, n, "shiplens_notify_dead_lettered_total", map[string]string{"channel": "webhook", "destination": "down", "reason": "undeliverable"}); got != 2 {
		t.Errorf("dead-lettered counter %g, want 2", got)
	}
	if got := metric(t, n, "shiplens_notify_retried_total", map[string]string{"destination": "down"}); got != 4 {
		t.Errorf("retried counter %g, want 4 (2 retries of each record)", got)
	}
	if got := len(ok.successes()); got != 2 {
		t.Errorf("the healthy destination got %d records, want 2", got)
	}
}

// TestRetryAfterAndPermanentRefusal: a 429 with Retry-After waits as long as
// asked before the next attempt; a 400 is not retried and dead-letters at
// once.
func TestRetryAfterAndPermanentRefusal(t *testing.T) {
	t.Parallel()
	brokers := startBroker(t)
	busy := newHook(t, "k", func(_ string, n int) (int, http.Header) {
		if n == 1 {
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}
		}
		return http.StatusOK, nil
	})
	strict := newHook(t, "k", func(string, int) (int, http.Header) { return http.StatusBadRequest, nil })
	produce(t, brokers, alertJSON("a1", "LX100CN", "acme", "critical", 1, "opened"))
	cfg := notify.Config{Brokers: brokers, Group: "g-429", Delivery: fastDelivery, Webhooks: []notify.Webhook{
		{Name: "busy", Merchant: "*", URL: busy.URL, Secret: []byte("k"), Alerts: true},
		{Name: "strict", Merchant: "*", URL: strict.URL, Secret: []byte("k"), Alerts: true},
	}}
	// MaxBackoff (20ms) caps computed backoffs, not this test's Retry-After.
	cfg.Delivery.MaxBackoff = 2 * time.Second
	n, stop := run(t, cfg)
	waitCommitted(t, brokers, "g-429", alertsTopic)
	stop()

	hits := busy.all()
	if len(hits) != 2 || hits[0].status != 429 || hits[1].status != 200 {
		t.Fatalf("busy hook saw %d requests: %+v", len(hits), hits)
	}
	if gap := hits[1].at.Sub(hits[0].at); gap < time.Second {
		t.Errorf("retried %v after a 429 with Retry-After: 1", gap)
	}
	if got := len(strict.all()); got != 1 {
		t.Errorf("a 400 was tried %d times, want once", got)
	}
	letters := readDead(t, brokers)
	if len(letters) != 1 || letters[0].Source != "notify/webhook/strict" || letters[0].Reason != "refused" || !strings.Contains(letters[0].Error, "400 Bad Request") {
		t.Fatalf("dead letters %+v, want one refused by notify/webhook/strict", letters)
	}
	if got := metric(t, n, "shiplens_notify_retried_total", map[string]string{"destination": "strict"}); got != 0 {
		t.Errorf("the 400 was retried %g times", got)
	}
	if got := metric(t, n, "shiplens_notify_dead_lettered_total", map[string]string{"destination": "strict", "reason": "refused"}); got != 1 {
		t.Errorf("refused counter %g, want 1", got)
	}
}

// TestRateLimit: at 5 requests/s with a burst of 1, N records cannot all
// arrive before (N-1)/5 s have passed (a lower bound only).
func TestRateLimit(t *testing.T) {
	t.Parallel()
	brokers := startBroker(t)
	h := newHook(t, "k", func(string, int) (int, http.Header) { return http.StatusOK, nil })
	const records = 6
	var msgs []msg
	for i := range records {
		msgs = append(msgs, alertJSON("a"+string(rune('0'+i)), "LX"+string(rune('0'+i))+"CN", "acme", "critical", 1, "opened"))
	}
	produce(t, brokers, msgs...)
	cfg := notify.Config{Brokers: brokers, Group: "g-rate", Delivery: fastDelivery, Webhooks: []notify.Webhook{
		{Name: "slow", Merchant: "*", URL: h.URL, Secret: []byte("k"), Alerts: true, Rate: 5, Burst: 1},
	}}
	began := time.Now()
	n, stop := run(t, cfg)
	waitCommitted(t, brokers, "g-rate", alertsTopic)
	stop()
	hits := h.successes()
	if len(hits) != records {
		t.Fatalf("%d deliveries, want %d", len(hits), records)
	}
	const spacing = 200 * time.Millisecond // 1/5 s
	if took := hits[len(hits)-1].at.Sub(began); took < (records-1)*spacing {
		t.Errorf("%d records at 5/s with burst 1 all arrived %v after the start, before %v", records, took, (records-1)*spacing)
	}
	if w := metric(t, n, "shiplens_notify_rate_limit_wait_seconds_total", map[string]string{"destination": "slow"}); w <= 0 {
		t.Errorf("no time counted waiting for the rate limit")
	}
}

// TestUncommittedUntilDelivered: a record still failing when the notifier
// stops is neither committed nor dead-lettered, and the next run delivers it.
func TestUncommittedUntilDelivered(t *testing.T) {
	t.Parallel()
	brokers := startBroker(t)
	healthy := make(chan struct{})
	attempted := make(chan struct{}, 1)
	h := newHook(t, "k", func(string, int) (int, http.Header) {
		select {
		case <-healthy:
			return http.StatusOK, nil
		default:
		}
		select {
		case attempted <- struct{}{}:
		default:
		}
		return http.StatusBadGateway, nil
	})
	produce(t, brokers, alertJSON("a1", "LX100CN", "acme", "critical", 1, "opened"))
	delivery := fastDelivery
	delivery.MaxAttempts = 1000000
	delivery.DrainTimeout = 50 * time.Millisecond
	cfg := notify.Config{Brokers: brokers, Group: "g-restart", Delivery: delivery, Webhooks: []notify.Webhook{
		{Name: "flaky", Merchant: "*", URL: h.URL, Secret: []byte("k"), Alerts: true},
	}}
	_, stop := run(t, cfg)
	select {
	case <-attempted:
	case <-time.After(60 * time.Second):
		t.Fatal("no delivery attempt within a minute")
	}
	stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lag, total, err := kafkaadmin.Lag(ctx, brokers, "g-restart", alertsTopic)
	if err != nil || lag != 1 || total != 1 {
		t.Fatalf("after a stop with the record undelivered: lag %d of %d (%v), want 1 of 1", lag, total, err)
	}
	if letters := readDead(t, brokers); len(letters) != 0 {
		t.Fatalf("%d dead letters, want none", len(letters))
	}
	close(healthy)
	_, stop = run(t, cfg)
	waitCommitted(t, brokers, "g-restart", alertsTopic)
	stop()
	if got := len(h.successes()); got != 1 {
		t.Errorf("%d successful deliveries after the restart, want 1", got)
	}
}

// TestMalformedRecordDeadLettered: a record that is not an alert goes to the
// dead-letter topic as is and does not stop the notifier.
func TestMalformedRecordDeadLettered(t *testing.T) {
	t.Parallel()
	brokers := startBroker(t)
	h := newHook(t, "k", func(string, int) (int, http.Header) { return http.StatusOK, nil })
	good := alertJSON("a1", "LX100CN", "acme", "critical", 1, "opened")
	produce(t, brokers, msg{alertsTopic, "LX100CN", `{"alert_id":`}, msg{alertsTopic, "LX100CN", `{"alert_id":"x","tracking_number":"LX100CN"}`}, good)
	cfg := notify.Config{Brokers: brokers, Group: "g-bad", Delivery: fastDelivery, Webhooks: []notify.Webhook{
		{Name: "h", Merchant: "*", URL: h.URL, Secret: []byte("k"), Alerts: true},
	}}
	n, stop := run(t, cfg)
	waitCommitted(t, brokers, "g-bad", alertsTopic)
	stop()
	letters := readDead(t, brokers)
	reasons := map[string]string{}
	for _, d := range letters {
		reasons[string(d.Value)] = string(d.Reason)
		if d.Source != "notify" {
			t.Errorf("source %q, want notify", d.Source)
		}
	}
	if len(letters) != 2 || reasons[`{"alert_id":`] != "malformed_json" || reasons[`{"alert_id":"x","tracking_number":"LX100CN"}`] != "missing_field" {
		t.Errorf("dead letters %v", reasons)
	}
	if got := len(h.successes()); got != 1 {
		t.Errorf("%d deliveries, want the good record", got)
	}
	if got := metric(t, n, "shiplens_notify_dead_lettered_total", map[string]string{"channel": "none"}); got != 2 {
		t.Errorf("dead-lettered counter %g, want 2", got)
	}
}

func TestFiltering(t *testing.T) {
	t.Parallel()
	brokers := startBroker(t)
	h := newHook(t, "k", func(string, int) (int, http.Header) { return http.StatusOK, nil })
	produce(t, brokers,
		alertJSON("a1", "LX1", "acme", "info", 1, "opened"),
		alertJSON("a2", "LX2", "acme", "warning", 1, "opened"),
		alertJSON("a3", "LX3", "acme", "critical", 1, "opened"),
		alertJSON("a4", "LX4", "globex", "critical", 1, "opened"),
		notificationJSON("n1", "LX1", "acme", "en", "s", "b"))
	cfg := notify.Config{Brokers: brokers, Group: "g-filter", Delivery: fastDelivery, Webhooks: []notify.Webhook{
		{Name: "acme", Merchant: "acme", URL: h.URL, Secret: []byte("k"), Alerts: true, MinTier: "warning"},
	}}
	_, stop := run(t, cfg)
	waitCommitted(t, brokers, "g-filter", alertsTopic, notificationsTopic)
	stop()
	var keys []string
	for _, x := range h.successes() {
		keys = append(keys, x.key)
	}
	if len(keys) != 2 || !(keys[0] == "a2:1:opened" || keys[1] == "a2:1:opened") || !(keys[0] == "a3:1:opened" || keys[1] == "a3:1:opened") {
		t.Errorf("delivered %v, want acme's warning and critical alerts only", keys)
	}
}

// TestFinalCommitOnStop: records delivered just before a stop are committed
// by the stop itself, not only by the periodic commit.
func TestFinalCommitOnStop(t *testing.T) {
	t.Parallel()
	brokers := startBroker(t)
	delivered := make(chan struct{}, 10)
	h := newHook(t, "k", func(string, int) (int, http.Header) {
		delivered <- struct{}{}
		return http.StatusOK, nil
	})
	produce(t, brokers, alertJSON("a1", "LX100CN", "acme", "critical", 1, "opened"), alertJSON("a2", "LX200CN", "acme", "critical", 1, "opened"))
	delivery := fastDelivery
	delivery.CommitInterval = time.Hour
	cfg := notify.Config{Brokers: brokers, Group: "g-final", Delivery: delivery, Webhooks: []notify.Webhook{
		{Name: "h", Merchant: "*", URL: h.URL, Secret: []byte("k"), Alerts: true},
	}}
	_, stop := run(t, cfg)
	for range 2 {
		select {
		case <-delivered:
		case <-time.After(60 * time.Second):
			t.Fatal("no delivery within a minute")
		}
	}
	stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if lag, total, err := kafkaadmin.Lag(ctx, brokers, "g-final", alertsTopic); err != nil || lag != 0 || total != 2 {
		t.Fatalf("after the stop: lag %d of %d (%v), want 0 of 2", lag, total, err)
	}
}

// TestSlowDestinationDoesNotBlockOthers: while one destination hangs on
// every request, another gets every record.
func TestSlowDestinationDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	brokers := startBroker(t)
	release := make(chan struct{})
	hung := newHook(t, "k", func(string, int) (int, http.Header) {
		<-release
		return http.StatusOK, nil
	})
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock) // before the hook's Close, which waits for its handlers
	got := make(chan struct{}, 100)
	fast := newHook(t, "k", func(string, int) (int, http.Header) {
		got <- struct{}{}
		return http.StatusOK, nil
	})
	const records = 5
	var msgs []msg
	for i := range records {
		tn := "LX" + string(rune('0'+i)) + "CN"
		msgs = append(msgs, alertJSON("a"+string(rune('0'+i)), tn, "acme", "critical", 1, "opened"))
	}
	produce(t, brokers, msgs...)
	delivery := fastDelivery
	delivery.Timeout = 10 * time.Minute
	cfg := notify.Config{Brokers: brokers, Group: "g-slow", Delivery: delivery, Webhooks: []notify.Webhook{
		{Name: "hung", Merchant: "*", URL: hung.URL, Secret: []byte("k"), Alerts: true},
		{Name: "fast", Merchant: "*", URL: fast.URL, Secret: []byte("k"), Alerts: true},
	}}
	_, stop := run(t, cfg)
	for i := range records {
		select {
		case <-got:
		case <-time.After(60 * time.Second):
			t.Fatalf("the fast destination got %d of %d records while the other hung", i, records)
		}
	}
	unblock()
	waitCommitted(t, brokers, "g-slow", alertsTopic)
	stop()
	if n := len(hung.successes()); n != records {
		t.Errorf("the hung destination got %d records once released, want %d", n, records)
	}
}
