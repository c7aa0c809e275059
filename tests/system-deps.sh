#!/usr/bin/env bash
# Installs the real servers and tools the test suite runs (README's test command calls this).
# As root: whatever is missing, with apt-get (Debian packages) and npm (into tests/node_modules,
# never globally). Otherwise: names the packages to install and exits 1. Nothing downloads at run time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

# command that must exist -> the Debian package that installs it
declare -A needs=(
    [systemd-analyze]=systemd
    [pg_isready]=postgresql
    [redis-server]=redis-server
    [/usr/lib/nagios/plugins/check_tcp]=monitoring-plugins-basic
    [promtool]=prometheus
    [prometheus-alertmanager]=prometheus-alertmanager
    [chromium]=chromium
    [chromedriver]=chromium-driver
    [npm]=npm
    [openssl]=openssl
)

present() { [ -x "$1" ] || command -v "$1" >/dev/null 2>&1; }
postgres_server() { compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; }

missing=()
for command in "${!needs[@]}"; do
    present "$command" || missing+=("${needs[$command]}")
done
postgres_server || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "system-deps: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "system-deps: the test suite needs these Debian packages: ${missing[*]}" >&2
        echo "system-deps: install them as root (apt-get install ${missing[*]}) or run this as root" >&2
        exit 1
    fi
fi

# npm packages, pinned by tests/package.json and its lock file, into tests/node_modules.
if [ -f "$here/package.json" ] && ! npm ls --prefix "$here" --depth=0 >/dev/null 2>&1; then
    echo "system-deps: installing the npm packages of tests/package.json into tests/node_modules" >&2
    npm ci --prefix "$here" --no-audit --no-fund --loglevel=error >/dev/null
fi
