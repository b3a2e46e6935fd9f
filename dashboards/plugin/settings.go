package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/shiplens/shiplens/store"
)

// ErrSettings marks a data source configuration that cannot work: the
// Grafana user must fix it on the data source's settings page.
var ErrSettings = errors.New("invalid shiplens data source settings")

// Settings are a data source's instance settings as Grafana stores them:
// jsonData {"clickhouse": "host:port" or a clickhouse:// DSN, "database",
// "username"} and secureJsonData {"password"}. The fields given override
// what the DSN says.
type Settings struct {
	ClickHouse string `json:"clickhouse"` // defaults to store.DefaultAddr
	Database   string `json:"database"`   // defaults to the DSN's, else store.DefaultDatabase
	Username   string `json:"username"`   // defaults to the DSN's, else "default"
	Password   string `json:"-"`          // secureJsonData.password; defaults to the DSN's
}

// LoadSettings reads the instance settings of a data source. Its errors
// wrap ErrSettings.
func LoadSettings(s backend.DataSourceInstanceSettings) (Settings, error) {
	var out Settings
	if raw := strings.TrimSpace(string(s.JSONData)); raw != "" && raw != "null" {
		if err := json.Unmarshal(s.JSONData, &out); err != nil {
			return Settings{}, fmt.Errorf("%w: cannot read jsonData: %v", ErrSettings, err)
		}
	}
	out.ClickHouse = strings.TrimSpace(out.ClickHouse)
	out.Database = strings.TrimSpace(out.Database)
	out.Username = strings.TrimSpace(out.Username)
	out.Password = s.DecryptedSecureJSONData["password"]
	return out, nil
}

// Store returns the store configuration of s.
func (s Settings) Store() (store.Config, error) {
	cfg, err := store.ParseAddr(s.ClickHouse)
	if err != nil {
		return store.Config{}, fmt.Errorf("%w: clickhouse: %v", ErrSettings, err)
	}
	if s.Database != "" {
		cfg.Database = s.Database
	}
	if s.Username != "" {
		cfg.User = s.Username
	}
	if s.Password != "" {
		cfg.Password = s.Password
	}
	if err := cfg.Validate(); err != nil {
		return store.Config{}, fmt.Errorf("%w: %v", ErrSettings, err)
	}
	return cfg, nil
}
