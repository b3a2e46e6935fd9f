package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/shiplens/shiplens/ingest/carriers"
)

func runNormalize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("normalize", "normalize --carrier CODE [FILE]", stderr)
	carrier := f.String("carrier", "", "payload format: "+strings.Join(carriers.Sources(), ", "))
	strict := f.Bool("strict", false, "exit 1 when any record could not be turned into an event")
	if err := f.parse(args); err != nil {
		return err
	}
	if *carrier == "" {
		return errUsage{"--carrier is required: one of " + strings.Join(carriers.Sources(), ", ")}
	}
	if f.NArg() > 1 {
		return errUsage{"at most one FILE (or standard input)"}
	}
	adapter, err := carriers.Lookup(*carrier)
	if err != nil {
		return errUsage{err.Error()}
	}
	in := io.Reader(os.Stdin)
	name := "standard input"
	if f.NArg() == 1 && f.Arg(0) != "-" {
		file, err := os.Open(f.Arg(0))
		if err != nil {
			return fmt.Errorf("cannot open payload: %w", err)
		}
		defer file.Close()
		in, name = file, f.Arg(0)
	}
	payload, err := io.ReadAll(io.LimitReader(in, carriers.MaxPayload+1))
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", name, err)
	}
	res, err := adapter.Parse(payload, time.Now())
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	for i := range res.Events {
		b, err := res.Events[i].Marshal()
		if err != nil {
			return err
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, p := range res.Problems {
		fmt.Fprintf(stderr, "skipped %v\n", p)
	}
	if len(res.Problems) > 0 {
		fmt.Fprintf(stderr, "%d events, %d records skipped\n", len(res.Events), len(res.Problems))
		if *strict {
			return fmt.Errorf("%d records of %s could not be normalized", len(res.Problems), name)
		}
	}
	return nil
}
