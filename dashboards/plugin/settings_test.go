package plugin

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/shiplens/shiplens/store"
)

func TestSettings(t *testing.T) {
	f := func(jsonData string, secure map[string]string, want store.Config) {
		t.Helper()
		s, err := LoadSettings(backend.DataSourceInstanceSettings{JSONData: []byte(jsonData), DecryptedSecureJSONData: secure})
		if err != nil {
			t.Fatalf("%s: %v", jsonData, err)
		}
		got, err := s.Store()
		if err != nil {
			t.Fatalf("%s: %v", jsonData, err)
		}
		if got != want {
			t.Errorf("%s: %+v, want %+v", jsonData, got, want)
		}
	}
	def := 5 * time.Second
	f(``, nil, store.Config{Addr: "127.0.0.1:9000", Database: "shiplens", User: "default", DialTimeout: def})
	f(`{}`, nil, store.Config{Addr: "127.0.0.1:9000", Database: "shiplens", User: "default", DialTimeout: def})
	f(`{"clickhouse": " ch:9000 ", "database": "analytics", "username": "grafana"}`, map[string]string{"password": "p w"},
		store.Config{Addr: "ch:9000", Database: "analytics", User: "grafana", Password: "p w", DialTimeout: def})
	f(`{"clickhouse": "clickhouse://u:dsn@ch:9440/db1?dial_timeout=2s"}`, nil,
		store.Config{Addr: "ch:9440", Database: "db1", User: "u", Password: "dsn", DialTimeout: 2 * time.Second})
	// The fields given win over the DSN's.
	f(`{"clickhouse": "clickhouse://u:dsn@ch:9440/db1", "database": "db2", "username": "v"}`, map[string]string{"password": "secure"},
		store.Config{Addr: "ch:9440", Database: "db2", User: "v", Password: "secure", DialTimeout: def})

	bad := func(jsonData, want string) {
		t.Helper()
		s, err := LoadSettings(backend.DataSourceInstanceSettings{JSONData: []byte(jsonData)})
		if err == nil {
			_, err = s.Store()
		}
		if !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want ErrSettings with %q", jsonData, err, want)
		}
		if _, err := New(backend.DataSourceInstanceSettings{JSONData: []byte(jsonData)}, Options{}); err == nil {
			t.Errorf("%s: New accepted it", jsonData)
		}
	}
	bad(`{"clickhouse": 9000}`, "cannot read jsonData")
	bad(`{"clickhouse": "localhost"}`, "want host:port")
	bad(`{"clickhouse": "https://ch:8443"}`, "only the native protocol")
	bad(`{"database": "a-b"}`, "invalid ClickHouse database name")
}
