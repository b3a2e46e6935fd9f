package notify

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shiplens/shiplens/ingest"
	"github.com/shiplens/shiplens/internal/retry"
)

// Request headers of a webhook delivery besides the signature
// (ingest.HeaderSignature, ingest.HeaderTimestamp).
const (
	HeaderIdempotencyKey = "Idempotency-Key"   // the record's ID: the same on every attempt and duplicate
	HeaderRecord         = "X-Shiplens-Record" // alert or notification
)

// webhook posts records to one URL.
type webhook struct {
	cfg    Webhook
	shown  string // the URL without query or password, for errors and logs
	client *http.Client
	now    func() time.Time
}

func newWebhook(cfg Webhook, client *http.Client) *webhook {
	shown := cfg.URL
	if u, err := url.Parse(cfg.URL); err == nil {
		u.RawQuery, u.Fragment = "", ""
		shown = u.Redacted()
	}
	return &webhook{cfg: cfg, shown: shown, client: client, now: time.Now}
}

// defaultHTTPClient follows no redirect: a 3xx would turn the POST into a
// GET or resend the body elsewhere, so it counts as a refusal.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return &http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (w *webhook) accepts(r *record) (bool, string) {
	if w.cfg.Merchant != "*" && w.cfg.Merchant != r.Merchant {
		return false, ""
	}
	switch r.Kind {
	case AlertRecord:
		return w.cfg.Alerts && (w.cfg.MinTier == "" || r.Alert.Tier.Rank() >= w.cfg.MinTier.Rank()), ""
	default:
		return w.cfg.Notifications, ""
	}
}

// send makes one attempt. Its error is retry.Permanent for a refusal that a
// retry cannot change, retry.After when the server said when to come back.
func (w *webhook) send(ctx context.Context, r *record) error {
	ts := w.now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(r.Raw))
	if err != nil {
		return retry.Permanent(fmt.Errorf("cannot build request to %s: %w", w.shown, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "shiplens-notify")
	req.Header.Set(ingest.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(ingest.HeaderSignature, "sha256="+hex.EncodeToString(ingest.Sign(w.cfg.Secret, ts, r.Raw)))
	req.Header.Set(HeaderIdempotencyKey, r.ID)
	req.Header.Set(HeaderRecord, string(r.Kind))
	resp, err := w.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL, query included
		}
		return fmt.Errorf("cannot POST to %s: %w", w.shown, err)
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection is reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("POST %s: %s%s", w.shown, resp.Status, excerpt(head))
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), w.now()); ok {
			return retry.After(err, d)
		}
		return err
	case code == http.StatusRequestTimeout || code >= 500:
		return err
	default:
		return retry.Permanent(err)
	}
}

// retryAfter parses a Retry-After header: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(min(s, int64(24*time.Hour/time.Second))) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// excerpt returns ": " and the start of a response body, on one line, when
// it is text.
func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" || !utf8.ValidString(s) {
		return ""
	}
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return ": " + s
}
