#!/usr/bin/env bash
# Builds the Grafana plugin shiplens-analytics-datasource into dist/ (or
# into $1): the backend for linux/amd64 and linux/arm64, statically linked,
# beside plugin.json, module.js and the logo. Point Grafana's plugin
# directory at a folder holding dist/ renamed to shiplens-analytics-datasource,
# and allow it unsigned: [plugins] allow_loading_unsigned_plugins =
# shiplens-analytics-datasource.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dist="${1:-$here/dist}"
exe=gpx_shiplens_analytics_datasource
go="${GO:-go}"

mkdir -p "$dist/img"
rm -f "$dist/${exe}"_*
for arch in amd64 arm64; do
	echo "building $exe for linux/$arch"
	(cd "$here" && CGO_ENABLED=0 GOOS=linux GOARCH="$arch" "$go" build -trimpath -ldflags '-s -w' \
		-o "$dist/${exe}_linux_${arch}" "./cmd/$exe")
done
cp "$here/plugin.json" "$here/module.js" "$dist/"
cp "$here/img/logo.svg" "$dist/img/"
echo "plugin in $dist"
