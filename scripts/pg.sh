# Sourced by scripts/test.sh: a throw-away PostgreSQL cluster with trust auth, owned by `postgres`,
# listening on 127.0.0.1 only. Exports PIPELINE_TEST_PG_URL for the storage tests.
PG_PORT=${PG_PORT:-54329}
PG_DIR=""
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
pg_start() {
  local bin; bin=$(pg_bin)
  [ -n "$bin" ] || return 1
  PG_DIR=$(mktemp -d /tmp/pipeline-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_DIR"
    su postgres -c "$bin/initdb -D $PG_DIR/data -A trust -U postgres" >/dev/null || return 1
    su postgres -c "$bin/pg_ctl -D $PG_DIR/data -l $PG_DIR/log -w -o '-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR' start" >/dev/null || return 1
  else
    "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null || return 1
    "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR" start >/dev/null || return 1
  fi
  export PIPELINE_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
}
pg_stop() {
  local bin; bin=$(pg_bin)
  [ -n "$PG_DIR" ] && [ -d "$PG_DIR/data" ] || return 0
  if [ "$(id -u)" = 0 ]; then
    su postgres -c "$bin/pg_ctl -D $PG_DIR/data -m fast -w stop" >/dev/null 2>&1
  else
    "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1
  fi
  rm -rf "$PG_DIR"
}
