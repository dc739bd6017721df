#!/usr/bin/env bash
# DEVELOPMENT ONLY: prints the master key `make run` seals personal data
# with (CHRONICLE_MASTER_KEY), kept in .chronicle/dev-master-key so that data
# sealed before a restart still opens after it. The file is created with a
# random key on first use. A real deployment takes its key from a secret
# store and backs it up: losing it loses every sealed value.
set -euo pipefail
cd "$(dirname "$0")/.."
file=.chronicle/dev-master-key
if [[ ! -s $file ]]; then
  mkdir -p .chronicle
  (umask 077; head -c 32 /dev/urandom | base64 >"$file")
  echo "dev-master-key: generated $file (development only)" >&2
fi
cat "$file"
