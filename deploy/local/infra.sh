#!/usr/bin/env bash
# Local infrastructure for s8 without Docker: an Apache Kafka 4.1 KRaft node, mongo-java-server
# (MongoDB wire protocol, H2 file persistence) and Keycloak (the OpenID Connect provider, see
# deploy/local/keycloak.sh), plain JVM processes started from what Maven Central serves.
#
# Usage: deploy/local/infra.sh fetch|up|down|status|reset|keycloak   (keycloak: only Keycloak up)
#
# Jars are fetched by (what `fetch` runs; only when they are missing or deploy/local/pom.xml changed):
#   mvn -q -B -f deploy/local/pom.xml -P kafka -Ds8.lib.dir=<S8_LOCAL_DIR>/lib process-resources
#   mvn -q -B -f deploy/local/pom.xml -P mongo -Ds8.lib.dir=<S8_LOCAL_DIR>/lib process-resources
# (Kafka and mongo-java-server need different slf4j-api versions, hence two folders: lib/kafka, lib/mongo.)
#
# Env overrides:
#   S8_KAFKA_PORT (9092)  S8_KAFKA_CONTROLLER_PORT (9093)  S8_KAFKA_SASL_PORT (KAFKA_PORT+2)
#   S8_MONGO_PORT (27017)
#   S8_KEYCLOAK_PORT (18080)  S8_KEYCLOAK (1; 0 leaves Keycloak out)
#   S8_LOCAL_DIR (<repo>/.local)  S8_INFRA_TIMEOUT (120, seconds `up` waits for readiness)
#   S8_PYTHON (python3; needs pymongo>=4.13 and aiokafka for deploy/local/probe.py)
#
# Exit codes: 0 ok; 1 error; 2 usage; 3 `status` with a server not up.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"

KAFKA_PORT="${S8_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${S8_KAFKA_CONTROLLER_PORT:-9093}"
SASL_PORT="${S8_KAFKA_SASL_PORT:-$((KAFKA_PORT + 2))}"  # the services' SCRAM principals
MONGO_PORT="${S8_MONGO_PORT:-27017}"
LOCAL_DIR="${S8_LOCAL_DIR:-$REPO_ROOT/.local}"
TIMEOUT="${S8_INFRA_TIMEOUT:-120}"
PYTHON="${S8_PYTHON:-python3}"
HOST=127.0.0.1

mkdir -p "$LOCAL_DIR"
LOCAL_DIR="$(cd "$LOCAL_DIR" && pwd)"
LIB_DIR="$LOCAL_DIR/lib"
LOG_DIR="$LOCAL_DIR/logs"
RUN_DIR="$LOCAL_DIR/run"
KAFKA_DIR="$LOCAL_DIR/kafka"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_CONFIG="$KAFKA_DIR/server.properties"
KAFKA_FORMAT_ENV="$KAFKA_DIR/format.env"
MONGO_DIR="$LOCAL_DIR/mongo"
MONGO_H2="$MONGO_DIR/s8.mv"
POM="$HERE/pom.xml"
FETCH_STAMP="$LIB_DIR/.fetched"

KAFKA_LOG="$LOG_DIR/kafka.log"      # broker log (log4j2, see deploy/local/kafka/log4j2.properties)
KAFKA_OUT="$LOG_DIR/kafka.out"      # JVM stdout/stderr (normally empty)
MONGO_LOG="$LOG_DIR/mongo.log"
KAFKA_PID="$RUN_DIR/kafka.pid"
MONGO_PID="$RUN_DIR/mongo.pid"
WITH_KEYCLOAK="${S8_KEYCLOAK:-1}"
# shellcheck source=deploy/local/keycloak.sh
source "$HERE/keycloak.sh"

say() { printf 'infra: %s\n' "$*"; }
err() { printf 'infra: ERROR: %s\n' "$*" >&2; }
die() { err "$*"; exit 1; }

# ---------------------------------------------------------------- helpers

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

# marker NAME: a string that only our own process of that server has on its command line
marker() {
  case "$1" in
    kafka) printf '%s' "$KAFKA_CONFIG" ;;
    mongo) printf '%s' "$MONGO_H2" ;;
    keycloak) printf '%s' "$KC_HOME/" ;;
  esac
}

pidfile() { case "$1" in kafka) echo "$KAFKA_PID" ;; mongo) echo "$MONGO_PID" ;; keycloak) echo "$KC_PID" ;; esac; }
port_of() { case "$1" in kafka) echo "$KAFKA_PORT" ;; mongo) echo "$MONGO_PORT" ;; keycloak) echo "$KC_PORT" ;; esac; }
log_of() { case "$1" in kafka) echo "$KAFKA_LOG" ;; mongo) echo "$MONGO_LOG" ;; keycloak) echo "$KC_LOG" ;; esac; }
servers() { if [[ "$WITH_KEYCLOAK" == 1 ]]; then echo kafka mongo keycloak; else echo kafka mongo; fi; }

# is_ours PID NAME: PID is alive and is the java process we started for NAME (guards against pid reuse)
is_ours() {
  local pid="$1" name="$2" cmd
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmd" == *java* && "$cmd" == *"$(marker "$name")"* ]]
}

# find_ours NAME: pids of java processes started for NAME from this S8_LOCAL_DIR (even without a pid file)
find_ours() {
  local name="$1" p pid
  for p in /proc/[0-9]*; do
    pid="${p#/proc/}"
    [[ "$pid" == "$$" ]] && continue
    is_ours "$pid" "$name" && echo "$pid"
  done
  return 0
}

# current_pid NAME: the pid of our running server NAME, or nothing; repairs stale/missing pid files
current_pid() {
  local name="$1" pf pid=""
  pf="$(pidfile "$name")"
  if [[ -f "$pf" ]]; then
    pid="$(cat "$pf" 2>/dev/null || true)"
    if is_ours "$pid" "$name"; then echo "$pid"; return 0; fi
    rm -f "$pf"
  fi
  pid="$(find_ours "$name" | head -n 1)"
  if [[ -n "$pid" ]]; then
    mkdir -p "$RUN_DIR"
    echo "$pid" >"$pf"
    echo "$pid"
  fi
  return 0
}

show_port_owner() {
  if command -v ss >/dev/null 2>&1; then
    ss -ltnp "sport = :$1" 2>/dev/null | tail -n +2 | sed 's/^/    /' >&2 || true
  fi
}

tail_log() {
  local f="$1"
  if [[ -s "$f" ]]; then
    printf -- '----- last 30 lines of %s -----\n' "$f" >&2
    tail -n 30 "$f" >&2
    printf -- '----- end of %s -----\n' "$f" >&2
  else
    printf '    (%s is empty or missing)\n' "$f" >&2
  fi
}

fail_server() {
  local name="$1" why="$2"
  err "$name: $why (log: $(log_of "$name"))"
  tail_log "$(log_of "$name")"
  if [[ "$name" == kafka && -s "$KAFKA_OUT" ]]; then tail_log "$KAFKA_OUT"; fi
}

with_lock() {
  mkdir -p "$RUN_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$RUN_DIR/infra.lock"
    flock -w 300 9 || die "another infra.sh is still running (lock $RUN_DIR/infra.lock)"
  fi
}

# ---------------------------------------------------------------- fetch

count_jars() { local f=("$1"/*.jar); echo "${#f[@]}"; }

pom_hash() { sha256sum "$POM" | cut -d' ' -f1; }

jars_present() {
  [[ -f "$FETCH_STAMP" ]] || return 1
  [[ "$(cat "$FETCH_STAMP")" == "$(pom_hash)" ]] || return 1
  compgen -G "$LIB_DIR/kafka/kafka_2.13-*.jar" >/dev/null || return 1
  compgen -G "$LIB_DIR/mongo/mongo-java-server-h2-backend-*.jar" >/dev/null || return 1
}

cmd_fetch() {
  if [[ "$WITH_KEYCLOAK" == 1 ]]; then kc_fetch; fi
  if jars_present; then
    say "jars present in $LIB_DIR (kafka: $(count_jars "$LIB_DIR/kafka") jars, mongo: $(count_jars "$LIB_DIR/mongo") jars)"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found: Maven is needed once to fetch the jars into $LIB_DIR"
  command -v java >/dev/null 2>&1 || die "java not found (Java 17+ needed)"
  say "fetching jars with Maven into $LIB_DIR ..."
  # Start from empty folders so that a changed pin never leaves two versions of a jar behind.
  rm -rf "$LIB_DIR/kafka" "$LIB_DIR/mongo" "$FETCH_STAMP"
  mkdir -p "$LIB_DIR"
  mkdir -p "$LOG_DIR"
  local profile mvn_log="$LOG_DIR/maven-fetch.log"
  : >"$mvn_log"
  for profile in kafka mongo; do
    if ! mvn -q -B -Dstyle.color=never -f "$POM" -P "$profile" -Ds8.lib.dir="$LIB_DIR" process-resources \
        >>"$mvn_log" 2>&1; then
      err "Maven failed to fetch the $profile jars (log: $mvn_log)"
      tail_log "$mvn_log"
      exit 1
    fi
  done
  pom_hash >"$FETCH_STAMP"
  say "fetched: kafka $(count_jars "$LIB_DIR/kafka") jars, mongo $(count_jars "$LIB_DIR/mongo") jars"
}

# ---------------------------------------------------------------- kafka

KAFKA_JVM=(java -Xmx1g -Xms256m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  -Dkafka.logs.dir="$LOG_DIR"
  -Dlog4j2.configurationFile="$HERE/kafka/log4j2.properties"
  -cp "$LIB_DIR/kafka/*")

kafka_java() { "${KAFKA_JVM[@]}" "$@"; }

kafka_configure() {
  mkdir -p "$KAFKA_DIR" "$LOG_DIR"
  local esc
  esc="$(printf '%s' "$KAFKA_DATA" | sed 's/[&|\\]/\\&/g')"
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
      -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
      -e "s|@SASL_PORT@|$SASL_PORT|g" \
      -e "s|@LOG_DIRS@|$esc|g" \
      "$HERE/kafka/server.properties.template" >"$KAFKA_CONFIG.tmp"
  mv "$KAFKA_CONFIG.tmp" "$KAFKA_CONFIG"

  if [[ -f "$KAFKA_DATA/meta.properties" ]]; then
    if [[ -f "$KAFKA_FORMAT_ENV" ]]; then
      local formatted_port
      formatted_port="$(sed -n 's/^CONTROLLER_PORT=//p' "$KAFKA_FORMAT_ENV")"
      if [[ -n "$formatted_port" && "$formatted_port" != "$CONTROLLER_PORT" ]]; then
        die "kafka storage was formatted with controller port $formatted_port, now $CONTROLLER_PORT: run 'infra.sh reset' (deletes Kafka data) or use S8_KAFKA_CONTROLLER_PORT=$formatted_port"
      fi
    fi
    return 0
  fi

  say "kafka: formatting storage in $KAFKA_DATA (first run)"
  rm -rf "$KAFKA_DATA"
  local cluster_id
  cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid 2>>"$KAFKA_OUT" | tail -n 1)"
  [[ "$cluster_id" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka: StorageTool random-uuid returned '$cluster_id' (see $KAFKA_OUT)"
  if ! kafka_java kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$KAFKA_CONFIG" >>"$KAFKA_OUT" 2>&1; then
    err "kafka: storage format failed"
    tail_log "$KAFKA_OUT"
    tail_log "$KAFKA_LOG"
    exit 1
  fi
  printf 'CLUSTER_ID=%s\nCONTROLLER_PORT=%s\n' "$cluster_id" "$CONTROLLER_PORT" >"$KAFKA_FORMAT_ENV"
}

kafka_start() {
  kafka_configure
  : >"$KAFKA_OUT"
  # setsid: own session, survives the terminal; nohup and setsid exec, so $! is the java pid.
  setsid nohup "${KAFKA_JVM[@]}" kafka.Kafka "$KAFKA_CONFIG" >>"$KAFKA_OUT" 2>&1 </dev/null 9>&- &
  echo $! >"$KAFKA_PID"
  say "kafka: started pid $(cat "$KAFKA_PID") (PLAINTEXT $HOST:$KAFKA_PORT, CONTROLLER $HOST:$CONTROLLER_PORT, log $KAFKA_LOG)"
}

# ---------------------------------------------------------------- mongo

mongo_start() {
  mkdir -p "$MONGO_DIR" "$LOG_DIR"
  {
    printf '\n===== %s infra.sh up: starting mongo-java-server on %s:%s =====\n' "$(date -Is)" "$HOST" "$MONGO_PORT"
  } >>"$MONGO_LOG"
  # The heap holds the secondary indexes and H2's cache (deploy/local/README.md: memory at 200,000
  # stored tickets); S8_MONGO_HEAP and S8_MONGO_JAVA_OPTIONS change it.
  # shellcheck disable=SC2086 # S8_MONGO_JAVA_OPTIONS is a list of options
  # G1: a full collection of a heap full of index entries stalled the store for over 20 s.
  setsid nohup java "-Xmx${S8_MONGO_HEAP:-2g}" -Xms64m -XX:+UseG1GC -XX:MaxGCPauseMillis=100 -Djava.awt.headless=true \
    ${S8_MONGO_JAVA_OPTIONS:-} -cp "$LIB_DIR/mongo/*" "$HERE/MongoLauncher.java" "$MONGO_H2" "$HOST" "$MONGO_PORT" \
    >>"$MONGO_LOG" 2>&1 </dev/null 9>&- &
  echo $! >"$MONGO_PID"
  say "mongo: started pid $(cat "$MONGO_PID") ($HOST:$MONGO_PORT, h2 file $MONGO_H2, log $MONGO_LOG)"
}

# ---------------------------------------------------------------- commands

# check NAME: prints "running" (ours, already started) or "stopped"; dies when a port belongs to someone else
check() {
  local name="$1" pid port
  port="$(port_of "$name")"
  pid="$(current_pid "$name")"
  if [[ -n "$pid" ]]; then
    echo running
    return 0
  fi
  if port_open "$port"; then
    err "$name: port $HOST:$port is already in use by another process (not started by this infra.sh)."
    show_port_owner "$port"
    err "stop that process or choose another port (S8_$(echo "$name" | tr '[:lower:]' '[:upper:]')_PORT)."
    exit 1
  fi
  if [[ "$name" == kafka ]] && port_open "$CONTROLLER_PORT"; then
    err "kafka: controller port $HOST:$CONTROLLER_PORT is already in use by another process."
    show_port_owner "$CONTROLLER_PORT"
    err "stop that process or choose another port (S8_KAFKA_CONTROLLER_PORT, then 'infra.sh reset')."
    exit 1
  fi
  echo stopped
}

report_running() {
  local name="$1" pid port
  port="$(port_of "$name")"
  pid="$(current_pid "$name")"
  if port_open "$port"; then
    say "$name: already running (pid $pid, port $port)"
  else
    say "$name: process running (pid $pid) but port $port not answering yet; waiting for it"
  fi
}

cmd_up() {
  local t0=$SECONDS
  cmd_fetch
  command -v java >/dev/null 2>&1 || die "java not found (Java 17+ needed)"
  command -v "$PYTHON" >/dev/null 2>&1 || die "S8_PYTHON='$PYTHON' not found (needed for deploy/local/probe.py)"
  if ! "$PYTHON" -c 'import aiokafka; from pymongo import AsyncMongoClient' 2>/dev/null; then
    die "'$PYTHON' lacks aiokafka and/or pymongo>=4.13 (needed by deploy/local/probe.py): set S8_PYTHON to an interpreter that has them"
  fi
  with_lock
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  local ks ms kcs=running
  ks="$(check kafka)" || exit 1
  ms="$(check mongo)" || exit 1
  if [[ "$WITH_KEYCLOAK" == 1 ]]; then kcs="$(check keycloak)" || exit 1; fi
  # Keycloak first: it takes longest to start.
  if [[ "$WITH_KEYCLOAK" == 1 ]]; then
    if [[ "$kcs" == running ]]; then report_running keycloak; else kc_start; fi
  fi
  if [[ "$ks" == running ]]; then report_running kafka; else kafka_start; fi
  if [[ "$ms" == running ]]; then report_running mongo; else mongo_start; fi
  if [[ "$ks" == running && "$ms" == running && "$kcs" == running ]] && port_open "$KAFKA_PORT" && port_open "$MONGO_PORT"; then
    say "nothing to do: $(servers | sed 's/ /, /g') are already up"
    return 0
  fi

  say "waiting up to ${TIMEOUT}s for kafka and mongo to answer (probe: $PYTHON deploy/local/probe.py)"
  S8_KAFKA_PORT="$KAFKA_PORT" S8_MONGO_PORT="$MONGO_PORT" S8_INFRA_TIMEOUT="$TIMEOUT" \
    "$PYTHON" "$HERE/probe.py" --timeout "$TIMEOUT" &
  local probe_pid=$! rc=0 dead=""
  # Fail fast when a server process dies while the probe is still retrying.
  while kill -0 "$probe_pid" 2>/dev/null; do
    if [[ -z "$(current_pid kafka)" ]]; then dead="kafka"; elif [[ -z "$(current_pid mongo)" ]]; then dead="mongo"; fi
    if [[ -n "$dead" ]]; then
      kill "$probe_pid" 2>/dev/null || true
      wait "$probe_pid" 2>/dev/null || true
      fail_server "$dead" "process exited during startup"
      err "the other server may still be running: 'deploy/local/infra.sh down' stops it"
      exit 1
    fi
    sleep 0.5
  done
  wait "$probe_pid" || rc=$?
  case "$rc" in
    0) say "kafka ($HOST:$KAFKA_PORT) and mongo ($HOST:$MONGO_PORT) are up in $((SECONDS - t0))s"
       # Each service's Kafka user and ACLs (SASL_PLAINTEXT on $SASL_PORT).
       "$PYTHON" "$HERE/kafka_access.py" --bootstrap "$HOST:$KAFKA_PORT" | sed 's/^/infra: /' \
         || die "kafka: could not create the services' users and ACLs" ;;
    10) fail_server mongo "not ready after ${TIMEOUT}s"; exit 1 ;;
    11) fail_server kafka "not ready after ${TIMEOUT}s"; exit 1 ;;
    12) fail_server kafka "not ready after ${TIMEOUT}s"; fail_server mongo "not ready after ${TIMEOUT}s"; exit 1 ;;
    2) die "probe could not run with '$PYTHON' (missing pymongo/aiokafka?); the servers are running, 'infra.sh down' stops them" ;;
    *) die "probe failed with exit code $rc ('$PYTHON' $HERE/probe.py)" ;;
  esac
  if [[ "$WITH_KEYCLOAK" == 1 ]]; then
    kc_wait "$TIMEOUT" || exit 1
    say "keycloak (http://$HOST:$KC_PORT/realms/s8) is up in $((SECONDS - t0))s"
  fi
}

# stop NAME: SIGTERM, wait up to 20 s, then SIGKILL
stop() {
  local name="$1" pids pid i
  pids="$( { current_pid "$name"; find_ours "$name"; } | sort -u)"
  if [[ -z "$pids" ]]; then
    say "$name: not running"
    rm -f "$(pidfile "$name")"
    return 0
  fi
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
  for ((i = 0; i < 40; i++)); do
    local alive=""
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive="$alive $pid"; done
    [[ -z "$alive" ]] && break
    sleep 0.5
  done
  for pid in $pids; do
    if kill -0 "$pid" 2>/dev/null; then
      err "$name: pid $pid did not stop within 20s after SIGTERM, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for ((i = 0; i < 20; i++)); do
    local alive=""
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ -z "$alive" ]] && break
    sleep 0.25
  done
  rm -f "$(pidfile "$name")"
  say "$name: stopped (pid ${pids//$'\n'/ })"
}

# Only Keycloak: the benchmarks' and chaos run's stacks (their own Kafka and store, S8_KEYCLOAK=0)
# share the one of the default directory.
cmd_keycloak() {
  kc_fetch
  with_lock
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  local kcs t0=$SECONDS
  if [[ -z "$(current_pid keycloak)" ]] && port_open "$KC_PORT" && kc_ready; then
    say "keycloak: using the one already answering on $HOST:$KC_PORT (another checkout's)"
    return 0
  fi
  kcs="$(check keycloak)" || exit 1
  if [[ "$kcs" == running ]] && kc_ready; then
    say "keycloak: already up (http://$HOST:$KC_PORT)"
    return 0
  fi
  [[ "$kcs" == running ]] || kc_start
  kc_wait "$TIMEOUT" || exit 1
  say "keycloak (http://$HOST:$KC_PORT/realms/s8) is up in $((SECONDS - t0))s"
}

cmd_down() {
  with_lock
  stop kafka
  stop mongo
  stop keycloak
}

cmd_status() {
  local name pid port state all_up=0
  for name in $(servers); do
    port="$(port_of "$name")"
    pid="$(current_pid "$name")"
    if [[ -n "$pid" ]] && port_open "$port"; then
      state=running
    elif [[ -n "$pid" ]]; then
      state="starting (port not answering)"; all_up=1
    else
      state=stopped; all_up=1
    fi
    printf '%-6s %-30s pid=%-8s port=%-6s log=%s\n' "$name" "$state" "${pid:--}" "$port" "$(log_of "$name")"
  done
  return "$all_up"
}

cmd_reset() {
  cmd_down
  say "deleting $KAFKA_DATA, $KAFKA_FORMAT_ENV, $KAFKA_CONFIG, $MONGO_DIR and $KC_HOME/data"
  rm -rf "$KAFKA_DATA" "$KAFKA_FORMAT_ENV" "$KAFKA_CONFIG" "$MONGO_DIR" "$KC_HOME/data"
}

usage() {
  sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status || exit 3 ;;
  reset) cmd_reset ;;
  keycloak) cmd_keycloak ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
