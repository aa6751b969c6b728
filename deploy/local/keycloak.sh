# Keycloak, the local OpenID Connect provider: sourced by deploy/local/infra.sh (not run alone).
#
# Its server distribution comes from Maven Central (org.keycloak:keycloak-quarkus-dist, a zip),
# unpacked into $LIB_DIR; it runs on Java 21+ (S8_KEYCLOAK_JAVA_HOME, else JAVA_HOME when new
# enough, else the newest JDK under /usr/lib/jvm), bound to 127.0.0.1, in development mode (its
# own H2 file under the unpacked folder's data/), with the realms of deploy/local/keycloak/*-realm.json
# (written by realms.py: `s8` for make run, `s8-test` for the integration tests) imported at
# start. A changed realm file starts a fresh database (the import skips a realm that exists).

KC_VERSION=26.5.6
KC_PORT="${S8_KEYCLOAK_PORT:-18080}"
KC_HOME="$LIB_DIR/keycloak-$KC_VERSION"
KC_REALMS="$HERE/keycloak"
KC_LOG="$LOG_DIR/keycloak.log"
KC_PID="$RUN_DIR/keycloak.pid"
KC_DEV_ADMIN_PASSWORD="s8-dev-only-secret" # master realm's admin, reachable from 127.0.0.1 only

kc_present() { [[ -x "$KC_HOME/bin/kc.sh" ]]; }

kc_fetch() {
  kc_present && return 0
  command -v unzip >/dev/null 2>&1 || die "unzip not found (needed once to unpack Keycloak)"
  say "fetching Keycloak $KC_VERSION (server distribution) with Maven into $LIB_DIR ..."
  local mvn_log="$LOG_DIR/maven-fetch-keycloak.log" zip="$LIB_DIR/keycloak-quarkus-dist-$KC_VERSION.zip"
  mkdir -p "$LIB_DIR" "$LOG_DIR"
  if ! mvn -q -B -Dstyle.color=never dependency:copy \
      -Dartifact="org.keycloak:keycloak-quarkus-dist:$KC_VERSION:zip" -DoutputDirectory="$LIB_DIR" >"$mvn_log" 2>&1; then
    err "Maven failed to fetch Keycloak (log: $mvn_log)"
    tail_log "$mvn_log"
    exit 1
  fi
  rm -rf "$KC_HOME"
  unzip -q "$zip" -d "$LIB_DIR" || die "could not unpack $zip"
  rm -f "$zip"
  say "fetched: Keycloak $KC_VERSION in $KC_HOME"
}

# kc_java_home: a JDK that runs Keycloak 26 (Java 21+)
kc_java_home() {
  local d v
  for d in "${S8_KEYCLOAK_JAVA_HOME:-}" "${JAVA_HOME:-}" $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do
    [[ -n "$d" && -x "$d/bin/java" ]] || continue
    v="$("$d/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
    if [[ "${v%%.*}" =~ ^[0-9]+$ && "${v%%.*}" -ge 21 ]]; then echo "${d%/}"; return 0; fi
  done
  return 1
}

kc_start() {
  local java_home stamp
  java_home="$(kc_java_home)" || die "keycloak: no Java 21+ found (set S8_KEYCLOAK_JAVA_HOME)"
  mkdir -p "$KC_HOME/data/import" "$LOG_DIR"
  stamp="$(cat "$KC_REALMS"/*-realm.json | sha256sum | cut -d' ' -f1)"
  if [[ "$(cat "$KC_HOME/data/realm.sha256" 2>/dev/null)" != "$stamp" ]]; then
    rm -rf "$KC_HOME/data/h2" "$KC_HOME/data/import"   # a changed realm file: import afresh
    mkdir -p "$KC_HOME/data/import"
    cp "$KC_REALMS"/*-realm.json "$KC_HOME/data/import/"
    echo "$stamp" >"$KC_HOME/data/realm.sha256"
  fi
  printf '\n===== %s infra.sh up: starting Keycloak on %s:%s =====\n' "$(date -Is)" "$HOST" "$KC_PORT" >>"$KC_LOG"
  setsid nohup env JAVA_HOME="$java_home" JAVA_OPTS_KC_HEAP="-Xms64m -Xmx${S8_KEYCLOAK_HEAP:-768m}" \
    KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD="$KC_DEV_ADMIN_PASSWORD" \
    bash "$KC_HOME/bin/kc.sh" start-dev --http-host "$HOST" --http-port "$KC_PORT" --import-realm \
    >>"$KC_LOG" 2>&1 </dev/null 9>&- &
  say "keycloak: starting (http://$HOST:$KC_PORT/realms/s8, Java $java_home, log $KC_LOG)"
}

# kc_ready: the realm's discovery document answers
kc_ready() {
  "$PYTHON" - "$HOST" "$KC_PORT" <<'PY' 2>/dev/null
import sys, urllib.request
for realm in ("s8", "s8-test"):
    url = f"http://{sys.argv[1]}:{sys.argv[2]}/realms/{realm}/.well-known/openid-configuration"
    with urllib.request.urlopen(url, timeout=2) as reply:
        if reply.status != 200:
            sys.exit(1)
PY
}

kc_alive() { [[ -n "$(find_ours keycloak)" ]] || pgrep -f "$KC_HOME/bin/kc.sh" >/dev/null; }

# kc_wait TIMEOUT: waits for the discovery document; fails when the JVM exits first
kc_wait() {
  local deadline=$((SECONDS + $1))
  while ((SECONDS < deadline)); do
    if kc_ready; then
      current_pid keycloak >/dev/null
      return 0
    fi
    # kc.sh re-executes itself into a second JVM after the first start's build: only two looks
    # two seconds apart that both find neither count as an exit.
    if ! kc_alive && sleep 2 && ! kc_alive && ! kc_ready; then
      fail_server keycloak "process exited during startup"
      return 1
    fi
    sleep 1
  done
  fail_server keycloak "not ready after $1s"
  return 1
}
