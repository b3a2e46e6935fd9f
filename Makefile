# shiplens: one entry point. `make demo` and `make test` install what they need.
SHELL := /bin/bash
GO ?= go
CACHE := $(CURDIR)/.cache
BIN := $(CACHE)/bin/shiplens
export GOFLAGS ?= -mod=mod

.PHONY: demo test deps depcheck build bench bench-go lint fuzz up clean mailpit plugin dashboards

## demo: generate, process and report a 20k-shipment workload on an embedded Kafka and a private ClickHouse
demo: build
	$(BIN) demo

## build: build the shiplens binary into .cache/bin
build:
	@mkdir -p $(CACHE)/bin
	$(GO) build -o $(BIN) ./cmd/shiplens

## deps: install the test dependencies: Debian's clickhouse-server and chromium, libchdb (current ClickHouse) from npm, mailpit (SMTP)
deps:
	@if ! command -v clickhouse-server >/dev/null 2>&1 && [ ! -x /usr/sbin/clickhouse-server ]; then \
		echo "installing Debian's clickhouse-server"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends clickhouse-server \
		|| { $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends clickhouse-server; }; \
	fi
	@if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then \
		echo "installing Debian's chromium (the HTML report is tested in a real browser)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
		|| { $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }; \
	fi
	@bash internal/chdb/fetch.sh
	@$(MAKE) --no-print-directory mailpit

## mailpit: the real SMTP server of the e-mail tests (notify), built with go install into .cache/bin
MAILPIT_VERSION := v1.33.1
mailpit:
	@if [ ! -x $(CACHE)/bin/mailpit ]; then \
		echo "installing mailpit $(MAILPIT_VERSION) into $(CACHE)/bin"; \
		mkdir -p $(CACHE)/bin && GOBIN=$(CACHE)/bin $(GO) install github.com/axllent/mailpit@$(MAILPIT_VERSION); \
	fi

## test: install what the tests need, then run every test under the race detector (with brief fuzzing)
test: deps depcheck
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 12m ./...
	$(MAKE) --no-print-directory fuzz

## depcheck: no production package links the test broker (kfake)
PROD_PKGS := ./processor ./ingest/... ./store ./dlq ./api ./analytics/... ./schemas/... ./notify ./dashboards/plugin/...
depcheck:
	@if $(GO) list -deps $(PROD_PKGS) | grep -E 'kfake|/internal/broker$$'; then \
		echo "a production package links the test broker: go list -deps $(PROD_PKGS)"; exit 1; fi

## fuzz: run each fuzz target briefly (FUZZTIME=2000x executions: a count, not a duration, see go.dev/issue/75804); targets are found with grep, not `go test -list`, which would build every package's tests once more
FUZZTIME ?= 2000x
fuzz:
	@for file in $$(grep -rl --include='*_test.go' --exclude-dir=.cache --exclude-dir=node_modules '^func Fuzz' . | sort); do \
		for f in $$(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' $$file); do \
			echo "fuzz $$(dirname $$file) $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$(dirname $$file) || exit 1; \
		done; \
	done

## bench: the benchmark suite, shiplens bench (the full sizes: about an hour; BENCH_FLAGS=--quick for a minute), then print its table
bench: deps
	$(GO) run ./cmd/shiplens bench --format table $(BENCH_FLAGS)

## bench-go: Go benchmarks of the hot paths (decode, state, sketch, batch build, prediction, timers)
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## lint: formatting and vet
lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "run gofmt -w ."; exit 1; }
	$(GO) vet ./...

## up: the production stack (needs Docker): Kafka, ClickHouse, the processor, serve, notify with mailpit, Grafana with the dashboards and the plugin
up: plugin
	docker compose up -d --build

## plugin: build the Grafana backend plugin (gpx_shiplens_analytics_datasource for linux amd64 and arm64, plugin.json, module.js) into dashboards/plugin/dist
plugin:
	bash dashboards/plugin/build.sh

## dashboards: regenerate the provisioned dashboards JSON from dashboards/gen (a test fails when the committed files differ)
dashboards:
	$(GO) run ./dashboards/gen

clean:
	rm -rf $(CACHE)
