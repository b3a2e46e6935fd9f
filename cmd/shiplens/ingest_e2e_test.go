package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/ingest"
	"github.com/shiplens/shiplens/ingest/carriers"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/internal/reference"
	"github.com/shiplens/shiplens/schemas"
)

// background runs a long-lived command (serve, process) until stop.
func background(t *testing.T, args ...string) (stop func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg   sync.WaitGroup
		code int
		errb bytes.Buffer
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		code = run(ctx, args, &bytes.Buffer{}, &errb)
	}()
	var once sync.Once
	stop = func() (int, string) {
		once.Do(func() { cancel(); wg.Wait() })
		return code, errb.String()
	}
	t.Cleanup(func() { stop() })
	return stop
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitFor polls cond every 50ms until it holds or a minute passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestIngestionEndToEnd sends carrier webhooks and canonical events, good and
// bad, through `shiplens serve`, Kafka, `shiplens process` and ClickHouse,
// and checks that every good record lands once, every bad one is in the DLQ
// with its reason, and that a fixed dead letter can be replayed.
func TestIngestionEndToEnd(t *testing.T) {
	addr, db := chtest.DB(t)
	ch := "clickhouse://" + addr + "/" + db
	emb, err := broker.Start(broker.Options{Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	brokers := emb.Addrs()[0]
	if code, _, errs := cli(t, "migrate", "--clickhouse", ch); code != 0 {
		t.Fatal(errs)
	}

	secret := "whsec-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	for _, s := range []string{"AFTERSHIP", "17TRACK", "FEDEX"} {
		t.Setenv("SHIPLENS_WEBHOOK_SECRET_"+s, secret)
	}
	listen := freeAddr(t)
	stopServe := background(t, "serve", "--brokers", brokers, "--listen", listen, "--clickhouse", ch)
	base := "http://" + listen
	waitFor(t, "serve to answer /healthz", func() bool {
		res, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})

	now := time.Now()
	var good []schemas.Event
	wantReasons := map[schemas.Reason]int{}
	sent := int64(0)
	post := func(path string, body []byte, sign bool) int {
		t.Helper()
		sent++
		req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
		if sign {
			ts := time.Now().Unix() + sent // a re-send is signed anew, later
			req.Header.Set(ingest.HeaderTimestamp, strconv.FormatInt(ts, 10))
			req.Header.Set(ingest.HeaderSignature, "sha256="+hex.EncodeToString(ingest.Sign([]byte(secret), ts, body)))
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	webhook := func(source, file string, repeat int) {
		t.Helper()
		body, err := os.ReadFile(filepath.Join("../../ingest/carriers/testdata", source, file))
		if err != nil {
			t.Fatal(err)
		}
		a, _ := carriers.Lookup(source)
		res, err := a.Parse(body, now)
		if err != nil {
			t.Fatalf("%s/%s: %v", source, file, err)
		}
		good = append(good, res.Events...)
		for _, p := range res.Problems {
			wantReasons[p.Reason]++
		}
		for i := 0; i < repeat; i++ {
			want := http.StatusAccepted
			if len(res.Problems) > 0 {
				want = http.StatusUnprocessableEntity
			}
			if code := post("/v1/webhooks/"+source, body, true); code != want {
				t.Fatalf("webhook %s/%s: %d, want %d", source, file, code, want)
			}
		}
		if len(res.Problems) > 0 && repeat > 1 {
			for _, p := range res.Problems {
				wantReasons[p.Reason] += repeat - 1
			}
		}
	}
	webhook("aftership", "cn_us_customs_hold.json", 2) // a carrier re-sending the same update
	webhook("aftership", "yunexpress_failed_return.json", 1)
	webhook("aftership", "bad_records.json", 1)
	webhook("17track", "cainiao_cn_br_customs.json", 1)
	webhook("fedex", "intl_cn_us_two_packages.json", 1)

	// Canonical events, with bad lines among them.
	g, err := gen.New(gen.Config{Shipments: 300, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	var lines bytes.Buffer
	for i, e := range g.Events() {
		b, _ := e.Marshal()
		lines.Write(b)
		lines.WriteByte('\n')
		good = append(good, e)
		if i%500 == 0 {
			lines.WriteString(`{"event_id":"bad` + strconv.Itoa(i) + `","tracking_number":"X","carrier":"dhl","status":"vanished","occurred_at":"2026-10-01T00:00:00Z"}` + "\n")
			wantReasons[schemas.ReasonUnknownStatus]++
		}
	}
	if code := post("/v1/events", lines.Bytes(), false); code != http.StatusUnprocessableEntity {
		t.Fatalf("events batch: %d", code)
	}

	// Every good event is in Kafka, and nothing else.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	inKafka := map[string]int{}
	err = broker.ReadAll(ctx, emb.Addrs(), broker.EventsTopic, func(m *kafka.Message) error {
		e, err := schemas.Decode(m.Value, time.Now())
		if err != nil {
			return fmt.Errorf("invalid event in Kafka: %v", err)
		}
		inKafka[e.EventID]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := map[string]bool{}
	for _, e := range good {
		wantIDs[e.EventID] = true
		if inKafka[e.EventID] == 0 {
			t.Fatalf("good event %s (%s) is not in Kafka", e.EventID, e.Carrier)
		}
	}
	for id := range inKafka {
		if !wantIDs[id] {
			t.Fatalf("unexpected event %s in Kafka", id)
		}
	}

	// The processor turns them into facts.
	stopProc := background(t, "process", "--brokers", brokers, "--clickhouse", ch, "--group", "ingest-e2e")
	waitFor(t, "the processor to commit everything", func() bool {
		lag, total, err := broker.Lag(ctx, emb.Addrs(), "ingest-e2e", broker.EventsTopic)
		return err == nil && total > 0 && lag == 0
	})
	if code, errs := stopProc(); code != 0 {
		t.Fatalf("process: exit %d: %s", code, errs)
	}
	from, to := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2030, 12, 31, 0, 0, 0, 0, time.UTC)
	code, out, errs := cli(t, "report", "carriers", "--clickhouse", ch, "--from", "2020-01-01", "--to", "2030-12-31", "--format", "json")
	if code != 0 {
		t.Fatal(errs)
	}
	var rows []analytics.ScoreRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	reference.Compare(t, rows, reference.Scorecard(good, from, to))

	// The same figures over HTTP.
	res, err := http.Get(base + "/v1/carriers?from=2020-01-01&to=2030-12-31")
	if err != nil {
		t.Fatal(err)
	}
	var viaHTTP []analytics.ScoreRow
	json.NewDecoder(res.Body).Decode(&viaHTTP)
	res.Body.Close()
	if len(viaHTTP) != len(rows) {
		t.Fatalf("GET /v1/carriers gave %d rows, report %d", len(viaHTTP), len(rows))
	}

	// Every bad record is in the DLQ with its reason.
	dir := t.TempDir()
	export := filepath.Join(dir, "dlq.jsonl")
	if code, _, errs := cli(t, "dlq", "export", "--brokers", brokers, "--out", export); code != 0 {
		t.Fatal(errs)
	}
	raw, _ := os.ReadFile(export)
	gotReasons := map[schemas.Reason]int{}
	var letters []schemas.DeadLetter
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var d schemas.DeadLetter
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatal(err)
		}
		gotReasons[d.Reason]++
		letters = append(letters, d)
	}
	if fmt.Sprint(gotReasons) != fmt.Sprint(wantReasons) {
		t.Fatalf("DLQ reasons %v, want %v", gotReasons, wantReasons)
	}

	// Metrics count them by source and reason.
	res, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var metrics bytes.Buffer
	metrics.ReadFrom(res.Body)
	res.Body.Close()
	if !strings.Contains(metrics.String(), `shiplens_ingest_rejected_total{source="http",reason="unknown_status"}`) {
		t.Fatalf("metrics lack the http rejections:\n%s", metrics.String())
	}

	// Fix one dead letter by hand and replay it.
	var fixed *schemas.DeadLetter
	for i := range letters {
		if letters[i].Source == "http" {
			fixed = &letters[i]
			break
		}
	}
	fixed.Value = bytes.Replace(fixed.Value, []byte(`"vanished"`), []byte(`"delivered"`), 1)
	fb, _ := json.Marshal(fixed)
	fixedFile := filepath.Join(dir, "fixed.jsonl")
	os.WriteFile(fixedFile, append(fb, '\n'), 0o644)
	code, out, errs = cli(t, "dlq", "replay", "--brokers", brokers, "--in", fixedFile)
	if code != 0 || !strings.Contains(out, "replayed 1 events") {
		t.Fatalf("replay: exit %d %s %s", code, out, errs)
	}
	if code, _ := stopServe(); code != 0 {
		t.Fatalf("serve exit %d", code)
	}
}
