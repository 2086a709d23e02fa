# Starting throwaway ClickHouse servers on loopback, for scripts/with-clickhouse and
# scripts/cluster-up (sourced, not run). Each server gets its own directory, free HTTP and
# native ports, the `default` user without password reachable from 127.0.0.1 only, at most
# 4 GB per query, and, when several are started, a cluster `sextant` naming all of them
# (`remote_servers`), one shard each. ClickHouse runs as the calling user (root included).

clickhouse_binary() {
  for candidate in "$(command -v clickhouse-server 2>/dev/null || true)" /usr/sbin/clickhouse-server /usr/bin/clickhouse-server; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  echo "clickhouse-server is missing (Debian: apt-get install clickhouse-server)." >&2
  return 1
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# clickhouse_start BASE_DIR N: starts N servers in BASE_DIR/ch1..chN and waits until each
# answers. Sets CLICKHOUSE_PIDS, CLICKHOUSE_URLS (arrays) and writes each pid to chI/pid.
clickhouse_start() {
  local base="$1" count="$2" server i http tcp shards="" url version
  server="$(clickhouse_binary)" || return 1
  local -a https tcps
  for i in $(seq "$count"); do
    http="$(free_port)"; tcp="$(free_port)"
    while [ "$tcp" = "$http" ]; do tcp="$(free_port)"; done
    https[$i]="$http"; tcps[$i]="$tcp"
    shards="$shards<shard><replica><host>127.0.0.1</host><port>$tcp</port></replica></shard>"
  done
  CLICKHOUSE_PIDS=(); CLICKHOUSE_URLS=()
  for i in $(seq "$count"); do
    local dir="$base/ch$i"
    mkdir -p "$dir"
    cat >"$dir/config.xml" <<XML
<yandex>
  <logger><level>warning</level><log>$dir/server.log</log><errorlog>$dir/err.log</errorlog></logger>
  <http_port>${https[$i]}</http_port>
  <tcp_port>${tcps[$i]}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>536870912</mark_cache_size>
  <remote_servers><sextant>$shards</sextant></remote_servers>
</yandex>
XML
    cat >"$dir/users.xml" <<XML
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
XML
    "$server" --config-file="$dir/config.xml" >"$dir/stdout.log" 2>&1 &
    echo $! >"$dir/pid"
    CLICKHOUSE_PIDS+=("$!")
    CLICKHOUSE_URLS+=("http://127.0.0.1:${https[$i]}")
  done
  for i in $(seq "$count"); do
    url="${CLICKHOUSE_URLS[$((i - 1))]}"; version=""
    for _ in $(seq 300); do
      if version="$(curl -sf "$url/?query=SELECT%20version()" 2>/dev/null)"; then break; fi
      if ! kill -0 "${CLICKHOUSE_PIDS[$((i - 1))]}" 2>/dev/null; then
        echo "ClickHouse $i exited during start-up:" >&2
        cat "$base/ch$i/stdout.log" "$base/ch$i/err.log" >&2 2>/dev/null || true
        return 1
      fi
      sleep 0.1
    done
    if [ -z "$version" ]; then
      echo "ClickHouse $i did not answer within 30 s:" >&2
      cat "$base/ch$i/err.log" >&2 2>/dev/null || true
      return 1
    fi
    echo "ClickHouse $version on ${url#http://}" >&2
  done
}

# clickhouse_stop PID...: stops the given servers (TERM, then KILL after 5 s).
clickhouse_stop() {
  local pid
  for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
}
