// Command gpx_shiplens_analytics_datasource is the backend of the Grafana
// data source shiplens-analytics-datasource. Grafana starts it and talks
// to it over gRPC; it is not meant to be run by hand (build.sh builds it).
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/shiplens/shiplens/dashboards/plugin"
)

func main() {
	if err := datasource.Manage(plugin.ID, plugin.NewDatasource, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error(err.Error())
		os.Exit(1)
	}
}
