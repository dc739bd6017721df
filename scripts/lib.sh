# shellcheck shell=bash
# Shared helpers for Chronicle's shell scripts. Source it; do not execute it.
#
#   ENSURE_SERVICES_DRY_RUN=1  print state-changing commands instead of running them.

if [[ -n "${_CHRONICLE_LIB_SH:-}" ]]; then return 0; fi
_CHRONICLE_LIB_SH=1

_LIB_NAME="${LIB_LOG_PREFIX:-$(basename "${BASH_SOURCE[1]:-$0}" .sh)}"
DRY_RUN="${ENSURE_SERVICES_DRY_RUN:-0}"
[[ "$DRY_RUN" == 0 || "$DRY_RUN" == false || -z "$DRY_RUN" ]] && DRY_RUN=0 || DRY_RUN=1

log()  { printf '%s: %s\n' "$_LIB_NAME" "$*" >&2; }
die()  { printf '%s: error: %s\n' "$_LIB_NAME" "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
is_dry_run() { [[ "$DRY_RUN" == 1 ]]; }

# run CMD...: run a state-changing command (or just print it in dry-run mode).
run() {
	if is_dry_run; then
		printf '[dry-run] %s\n' "$(_quote_cmd "$@")" >&2
		return 0
	fi
	"$@" 9>&- # never leak the ensure-services lock fd into daemons
}

_quote_cmd() {
	local out="" a
	for a in "$@"; do
		if [[ "$a" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+="$a "; else out+="$(printf '%q' "$a") "; fi
	done
	printf '%s' "${out% }"
}

# root_prefix: prints the prefix needed to run a command as root ("" when we are
# root, "sudo" when sudo exists); fails when neither works.
root_prefix() {
	if [[ "$(id -u)" -eq 0 ]]; then
		printf ''
	elif have sudo; then
		printf 'sudo'
	else
		return 1
	fi
}

# as_root CMD...: run CMD as root (directly, or through sudo).
as_root() {
	local prefix
	prefix="$(root_prefix)" || die "need root privileges to run '$(_quote_cmd "$@")' but not root and sudo is not installed; run it as root or install the service yourself"
	if [[ -z "$prefix" ]]; then
		run "$@"
	else
		if [[ ! -t 0 ]] && ! is_dry_run && ! sudo -n true 2>/dev/null; then
			die "sudo needs a password but there is no terminal to ask for it; run '$(_quote_cmd sudo "$@")' yourself or configure passwordless sudo"
		fi
		run sudo "$@"
	fi
}

# as_user USER CMD...: run CMD as another OS user (runuser/su as root, sudo otherwise).
as_user() {
	local user="$1"; shift
	if [[ "$(id -un)" == "$user" ]]; then
		run "$@"
	elif [[ "$(id -u)" -eq 0 ]]; then
		if have runuser; then
			run runuser -u "$user" -- "$@"
		else
			run su "$user" -s /bin/bash -c "$(_quote_cmd "$@")"
		fi
	elif have sudo; then
		run sudo -u "$user" -- "$@"
	else
		die "need to run '$(_quote_cmd "$@")' as OS user '$user' but not root and sudo is not installed"
	fi
}

_APT_UPDATED=0
# apt_install PKG...: install Debian packages (apt-get update runs at most once per process).
apt_install() {
	have apt-get || die "cannot install $*: apt-get not found (only Debian/Ubuntu are supported); install $* yourself"
	root_prefix >/dev/null || die "cannot install $*: not root and sudo is not installed; install $* yourself (e.g. 'apt-get install -y $*' as root)"
	log "installing $* with apt-get"
	if [[ "$_APT_UPDATED" -eq 0 ]]; then
		as_root apt-get update -qq || die "apt-get update failed"
		_APT_UPDATED=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" \
		|| die "apt-get install $* failed"
}

# url_decode STRING: percent-decode a URL component.
url_decode() {
	local s="${1//\\/\\\\}"
	printf '%b' "${s//%/\\x}"
}
