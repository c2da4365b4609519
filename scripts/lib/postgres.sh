# shellcheck shell=bash
# Finds or starts a PostgreSQL server for the tests and the development server, and exports
# PG_URL (a URL of a role that may create databases). Sourced by scripts/test and scripts/run.
#
# In order:
#   1. TEST_DATABASE_URL, then DATABASE_URL (postgres://...), if either answers;
#   2. the project's role on 127.0.0.1:5432, if it answers;
#   3. as root with Debian's pg_ctlcluster: starts the machine's cluster if it is down and
#      creates the role chat_service (password chat_service, CREATEDB) through the postgres
#      superuser's local socket. No configuration file of the cluster is changed;
#   (PostgreSQL itself is installed from Debian's packages first if it is missing and we are root.)
#   4. otherwise a throwaway cluster in a temporary folder (initdb; as root it runs as the
#      postgres user, since initdb refuses root), on 127.0.0.1:54329 with trust auth.
# Whatever was started is stopped again on exit (pg_stop_started, called from the EXIT trap).

PG_ROLE=chat_service
PG_PASSWORD=chat_service
PG_DEFAULT_URL="postgres://${PG_ROLE}:${PG_PASSWORD}@127.0.0.1:5432/postgres"
PG_STARTED_CLUSTER=""
PG_THROWAWAY_DIR=""

pg_log() { echo "postgres: $*" >&2; }

pg_answers() { psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1; }

pg_wait() {
  for _ in $(seq 1 60); do
    pg_answers "$1" && return 0
    sleep 0.5
  done
  return 1
}

pg_start_machine_cluster() {
  command -v pg_lsclusters >/dev/null 2>&1 && [ "$(id -u)" = 0 ] || return 1
  local line ver name port status
  line=$(pg_lsclusters -h 2>/dev/null | head -n 1)
  [ -n "$line" ] || return 1
  read -r ver name port status _ <<<"$line"
  [ "$port" = 5432 ] || return 1
  if [ "$status" != online ]; then
    pg_log "starting the machine's cluster $ver/$name"
    pg_ctlcluster "$ver" "$name" start || return 1
    PG_STARTED_CLUSTER="$ver $name"
  fi
  local exists="SELECT count(*) FROM pg_roles WHERE rolname = '${PG_ROLE}'"
  local create="CREATE ROLE ${PG_ROLE} LOGIN CREATEDB PASSWORD '${PG_PASSWORD}'"
  local found=""
  for _ in $(seq 1 60); do
    found=$(cd / && su postgres -c "psql -p $port -Atqc \"$exists\"" 2>/dev/null) && break
    sleep 0.5
  done
  if [ "$found" = 0 ]; then
    pg_log "creating the role ${PG_ROLE} (LOGIN CREATEDB, password ${PG_PASSWORD}, not superuser) on the cluster $ver/$name, as the postgres user"
    (cd / && su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -Atqc \"$create\"") >/dev/null
  fi
  pg_wait "$PG_DEFAULT_URL"
}

pg_start_throwaway() {
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$bindir/initdb" ] || { pg_log "no initdb found"; return 1; }
  PG_THROWAWAY_DIR=$(mktemp -d /tmp/chat-service-pg.XXXXXX)
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_THROWAWAY_DIR"
    as=(su postgres -c)
  else
    as=(bash -c)
  fi
  pg_log "starting a throwaway cluster in $PG_THROWAWAY_DIR"
  "${as[@]}" "$bindir/initdb -D $PG_THROWAWAY_DIR/data -U $PG_ROLE -A trust -E UTF8 --locale=C >/dev/null" || return 1
  "${as[@]}" "$bindir/pg_ctl -D $PG_THROWAWAY_DIR/data -l $PG_THROWAWAY_DIR/log -w start \
      -o '-p 54329 -k $PG_THROWAWAY_DIR -c listen_addresses=127.0.0.1'" >/dev/null || return 1
  PG_URL="postgres://${PG_ROLE}@127.0.0.1:54329/postgres"
  pg_wait "$PG_URL"
}

# A new machine may lack PostgreSQL altogether; as root, Debian's package installs it.
pg_install_if_missing() {
  command -v psql >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    pg_log "PostgreSQL is not installed: installing Debian's postgresql package"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    pg_log "PostgreSQL is not installed and cannot be installed here (needs root and apt-get)"
    return 1
  fi
}

# The PgBouncer test needs Debian's pgbouncer (only the binary: its service is never started).
pg_install_bouncer_if_missing() {
  command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    pg_log "PgBouncer is not installed: installing Debian's pgbouncer package (for its binary)"
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null 2>&1 ||
      { DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; }; }
  else
    pg_log "PgBouncer is not installed and cannot be installed here; its test will fail"
  fi
}

pg_ensure() {
  local candidate
  pg_install_if_missing || return 1
  for candidate in "${TEST_DATABASE_URL:-}" "${DATABASE_URL:-}"; do
    case "$candidate" in
      postgres://*|postgresql://*)
        if pg_answers "$candidate"; then
          PG_URL=$candidate; export PG_URL
          pg_log "using the server the environment names: ${candidate#*@}"
          return 0
        fi
        pg_log "ignoring a URL from the environment that does not answer" ;;
    esac
  done
  if pg_answers "$PG_DEFAULT_URL" || pg_start_machine_cluster; then
    PG_URL=$PG_DEFAULT_URL
    pg_log "using the role ${PG_ROLE} on 127.0.0.1:5432"
  elif ! pg_start_throwaway; then
    pg_log "could not reach or start PostgreSQL"
    return 1
  fi
  export PG_URL
}

pg_stop_started() {
  if [ -n "$PG_THROWAWAY_DIR" ]; then
    local pid
    pid=$(head -n 1 "$PG_THROWAWAY_DIR/data/postmaster.pid" 2>/dev/null)
    if [ -n "$pid" ]; then
      pg_log "stopping the throwaway cluster (pid $pid)"
      kill -INT "$pid" 2>/dev/null
      while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    fi
    rm -rf "$PG_THROWAWAY_DIR"
  fi
  if [ -n "$PG_STARTED_CLUSTER" ]; then
    pg_log "stopping the cluster $PG_STARTED_CLUSTER, which this script started"
    # shellcheck disable=SC2086
    pg_ctlcluster $PG_STARTED_CLUSTER stop
  fi
}
