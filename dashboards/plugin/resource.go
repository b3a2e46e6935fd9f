package plugin

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
)

// resources serves the query editor's lists, as JSON arrays of strings:
//
//	GET carriers[?from=&to=]          the carriers with deliveries or exceptions
//	GET lanes[?carrier=&from=&to=]    the lanes, of one carrier when given
//
// from and to are Unix milliseconds (Grafana's range) or YYYY-MM-DD days,
// bounding the days read; without them every day is.
func (d *Datasource) resources() http.Handler {
	mux := http.NewServeMux()
	list := func(column string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet {
				http.Error(w, "only GET is served", http.StatusMethodNotAllowed)
				return
			}
			v := r.URL.Query()
			from, err1 := parseBound(v.Get("from"))
			to, err2 := parseBound(v.Get("to"))
			if err1 != nil || err2 != nil {
				http.Error(w, "from and to are Unix milliseconds or YYYY-MM-DD", http.StatusBadRequest)
				return
			}
			carrier := ""
			if column == "lane" {
				carrier = v.Get("carrier")
			}
			st, err := d.store(r.Context())
			var out []string
			if err == nil {
				out, err = labels(r.Context(), st, column, carrier, from, to)
			}
			if err != nil {
				log.DefaultLogger.Warn("cannot list "+column+"s", "err", err)
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(out)
		}
	}
	mux.HandleFunc("/carriers", list("carrier"))
	mux.HandleFunc("/lanes", list("lane"))
	return mux
}

// parseBound reads a range bound: empty, Unix milliseconds or a day.
func parseBound(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Parse(time.DateOnly, s)
}
