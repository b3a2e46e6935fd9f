package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/store"
)

var errHelp = errors.New("help shown")

// flags is a subcommand's flag set that also reads SHIPLENS_* variables.
type flags struct {
	*flag.FlagSet
	out      io.Writer
	synopsis string
}

func newFlags(name, synopsis string, out io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := &flags{FlagSet: fs, out: out, synopsis: synopsis}
	fs.Usage = func() {} // errors get one line, not the whole usage
	return f
}

// usage prints the synopsis and every flag, for -h.
func (f *flags) usage() {
	fmt.Fprintf(f.out, "Usage: shiplens %s\n\nFlags (each also read from SHIPLENS_<FLAG>):\n", f.synopsis)
	f.SetOutput(f.out)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
}

// envName returns the environment variable of a flag: --clickhouse is
// SHIPLENS_CLICKHOUSE, --flush-interval is SHIPLENS_FLUSH_INTERVAL.
func envName(flagName string) string {
	return "SHIPLENS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse parses args; flags not given take their SHIPLENS_* variable if set.
func (f *flags) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			f.usage()
			return errHelp
		}
		return errUsage{err.Error()}
	}
	set := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	var err error
	f.VisitAll(func(fl *flag.Flag) {
		if set[fl.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(fl.Name)); ok {
			if e := fl.Value.Set(v); e != nil {
				err = errUsage{fmt.Sprintf("invalid value %q for %s: %v", v, envName(fl.Name), e)}
			}
		}
	})
	return err
}

// parseNoArgs is parse for commands that take no positional arguments.
func (f *flags) parseNoArgs(args []string) error {
	if err := f.parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return errUsage{fmt.Sprintf("unexpected argument %q", f.Arg(0))}
	}
	return nil
}

// brokerList parses --brokers; a bad value is a usage error.
func brokerList(s string) ([]string, error) {
	bs, err := broker.ParseBrokers(s)
	if err != nil {
		return nil, errUsage{err.Error()}
	}
	return bs, nil
}

// clickhouseConfig parses --clickhouse; a bad value is a usage error.
func clickhouseConfig(s string) (store.Config, error) {
	cfg, err := store.ParseAddr(s)
	if err != nil {
		return cfg, errUsage{err.Error()}
	}
	return cfg, nil
}

// openStore parses --clickhouse and connects; the caller closes the store.
func openStore(ctx context.Context, s string) (*store.Store, store.Config, error) {
	cfg, err := clickhouseConfig(s)
	if err != nil {
		return nil, cfg, err
	}
	db, err := store.Open(ctx, cfg)
	return db, cfg, err
}
