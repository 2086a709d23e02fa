# Starting a throwaway PostgreSQL cluster on loopback, for scripts/with-postgres and
# scripts/cluster-up (sourced, not run): a new data directory, a free port, trust
# authentication for `postgres` from 127.0.0.1 only. As root, the server runs as the
# `postgres` system user (PostgreSQL refuses root).

postgres_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"; return 0
  fi
  local dir found=""
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && found="$dir"
  done
  if [ -z "$found" ]; then
    echo "PostgreSQL's initdb and pg_ctl are missing (Debian: apt-get install postgresql)." >&2
    return 1
  fi
  echo "$found"
}

# Runs a command as the user the server runs as.
postgres_as_server() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# postgres_start DIR DURABLE: a new cluster in DIR/data (DIR must exist); DURABLE=no turns
# fsync off (test data only). Sets POSTGRES_URL (database `postgres`) and POSTGRES_BIN.
postgres_start() {
  local dir="$1" durable="$2" port sync_options=""
  POSTGRES_BIN="$(postgres_bin)" || return 1
  if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "running as root needs the \`postgres\` system user (created by Debian's postgresql package)." >&2
      return 1
    fi
    chown postgres "$dir"
  fi
  [ "$durable" = no ] && sync_options="-c fsync=off -c synchronous_commit=off"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  postgres_as_server "$POSTGRES_BIN/initdb" --auth=trust --username=postgres --no-sync --encoding=UTF8 -D "$dir/data" >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  postgres_as_server "$POSTGRES_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $sync_options -c max_connections=200" start >/dev/null \
    || { cat "$dir/server.log" >&2; return 1; }
  echo "PostgreSQL $("$POSTGRES_BIN/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
  POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# postgres_stop DIR: stops the cluster in DIR/data, if it runs.
postgres_stop() {
  local bin
  bin="$(postgres_bin 2>/dev/null)" || return 0
  postgres_as_server "$bin/pg_ctl" -D "$1/data" -m fast stop >/dev/null 2>&1 || true
}
