#!/usr/bin/env bash
# Make sure the web app's tools are installed: Node.js and npm (Debian's),
# web/'s npm packages (npm ci from web/package-lock.json), and, with
# --browser, Debian's chromium for the browser tests.
#
#   scripts/ensure-web-tools.sh [--browser]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

have node && have npm || apt_install nodejs npm
if [[ "${1:-}" == --browser ]] && [[ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]]; then
	apt_install chromium
fi
# npm ci again only when the lockfile changed since the last install.
stamp=web/node_modules/.chronicle-lock.sha256
want="$(sha256sum web/package-lock.json | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
	log "npm ci in web/"
	(cd web && npm ci --no-audit --no-fund --loglevel=error)
	printf '%s\n' "$want" >"$stamp"
fi
