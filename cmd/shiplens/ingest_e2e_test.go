package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/dlq"
	"github.com/shiplens/shiplens/ingest"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
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

// waitFor polls cond every 50ms until it holds or a minute passes: for a
// state only visible from outside, such as a server that started listening.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
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

	var good []schemas.Event
	wantReasons := map[schemas.Reason]int{}
	sent := int64(0)
	post := func(path string, body []byte, sign bool) int {
		t.Helper()
		sent++
		req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
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
	// What each webhook must yield comes from the adapters' reviewed golden
	// files, not from running the adapter under test.
	webhook := func(source, file string, repeat int) {
		t.Helper()
		stem := filepath.Join("../../ingest/carriers/testdata", source, strings.TrimSuffix(file, ".json"))
		body, err := os.ReadFile(stem + ".json")
		if err != nil {
			t.Fatal(err)
		}
		events := goldenEvents(t, stem+".golden.jsonl")
		problems := goldenReasons(t, stem+".problems.golden")
		want := http.StatusAccepted
		if len(problems) > 0 {
			want = http.StatusUnprocessableEntity
		}
		good = append(good, events...)
		for i := 0; i < repeat; i++ {
			if code := post("/v1/webhooks/"+source, body, true); code != want {
				t.Fatalf("webhook %s/%s: %d, want %d", source, file, code, want)
			}
			for _, r := range problems {
				wantReasons[r]++
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
		b, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
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
	err = kafkaadmin.ReadAll(ctx, emb.Addrs(), schemas.EventsTopic, func(m *kafka.Message) error {
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
	if err := kafkaadmin.WaitCaughtUp(ctx, emb.Addrs(), "ingest-e2e", schemas.EventsTopic, kafkaadmin.WaitOptions{}); err != nil {
		t.Fatal(err)
	}
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
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/carriers: %s", res.Status)
	}
	var viaHTTP []analytics.ScoreRow
	err = json.NewDecoder(res.Body).Decode(&viaHTTP)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	reference.Compare(t, viaHTTP, reference.Scorecard(good, from, to))
	if !reflect.DeepEqual(viaHTTP, rows) {
		t.Fatalf("GET /v1/carriers differs from report carriers:\n%+v\n%+v", viaHTTP, rows)
	}

	// Every bad record is in the DLQ with its reason.
	dir := t.TempDir()
	export := filepath.Join(dir, "dlq.jsonl")
	if code, _, errs := cli(t, "dlq", "export", "--brokers", brokers, "--out", export); code != 0 {
		t.Fatal(errs)
	}
	file, err := os.Open(export)
	if err != nil {
		t.Fatal(err)
	}
	letters, err := dlq.ReadJSONLines(file, export)
	file.Close()
	if err != nil {
		t.Fatal(err)
	}
	gotReasons := map[schemas.Reason]int{}
	for _, d := range letters {
		gotReasons[d.Reason]++
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
	_, err = metrics.ReadFrom(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	wantLine := fmt.Sprintf(`shiplens_ingest_rejected_total{reason="unknown_status",source="http"} %d`, len(g.Events())/500+1)
	if !strings.Contains(metrics.String(), wantLine+"\n") {
		t.Fatalf("metrics lack %s:\n%s", wantLine, metrics.String())
	}

	// Fix one dead letter by hand and replay it; the fixed event must then
	// be in Kafka.
	var fixed *dlq.Letter
	for i := range letters {
		if letters[i].Source == "http" {
			fixed = &letters[i]
			break
		}
	}
	if fixed == nil {
		t.Fatal("no dead letter from http")
	}
	fixed.Value = bytes.Replace(fixed.Value, []byte(`"vanished"`), []byte(`"delivered"`), 1)
	want, err := schemas.Decode(fixed.Value, time.Now())
	if err != nil {
		t.Fatalf("the fixed dead letter is still invalid: %v", err)
	}
	fb, err := json.Marshal(fixed)
	if err != nil {
		t.Fatal(err)
	}
	fixedFile := filepath.Join(dir, "fixed.jsonl")
	if err := os.WriteFile(fixedFile, append(fb, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = cli(t, "dlq", "replay", "--brokers", brokers, "--in", fixedFile)
	if code != 0 || !strings.Contains(out, "replayed 1 events") {
		t.Fatalf("replay: exit %d %s %s", code, out, errs)
	}
	var replayed []schemas.Event
	err = kafkaadmin.ReadAll(ctx, emb.Addrs(), schemas.EventsTopic, func(m *kafka.Message) error {
		e, err := schemas.Decode(m.Value, time.Now())
		if err != nil {
			return err
		}
		if e.EventID == want.EventID {
			if string(m.Key) != want.TrackingNumber {
				return fmt.Errorf("replayed event keyed %q, want %q", m.Key, want.TrackingNumber)
			}
			replayed = append(replayed, e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(replayed) != 1 || replayed[0].Status != schemas.Delivered || replayed[0].TrackingNumber != want.TrackingNumber {
		t.Fatalf("replayed event %s in Kafka: %+v; want one, delivered", want.EventID, replayed)
	}
	if code, errs := stopServe(); code != 0 {
		t.Fatalf("serve exit %d: %s", code, errs)
	}
}

// goldenEvents reads a reviewed .golden.jsonl file of canonical events.
func goldenEvents(t *testing.T, path string) []schemas.Event {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []schemas.Event
	for i, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		e, err := schemas.Decode(line, time.Now())
		if err != nil {
			t.Fatalf("%s line %d: %v", path, i+1, err)
		}
		out = append(out, e)
	}
	return out
}

// problemReason finds the reason in a golden problem line, "record N: FIELD:
// REASON: detail" or "FIELD: REASON: detail"; field paths hold no spaces.
var problemReason = regexp.MustCompile(`^(?:record \d+: )?\S*: ([a-z_]+): `)

// goldenReasons reads the reasons of a reviewed .problems.golden file; a
// missing file means no problems.
func goldenReasons(t *testing.T, path string) []schemas.Reason {
	t.Helper()
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []schemas.Reason
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		m := problemReason.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s: cannot find the reason in %q", path, line)
		}
		out = append(out, schemas.Reason(m[1]))
	}
	return out
}
