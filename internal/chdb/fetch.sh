#!/bin/sh
# fetch.sh: download libchdb.so (current ClickHouse as a library, used by the
# tests of internal/chdb and every package that checks its SQL on a current
# engine) into .cache/chdb at the module root. Idempotent: does nothing when
# the library is already there. Needs only npm (the npm registry); no cgo.
#
#   sh internal/chdb/fetch.sh            # from anywhere in the repository
#   CHDB_NPM_VERSION=26.5.3 sh internal/chdb/fetch.sh
set -eu

version="${CHDB_NPM_VERSION:-26.5.3}"
case "$(uname -m)" in
x86_64 | amd64) pkg="@chdb/lib-linux-x64-gnu" ;;
aarch64 | arm64) pkg="@chdb/lib-linux-arm64-gnu" ;;
*)
	echo "fetch.sh: no libchdb npm package for $(uname -s)/$(uname -m)" >&2
	exit 1
	;;
esac

root="$(cd "$(dirname "$0")/../.." && pwd)"
dest="$root/.cache/chdb/$version"
lib="$dest/package/libchdb.so"

if [ -s "$lib" ]; then
	echo "fetch.sh: $lib already present, nothing to do"
	exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
	echo "fetch.sh: npm not found; install it (Debian: apt-get install -y npm) and run again" >&2
	exit 1
fi

mkdir -p "$root/.cache/chdb"
tmp="$(mktemp -d "$root/.cache/chdb/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "fetch.sh: npm pack $pkg@$version (about 170 MB) into $tmp"
(cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
tgz="$(ls "$tmp"/*.tgz)"
echo "fetch.sh: extracting $(basename "$tgz") to $dest"
mkdir -p "$tmp/out"
tar -xzf "$tgz" -C "$tmp/out"
if [ ! -s "$tmp/out/package/libchdb.so" ]; then
	echo "fetch.sh: $pkg@$version has no package/libchdb.so" >&2
	exit 1
fi
rm -rf "$dest"
mv "$tmp/out" "$dest" # whole folder at once: an interrupted fetch leaves no half library
echo "fetch.sh: libchdb ready at $lib"
