// Command gen writes shiplens' Grafana dashboards (package dashboards) to
// their JSON files in dashboards/json, the folder Grafana provisions:
//
//	go run ./dashboards/gen
//
// A test of package dashboards fails when the committed files differ from
// what gen writes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/shiplens/shiplens/dashboards"
)

func main() {
	dir := flag.String("dir", "", "folder to write the JSON files into (default: dashboards/json of the module)")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return err
		}
		dir = filepath.Join(root, "dashboards", "json")
	}
	ds, err := dashboards.Build()
	if err != nil {
		return err
	}
	for _, d := range ds {
		path := filepath.Join(dir, d.File)
		if old, err := os.ReadFile(path); err == nil && string(old) == string(d.JSON) {
			continue
		}
		if err := os.WriteFile(path, d.JSON, 0o644); err != nil {
			return fmt.Errorf("cannot write dashboard %s: %w", d.UID, err)
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", path)
	}
	return nil
}

// moduleRoot returns the folder of the go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the module root (go.mod) above the working directory; pass -dir")
		}
		dir = parent
	}
}
