package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/internal/progress"
	"github.com/shiplens/shiplens/schemas"
)

// provenance is what `generate --out FILE` writes beside FILE, as
// FILE.gen.json: the generator's configuration and the file's digest, so
// that a backtest of FILE can rebuild the generator and ask its oracle,
// and knows when the file is not what the generator wrote.
type provenance struct {
	Generator string     `json:"generator"`
	Config    gen.Config `json:"config"`
	Events    int64      `json:"events"`
	SHA256    string     `json:"sha256"`
}

const provenanceName = "shiplens generate"

func provenancePath(path string) string { return path + ".gen.json" }

func writeProvenance(path string, cfg gen.Config, events int64, digest []byte) error {
	b, err := json.MarshalIndent(provenance{Generator: provenanceName, Config: cfg, Events: events, SHA256: hex.EncodeToString(digest)}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(provenancePath(path), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("cannot write %s: %w", provenancePath(path), err)
	}
	return nil
}

// readEvents reads canonical events, one JSON object per line. A line that
// is not a valid event is skipped and counted; the first few are reported.
func readEvents(path string, stderr io.Writer) (evs []schemas.Event, digest []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot open the input: %w", err)
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	bar := progress.New(stderr, "reading events", size, "bytes")
	h := sha256.New()
	sc := bufio.NewScanner(io.TeeReader(f, h))
	sc.Buffer(make([]byte, 0, 1<<16), schemas.MaxEventSize+1)
	now := time.Now()
	line, bad := 0, 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		bar.Add(int64(len(b) + 1))
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		e, err := schemas.Decode(b, now)
		if err != nil {
			bad++
			if bad <= 3 {
				fmt.Fprintf(stderr, "%s:%d: skipped: %v\n", path, line, err)
			}
			continue
		}
		evs = append(evs, e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, nil, fmt.Errorf("cannot read %s: line %d is longer than %d bytes, the limit of an event", path, line+1, schemas.MaxEventSize)
		}
		return nil, nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	bar.Finish()
	if bad > 0 {
		fmt.Fprintf(stderr, "%d of %d lines were not valid events and were skipped\n", bad, line)
	}
	return evs, h.Sum(nil), nil
}

// oracleFor returns the generator's oracle when path was written by
// `shiplens generate` and has not changed since, else nil and why not.
func oracleFor(path string, digest []byte, continuations int) (eta.OracleFunc, string) {
	b, err := os.ReadFile(provenancePath(path))
	if errors.Is(err, os.ErrNotExist) {
		return nil, "the input was not written by shiplens generate (no " + provenancePath(path) + ")"
	}
	if err != nil {
		return nil, err.Error()
	}
	var p provenance
	if err := json.Unmarshal(b, &p); err != nil || p.Generator != provenanceName {
		return nil, provenancePath(path) + " is not a generator's record"
	}
	if p.SHA256 != hex.EncodeToString(digest) {
		return nil, path + " has changed since shiplens generate wrote it"
	}
	g, err := gen.New(p.Config)
	if err != nil {
		return nil, err.Error()
	}
	o := g.NewOracle(continuations)
	return o.Predict, ""
}

func runBacktest(args []string, stdout, stderr io.Writer) error {
	f := newFlags("eta backtest", "eta backtest --input FILE.jsonl [--format json|table] [--oracle-draws N]", stderr)
	input := f.String("input", "", "canonical events as JSON lines, in any order (e.g. from shiplens generate --out)")
	format := f.String("format", "table", "json or table")
	draws := f.Int("oracle-draws", 0, "continuations the generator's oracle simulates per prediction (0: its default)")
	halfLife := f.durationFlag("half-life", 30*24*time.Hour, nil, "event time after which a delivery weighs half in the model")
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	if *input == "" {
		return errUsage{"--input is required"}
	}
	if *format != "json" && *format != "table" {
		return errUsage{fmt.Sprintf("unknown --format %q: want json or table", *format)}
	}
	evs, digest, err := readEvents(*input, stderr)
	if err != nil {
		return err
	}
	began := time.Now()
	oracle, why := oracleFor(*input, digest, *draws)
	if oracle == nil {
		fmt.Fprintf(stderr, "no oracle: %s\n", why)
	}
	bar := progress.New(stderr, "replaying events", int64(len(evs)), "events")
	last := 0
	r, _ := eta.Backtest(evs, eta.BacktestOptions{
		Model:   eta.Config{HalfLife: *halfLife},
		Oracle:  oracle,
		Workers: runtime.GOMAXPROCS(0),
		Progress: func(done, total int) {
			bar.Add(int64(done - last))
			last = done
		},
	})
	bar.Finish()
	r.Seconds = time.Since(began).Seconds()
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return backtestTable(stdout, r)
}

func backtestTable(w io.Writer, r *eta.Report) error {
	fmt.Fprintf(w, "%d shipments delivered, %d predictions scored, %d events (%d duplicates), %d model versions, %.1f s\n\n",
		r.Shipments, r.Predictions, r.Events, r.Duplicates, r.ModelVersions, r.Seconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "predictor\tMAE h\tmedian |err| h\tp90 |err| h\tbias h\twithin 24h\tsame day\tp10-p90 coverage\tinterval h\t")
	row := func(name string, f eta.Figures) {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%+.1f\t%.1f%%\t%.1f%%\t%.1f%%\t%.1f\t\n", name, f.MAEHours, f.MedianAbsErrorHours, f.P90AbsErrorHours,
			f.BiasHours, 100*f.Within24h, 100*f.SameDay, 100*f.Coverage, f.MeanIntervalHours)
	}
	row("model", r.Model)
	if r.Oracle != nil {
		row("oracle", *r.Oracle)
	}
	fmt.Fprintf(tw, "promised date\t%.1f\t\t\t\t%.1f%%\t%.1f%%\t\t\t\n", r.Promised.MAEHours, 100*r.Promised.Within24h, 100*r.Promised.SameDay)
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "milestone\tpredictions\tmodel MAE h\twithin 24h\tcoverage\tpromised MAE h\t")
	for _, m := range r.ByMilestone {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f%%\t%.1f%%\t%.1f\t\n", m.Milestone, m.Predictions, m.Model.MAEHours, 100*m.Model.Within24h, 100*m.Model.Coverage, m.Promised.MAEHours)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "days to delivery\tpredictions\tmodel MAE h\twithin 24h\tcoverage\t")
	for _, b := range r.ByRemaining {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f%%\t%.1f%%\t\n", b.RemainingDays, b.Predictions, b.Model.MAEHours, 100*b.Model.Within24h, 100*b.Model.Coverage)
	}
	return tw.Flush()
}
