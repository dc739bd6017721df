# Chronicle developer tasks. `make` (or `make help`) lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# DATABASE_URL defaults to internal/config.DefaultDatabaseURL (local server).
REDIS_URL    ?= redis://127.0.0.1:6379/0
PORT         ?= 8080
export DATABASE_URL REDIS_URL PORT

GO ?= go
# Tracked and new (not ignored) Go files that exist on disk.
GO_FILES = $(wildcard $(shell git ls-files --cached --others --exclude-standard -- '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))

.PHONY: help services generate build run token test test-short bench bench-quick check-generated fmt lint clean \
	web web-dev check-web test-web web-screenshots web-bench

help: ## Show this help
	@echo "Usage: make <target>   (DATABASE_URL, REDIS_URL and PORT may be overridden)"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

services: ## Make sure PostgreSQL and Redis are installed, running and reachable
	@scripts/ensure-services.sh

generate: ## Regenerate GraphQL code (gqlgen)
	$(GO) tool gqlgen generate

build: ## Build bin/chronicle
	$(GO) build -o bin/chronicle .

# DEVELOPMENT ONLY: the HS256 secret that `make run` verifies tokens with
# and `make token` signs them with. Never use it anywhere else: outside
# development mode a secret must be at least 32 bytes (and secret).
run token: export JWT_HS256_SECRET ?= chronicle-dev-secret
SUB ?= developer
ORG ?= dev
TTL ?= 1h
ROLES ?=

run: services ## Run the server in dev mode on :PORT (applies migrations at start)
	CHRONICLE_DEV=true CHRONICLE_MASTER_KEY="$${CHRONICLE_MASTER_KEY:-$$(scripts/dev-master-key.sh)}" $(GO) run .

token: ## Print a dev bearer token for `make run` (SUB=alice ORG=acme TTL=1h ROLES=admin)
	@$(GO) run ./cmd/mint-token -sub '$(SUB)' -org '$(ORG)' -ttl '$(TTL)' -roles '$(ROLES)'

test: services ## go vet + all tests with the race detector, then the web app's (test-web)
	$(GO) vet ./...
	# One package at a time: the database tests of two packages together can
	# pass PostgreSQL's default max_connections (100).
	$(GO) test -race -count=1 -p 1 -timeout 30m ./...
	$(MAKE) test-web

test-short: services ## All tests, no race detector
	$(GO) test -count=1 ./...

bench: services ## Measure a server built from this checkout; writes docs/benchmarks.md
	$(GO) run ./cmd/bench
	# The cost of sealing personal data per command, beside the same append
	# unsealed, in one run (issue 12).
	$(GO) test -run '^$$' -bench PersonalAppend -benchtime 2s ./internal/datasubject/

bench-quick: services ## A shorter benchmark run
	$(GO) run ./cmd/bench -quick

check-generated: ## Fail when gqlgen's output is not in step with schema.graphqls
	$(GO) tool gqlgen generate
	@git diff --exit-code -- graph/ || { echo 'generated code out of step: run make generate and commit'; exit 1; }

fmt: ## gofmt all Go files
	@files='$(GO_FILES)'; if [[ -n "$$files" ]]; then gofmt -w $$files; fi

lint: ## Fail on unformatted Go files, then go vet
	@files='$(GO_FILES)'; unformatted=$$( [[ -z "$$files" ]] || gofmt -l $$files ); \
	if [[ -n "$$unformatted" ]]; then echo "gofmt needed (run 'make fmt'):"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

web: ## Rebuild the web app (web/) into internal/webapp/dist, which the server embeds
	@scripts/ensure-web-tools.sh
	cd web && npm run --silent build
	@cd web && node scripts/size-report.mjs

web-dev: ## Vite's dev server for web/ (http://localhost:5173/app/) against the API of `make run` on :PORT
	@scripts/ensure-web-tools.sh
	cd web && VITE_CHRONICLE_API=http://localhost:$(PORT) npx vite

check-web: ## Fail when the committed bundle or generated types are not what web/'s sources build
	@scripts/ensure-web-tools.sh
	cd web && npm run --silent build
	@cd web && node scripts/size-report.mjs
	@git diff --exit-code --stat -- internal/webapp/dist web/src/gql && \
	  [[ -z "$$(git status --porcelain -- internal/webapp/dist web/src/gql)" ]] || \
	  { echo 'web bundle out of step with web/: run make web and commit'; git status --short -- internal/webapp/dist web/src/gql; exit 1; }

test-web: services ## Component tests (Vitest) and browser end-to-end tests (Playwright, chromium)
	@scripts/ensure-web-tools.sh --browser
	cd web && npx vitest run
	cd web && node e2e/run.mjs

web-screenshots: services ## Run the browser tests and keep their screenshots in docs/ (docs/web-*.png)
	@scripts/ensure-web-tools.sh --browser
	cd web && WEB_SCREENSHOTS=../docs node e2e/run.mjs

web-bench: services web ## Measure the web app's budgets (bundle size, dashboard first render); writes docs/web-bench.md
	@scripts/ensure-web-tools.sh --browser
	cd web && node e2e/bench.mjs

clean: ## Remove build output
	rm -rf bin/
