#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on loopback for the store tests, or stop it.
#
#   eval "$(.ci/postgres.sh start)"   # prints export lines: LABFLOW_TEST_POSTGRES_URL, _PGDATA
#   .ci/postgres.sh stop "$LABFLOW_TEST_POSTGRES_DIR"
#
# PostgreSQL refuses to run as root, so when run as root the server runs as the `postgres`
# system user that Debian's package creates (installed with apt-get if no initdb is found).
# The cluster lives in a fresh temporary directory, trusts loopback only, and listens on a
# free port, so it never meets a server already running on this machine.
set -euo pipefail

find_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
        fi
    done | sort -V | tail -n 1
}

as_owner() {  # run a command as the cluster's owner
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    local bin
    bin=$(find_bin)
    if [[ -z $bin ]]; then
        echo "postgres.sh: no PostgreSQL found; installing Debian's postgresql" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends postgresql >&2
        bin=$(find_bin)
    fi
    [[ -n $bin ]] || { echo "postgres.sh: initdb not found after install" >&2; exit 1; }

    local dir port
    dir=$(mktemp -d /tmp/labflow-pg.XXXXXX)
    chmod 755 "$dir"
    mkdir "$dir/data" "$dir/run"
    if [[ $(id -u) -eq 0 ]]; then chown -R postgres: "$dir/data" "$dir/run"; fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

    as_owner "$bin/initdb" -D "$dir/data" -U labflow --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/run/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/run -c max_connections=200 -c fsync=off" \
        start >&2 || { cat "$dir/run/server.log" >&2; exit 1; }
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U labflow labflow_test >&2

    echo "export LABFLOW_TEST_POSTGRES_URL=postgresql://labflow@127.0.0.1:$port/labflow_test"
    echo "export LABFLOW_TEST_POSTGRES_DIR=$dir"
    echo "export LABFLOW_TEST_POSTGRES_BIN=$bin"
}

stop() {
    local dir=${1:?usage: postgres.sh stop DIR}
    local bin
    bin=${LABFLOW_TEST_POSTGRES_BIN:-$(find_bin)}
    if [[ -d $dir/data ]]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
    fi
    rm -rf "$dir"
}

case ${1:-} in
start) start ;;
stop) shift; stop "$@" ;;
*) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
