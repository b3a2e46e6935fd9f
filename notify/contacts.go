package notify

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Contacts maps tracking numbers to the customers' e-mail addresses. The
// event contract carries no address, so they come from a CSV file with the
// header `tracking_number,email` (an export of the shop's orders); several
// rows for one tracking number give several recipients. The file is read
// again when it changes, checked at most once per reload interval, so a
// running notifier picks up new orders; a file that no longer parses keeps
// the previous contents and logs why.
type Contacts struct {
	path   string
	reload time.Duration
	log    *slog.Logger

	mu      sync.Mutex
	byNum   map[string][]string
	modTime time.Time
	size    int64
	checked time.Time
}

// LoadContacts reads the contacts file at path. reload is how often it
// checks whether the file changed; 0 defaults to one minute and a negative
// value never reloads.
func LoadContacts(path string, reload time.Duration) (*Contacts, error) {
	if reload == 0 {
		reload = time.Minute
	}
	c := &Contacts{path: path, reload: reload, log: slog.Default()}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read contacts: %w", err)
	}
	m, err := readContacts(path)
	if err != nil {
		return nil, err
	}
	c.byNum, c.modTime, c.size, c.checked = m, st.ModTime(), st.Size(), time.Now()
	return c, nil
}

// NewContacts returns contacts held in memory: tracking number to addresses.
func NewContacts(byNumber map[string][]string) *Contacts {
	return &Contacts{byNum: byNumber, reload: -1, log: slog.Default()}
}

// Len returns the number of tracking numbers with an address.
func (c *Contacts) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byNum)
}

// Lookup returns the addresses of the customer of a shipment, or nil.
func (c *Contacts) Lookup(trackingNumber string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.path != "" && c.reload > 0 && time.Since(c.checked) >= c.reload {
		c.checked = time.Now()
		c.refresh()
	}
	return c.byNum[trackingNumber]
}

// refresh rereads the file if its size or modification time changed; c.mu
// is held.
func (c *Contacts) refresh() {
	st, err := os.Stat(c.path)
	if err != nil {
		c.log.Warn("cannot check the contacts file; keeping the addresses read before", "path", c.path, "err", err)
		return
	}
	if st.ModTime().Equal(c.modTime) && st.Size() == c.size {
		return
	}
	m, err := readContacts(c.path)
	if err != nil {
		c.log.Warn("cannot reload the contacts file; keeping the addresses read before", "err", err)
		return
	}
	c.byNum, c.modTime, c.size = m, st.ModTime(), st.Size()
}

func readContacts(path string) (map[string][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read contacts: %w", err)
	}
	defer f.Close()
	m, err := parseContacts(f)
	if err != nil {
		return nil, fmt.Errorf("%s %w", path, err)
	}
	return m, nil
}

func parseContacts(r io.Reader) (map[string][]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 2
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("line 1: empty file; want the header tracking_number,email")
	}
	if err != nil {
		return nil, csvError(err)
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff") // spreadsheet exports start with a BOM
	}
	if len(head) != 2 || !strings.EqualFold(strings.TrimSpace(head[0]), "tracking_number") || !strings.EqualFold(strings.TrimSpace(head[1]), "email") {
		return nil, fmt.Errorf("line 1: header %q: want tracking_number,email", strings.Join(head, ","))
	}
	m := map[string][]string{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		num := strings.TrimSpace(rec[0])
		if num == "" {
			return nil, fmt.Errorf("line %d: empty tracking_number", line)
		}
		a, err := mail.ParseAddress(strings.TrimSpace(rec[1]))
		if err != nil {
			return nil, fmt.Errorf("line %d: email %q: %v", line, rec[1], err)
		}
		if !slices.Contains(m[num], a.Address) {
			m[num] = append(m[num], a.Address)
		}
	}
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: %v", pe.Line, pe.Err)
	}
	return err
}
