#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis servers Chronicle needs are running.
#
#   DATABASE_URL  (default postgres://postgres:postgres@127.0.0.1:5432/chronicle?sslmode=disable)
#   REDIS_URL     (default redis://127.0.0.1:6379/0)
#   ENSURE_SERVICES_DRY_RUN=1  print the state-changing commands instead of running them
#   ENSURE_SERVICES_TIMEOUT    seconds to wait for a started server (default 30)
#
# Idempotent and quiet when both services are already up: it then only makes
# sure the database exists and prints one "ready" line per service.
# For local targets (127.0.0.1/localhost/::1) it installs (apt-get), starts and
# configures what is missing; remote targets are only checked.
set -euo pipefail

LIB_LOG_PREFIX=ensure-services
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEFAULT_DATABASE_URL='postgres://postgres:postgres@127.0.0.1:5432/chronicle?sslmode=disable'
DEFAULT_REDIS_URL='redis://127.0.0.1:6379/0'
WAIT_SECONDS="${ENSURE_SERVICES_TIMEOUT:-30}"
LOCK_FILE="${TMPDIR:-/tmp}/chronicle-ensure-services.lock"

# ---------------------------------------------------------------- helpers

is_local_host() {
	case "$1" in
		127.0.0.1 | localhost | ::1 | '') return 0 ;;
		*) return 1 ;;
	esac
}

# tcp_open HOST PORT: true when something accepts TCP connections there.
tcp_open() {
	local h="$1" p="$2"
	if have timeout; then
		timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$h" "$p" 2>/dev/null
	else
		bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$h" "$p" 2>/dev/null
	fi
}

# with_timeout SECS CMD...: run CMD with a time limit when timeout(1) exists.
with_timeout() {
	local secs="$1"; shift
	if have timeout; then timeout "$secs" "$@"; else "$@"; fi
}

_LOCKED=0
# take_lock: serialise concurrent invocations that need to start something (best effort).
take_lock() {
	[[ "$_LOCKED" -eq 1 ]] && return 0
	_LOCKED=1
	is_dry_run && return 0
	have flock || return 0
	( : >>"$LOCK_FILE" ) 2>/dev/null || return 0
	exec 9>>"$LOCK_FILE"
	flock -w 300 9 || log "warning: could not lock $LOCK_FILE; continuing anyway"
}

# wait_until SECS DESCRIPTION CMD...: poll CMD once a second until it succeeds.
wait_until() {
	local secs="$1" what="$2"; shift 2
	if is_dry_run; then
		printf '[dry-run] wait up to %ss for %s\n' "$secs" "$what" >&2
		return 0
	fi
	local i
	for ((i = 0; i < secs; i++)); do
		"$@" && return 0
		sleep 1
	done
	"$@"
}

sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }
sql_ident()   { printf '"%s"' "${1//\"/\"\"}"; }

# ---------------------------------------------------------------- PostgreSQL

PG_SCHEME= PG_AUTHORITY= PG_QUERY= PG_USER= PG_PASS= PG_HOST= PG_PORT= PG_DB= PG_ADMIN_URL=

parse_database_url() {
	local url="$1"
	local re='^(postgres|postgresql)://([^/?#]*)(/([^?#]*))?(\?([^#]*))?$'
	[[ "$url" =~ $re ]] || die "DATABASE_URL must look like postgres://user:password@host:port/dbname?params (got '$url')"
	PG_SCHEME="${BASH_REMATCH[1]}"
	PG_AUTHORITY="${BASH_REMATCH[2]}"
	PG_DB="$(url_decode "${BASH_REMATCH[4]}")"
	PG_QUERY="${BASH_REMATCH[6]}"

	local userinfo="" hostport="$PG_AUTHORITY"
	if [[ "$PG_AUTHORITY" == *@* ]]; then
		userinfo="${PG_AUTHORITY%@*}"
		hostport="${PG_AUTHORITY##*@}"
	fi
	[[ "$hostport" == *,* ]] && die "DATABASE_URL with several hosts is not supported by this script ('$hostport')"
	if [[ "$userinfo" == *:* ]]; then
		PG_USER="$(url_decode "${userinfo%%:*}")"
		PG_PASS="$(url_decode "${userinfo#*:}")"
	else
		PG_USER="$(url_decode "$userinfo")"
	fi
	if [[ "$hostport" =~ ^\[([^]]*)\](:([0-9]*))?$ ]]; then # [ipv6]:port
		PG_HOST="${BASH_REMATCH[1]}"
		PG_PORT="${BASH_REMATCH[3]}"
	elif [[ "$hostport" =~ ^([^:]*)(:([0-9]*))?$ ]]; then
		PG_HOST="${BASH_REMATCH[1]}"
		PG_PORT="${BASH_REMATCH[3]}"
	else
		die "cannot parse host:port '$hostport' in DATABASE_URL"
	fi
	PG_HOST="${PG_HOST:-127.0.0.1}"
	PG_PORT="${PG_PORT:-5432}"
	PG_USER="${PG_USER:-$(id -un)}"
	PG_DB="${PG_DB:-$PG_USER}"
	# Same URL, but pointing at the always-present "postgres" maintenance database.
	PG_ADMIN_URL="${PG_SCHEME}://${PG_AUTHORITY}/postgres${PG_QUERY:+?$PG_QUERY}"
}

pg_reachable() {
	if have pg_isready; then
		pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 3
	else
		tcp_open "$PG_HOST" "$PG_PORT"
	fi
}

# psql_url URL ARGS...: non-interactive psql (never prompts for a password).
psql_url() {
	local url="$1"; shift
	PGCONNECT_TIMEOUT=5 psql -X -w -q -v ON_ERROR_STOP=1 "$url" "$@"
}

pg_server_installed() {
	have pg_ctlcluster && have pg_createcluster && have pg_lsclusters \
		&& compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

# newest installed server version (e.g. 15), from /etc/postgresql or /usr/lib/postgresql.
pg_version() {
	local v
	v="$(ls /etc/postgresql 2>/dev/null | grep -E '^[0-9.]+$' | sort -V | tail -n 1 || true)"
	if [[ -z "$v" ]]; then
		v="$(ls /usr/lib/postgresql 2>/dev/null | grep -E '^[0-9.]+$' | sort -V | tail -n 1 || true)"
	fi
	printf '%s' "$v"
}

# pg_clusters: "version name port status owner datadir logfile" lines.
pg_clusters() {
	have pg_lsclusters || return 0
	pg_lsclusters -h 2>/dev/null || true
}

pg_ensure_psql() {
	have psql && return 0
	apt_install postgresql-client
	have psql || is_dry_run || die "psql is still missing after installing postgresql-client"
}

pg_start_local() {
	take_lock
	pg_reachable && return 0 # somebody else started it while we waited for the lock

	if ! pg_server_installed; then
		apt_install postgresql
		if ! is_dry_run; then
			pg_server_installed || die "PostgreSQL server binaries still missing after 'apt-get install postgresql'"
			# The package may have created and started a cluster on our port already.
			if wait_until 3 "PostgreSQL" pg_reachable; then return 0; fi
		fi
	fi

	local ver line cver cname cport cstatus clog="" started=0
	ver="$(pg_version)"
	while read -r cver cname cport cstatus _ _ line; do
		[[ -n "$cver" && "$cport" == "$PG_PORT" ]] || continue
		clog="$line"
		if [[ "$cstatus" == online* ]]; then
			log "cluster $cver/$cname on port $PG_PORT is already online; waiting for it to accept connections"
		else
			log "starting PostgreSQL cluster $cver/$cname on port $PG_PORT"
			if [[ -d /run/systemd/system ]]; then
				as_root pg_ctlcluster "$cver" "$cname" start
			else
				as_root pg_ctlcluster --skip-systemctl-redirect "$cver" "$cname" start
			fi
		fi
		started=1
		break
	done < <(pg_clusters)

	if [[ "$started" -eq 0 ]]; then
		[[ -n "$ver" ]] || { is_dry_run && ver='<version>'; } || die "cannot determine the installed PostgreSQL version (nothing in /etc/postgresql or /usr/lib/postgresql)"
		local name=main
		if [[ -d "/etc/postgresql/$ver/main" ]]; then
			# "main" exists but listens elsewhere: give this port its own cluster.
			name="chronicle_${PG_PORT}"
			log "existing cluster $ver/main does not use port $PG_PORT; creating cluster $ver/$name for it"
		else
			log "creating PostgreSQL cluster $ver/$name on port $PG_PORT"
		fi
		as_root pg_createcluster "$ver" "$name" --port "$PG_PORT" --start
		clog="/var/log/postgresql/postgresql-$ver-$name.log"
	fi

	wait_until "$WAIT_SECONDS" "PostgreSQL on $PG_HOST:$PG_PORT" pg_reachable \
		|| die "PostgreSQL did not become ready on $PG_HOST:$PG_PORT within ${WAIT_SECONDS}s${clog:+ (see $clog)}"
}

# Make sure the URL's credentials work; on a local server fix them through the
# unix socket as the postgres OS user (fresh Debian installs: scram, no password).
pg_ensure_login() {
	local err
	if err="$(psql_url "$PG_ADMIN_URL" -tAc 'SELECT 1' 2>&1 >/dev/null)"; then
		return 0
	fi
	if ! is_local_host "$PG_HOST"; then
		die "cannot log in to PostgreSQL at $PG_HOST:$PG_PORT as '$PG_USER': ${err:-unknown error}"
	fi
	log "login as '$PG_USER' over TCP failed (${err//$'\n'/ }); setting the password through the local socket"
	local role pass sql
	role="$(sql_ident "$PG_USER")"
	pass="$(sql_literal "$PG_PASS")"
	if [[ "$PG_USER" == postgres ]]; then
		sql="ALTER USER postgres PASSWORD $pass"
	else
		sql="DO \$\$ BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = $(sql_literal "$PG_USER")) THEN
    ALTER ROLE $role WITH LOGIN PASSWORD $pass;
  ELSE
    CREATE ROLE $role WITH LOGIN SUPERUSER PASSWORD $pass;
  END IF;
END \$\$"
	fi
	(cd / && as_user postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres -c "$sql") \
		|| die "could not set the password of '$PG_USER' as the postgres OS user (is the server on $PG_HOST:$PG_PORT a local Debian cluster?)"
	is_dry_run && return 0
	err="$(psql_url "$PG_ADMIN_URL" -tAc 'SELECT 1' 2>&1 >/dev/null)" \
		|| die "still cannot log in as '$PG_USER' at $PG_HOST:$PG_PORT: ${err}; check pg_hba.conf allows password (scram-sha-256/md5) auth for host connections"
}

pg_ensure_database() {
	local q exists
	q="SELECT 1 FROM pg_database WHERE datname = $(sql_literal "$PG_DB")"
	exists="$(psql_url "$PG_ADMIN_URL" -tAc "$q")" || die "cannot query databases on $PG_HOST:$PG_PORT"
	[[ "$exists" == 1 ]] && return 0
	log "creating database '$PG_DB'"
	if ! run psql_url "$PG_ADMIN_URL" -c "CREATE DATABASE $(sql_ident "$PG_DB")"; then
		# A concurrent invocation may have created it in the meantime.
		exists="$(psql_url "$PG_ADMIN_URL" -tAc "$q" 2>/dev/null || true)"
		[[ "$exists" == 1 ]] || die "could not create database '$PG_DB' (does '$PG_USER' have CREATEDB?)"
	fi
}

ensure_postgres() {
	parse_database_url "${DATABASE_URL:-$DEFAULT_DATABASE_URL}"
	local up=1
	if ! pg_reachable; then
		if ! is_local_host "$PG_HOST"; then
			die "PostgreSQL at $PG_HOST:$PG_PORT (from DATABASE_URL) is not reachable; this script only starts local servers (127.0.0.1/localhost)"
		fi
		pg_start_local
		is_dry_run && ! pg_reachable && up=0
	fi
	pg_ensure_psql
	if [[ "$up" -eq 0 ]] || ! have psql; then
		printf '[dry-run] check login as %s (fix its password via the postgres OS user if it fails), then create database %s if missing\n' "$PG_USER" "$PG_DB" >&2
		POSTGRES_STATUS="postgres: dry run, would be ready at $PG_HOST:$PG_PORT (db $PG_DB)"
		return 0
	fi
	pg_ensure_login
	pg_ensure_database
	POSTGRES_STATUS="postgres: ready at $PG_HOST:$PG_PORT (db $PG_DB)"
}

# ---------------------------------------------------------------- Redis

RD_HOST= RD_PORT= RD_PASS= RD_TLS=0

parse_redis_url() {
	local url="$1"
	local re='^(redis|rediss)://([^/?#]*)(/[^?#]*)?(\?.*)?$'
	[[ "$url" =~ $re ]] || die "REDIS_URL must look like redis://[:password@]host:port/db (got '$url')"
	[[ "${BASH_REMATCH[1]}" == rediss ]] && RD_TLS=1
	local authority="${BASH_REMATCH[2]}" hostport userinfo=""
	hostport="$authority"
	if [[ "$authority" == *@* ]]; then
		userinfo="${authority%@*}"
		hostport="${authority##*@}"
	fi
	[[ "$userinfo" == *:* ]] && RD_PASS="$(url_decode "${userinfo#*:}")"
	if [[ "$hostport" =~ ^\[([^]]*)\](:([0-9]*))?$ ]] || [[ "$hostport" =~ ^([^:]*)(:([0-9]*))?$ ]]; then
		RD_HOST="${BASH_REMATCH[1]:-127.0.0.1}"
		RD_PORT="${BASH_REMATCH[3]:-6379}"
	else
		die "cannot parse host:port '$hostport' in REDIS_URL"
	fi
}

redis_reachable() {
	if have redis-cli && [[ "$RD_TLS" -eq 0 ]]; then
		local out
		out="$(with_timeout 5 redis-cli -h "$RD_HOST" -p "$RD_PORT" ping 2>&1 || true)"
		[[ "$out" == PONG || "$out" == *NOAUTH* ]]
	else
		tcp_open "$RD_HOST" "$RD_PORT"
	fi
}

redis_start_local() {
	take_lock
	redis_reachable && return 0

	if ! have redis-server; then
		apt_install redis-server
		if ! is_dry_run; then
			have redis-server || die "redis-server still missing after 'apt-get install redis-server'"
			# On systemd machines the package starts a server on 6379 by itself.
			if wait_until 3 "Redis" redis_reachable; then return 0; fi
		fi
	fi

	local dir="${TMPDIR:-/tmp}/chronicle-redis-${RD_PORT}"
	local bind=(127.0.0.1) major
	major="$(redis-server --version 2>/dev/null | sed -n 's/.* v=\([0-9]*\).*/\1/p' || true)"
	# "-addr" (bind if available) needs Redis >= 7.
	[[ "${major:-7}" -ge 7 ]] && bind+=(-::1)
	local args=(--daemonize yes --bind "${bind[@]}" --port "$RD_PORT" --save "" --appendonly no
		--dir "$dir" --logfile "$dir/redis.log" --pidfile "$dir/redis.pid")
	[[ -n "$RD_PASS" ]] && args+=(--requirepass "$RD_PASS")

	log "starting redis-server on 127.0.0.1:$RD_PORT (data and log in $dir)"
	run mkdir -p "$dir"
	run redis-server "${args[@]}" || die "redis-server failed to start (see $dir/redis.log)"
	wait_until "$WAIT_SECONDS" "Redis on $RD_HOST:$RD_PORT" redis_reachable || {
		tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
		die "Redis did not become ready on $RD_HOST:$RD_PORT within ${WAIT_SECONDS}s (see $dir/redis.log)"
	}
}

ensure_redis() {
	parse_redis_url "${REDIS_URL:-$DEFAULT_REDIS_URL}"
	if ! redis_reachable; then
		if ! is_local_host "$RD_HOST"; then
			die "Redis at $RD_HOST:$RD_PORT (from REDIS_URL) is not reachable; this script only starts local servers (127.0.0.1/localhost)"
		fi
		redis_start_local
		if is_dry_run && ! redis_reachable; then
			REDIS_STATUS="redis: dry run, would be ready at $RD_HOST:$RD_PORT"
			return 0
		fi
	fi
	REDIS_STATUS="redis: ready at $RD_HOST:$RD_PORT"
}

# ---------------------------------------------------------------- main

main() {
	POSTGRES_STATUS="" REDIS_STATUS=""
	ensure_postgres
	ensure_redis
	printf '%s\n%s\n' "$POSTGRES_STATUS" "$REDIS_STATUS"
}

main "$@"
