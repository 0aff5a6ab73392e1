#!/usr/bin/env bash
# Apache Kafka (KRaft, broker and controller in one JVM) for local runs and tests, without Docker:
# the jars come from Maven Central through deploy/kafka/pom.xml. One node by default; run it once per
# node with KAFKA_NODE_ID and KAFKA_QUORUM_VOTERS (and each node's own ports and data dir) for a
# cluster, e.g. three nodes: KAFKA_QUORUM_VOTERS=1@127.0.0.1:19893,2@127.0.0.1:19895,3@127.0.0.1:19897
# KAFKA_REPLICATION=3 KAFKA_MIN_INSYNC=2 (kafkaCluster in test/support/kafka.ts starts one so).
#
#   deploy/kafka/kafka.sh start       resolve the jars if needed, format the data dir on first use,
#                                     start the broker, wait until it serves, print host:port last
#   deploy/kafka/kafka.sh stop        SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT seconds
#   deploy/kafka/kafka.sh status      "running ..." and exit 0, or "not running" and exit 1
#   deploy/kafka/kafka.sh resolve     only fetch the jars into deploy/kafka/target/lib
#   deploy/kafka/kafka.sh run-class MAIN [ARGS...]
#                                     run a Kafka tool on the same classpath, e.g.
#                                     org.apache.kafka.tools.ConsoleProducer --bootstrap-server ...
#
# Environment:
#   KAFKA_PORT             client (PLAINTEXT) port, default 19092
#   KAFKA_CONTROLLER_PORT  controller port, default 19093
#   KAFKA_HOST             address both listeners bind and advertise, default 127.0.0.1
#   KAFKA_DATA_DIR         data dir (properties, pid, kafka.log, partitions),
#                          default deploy/kafka/target/data-$KAFKA_PORT
#   KAFKA_CLUSTER_ID       cluster id used when formatting a new data dir (the same on every node)
#   KAFKA_NODE_ID          this node's id, default 1
#   KAFKA_QUORUM_VOTERS    a cluster's controller quorum, id@host:controller port of every node,
#                          comma-separated (static voters, this node among them); default: none, a
#                          single node that is its own quorum
#   KAFKA_REPLICATION      replicas of every topic (default.replication.factor and the internal
#                          topics'), default 1
#   KAFKA_MIN_INSYNC       min.insync.replicas (a write with acks=all needs this many in-sync
#                          replicas), default 1; unclean leader election is always off
#   KAFKA_RESET=1          start: delete the data dir's topics and metadata first (a broker that is
#                          already running is left as it is)
#   KAFKA_HEAP_OPTS        default "-Xms256m -Xmx512m"
#   KAFKA_JVM_OPTS         extra JVM options, appended after the defaults
#   KAFKA_START_TIMEOUT    seconds to wait for the broker, default 120
#   KAFKA_STOP_TIMEOUT     seconds to wait after SIGTERM before SIGKILL, default 30
#   KAFKA_SECURED=1        also open the secured listeners (server-secured.properties), with the
#                          certificates and the SASL user of certs.sh (made on first use):
#   KAFKA_SASL_SSL_PORT      SASL_SSL (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN) port, default KAFKA_PORT+2
#   KAFKA_SSL_PORT           SSL port with client certificates (mutual TLS), default KAFKA_PORT+3
#   KAFKA_CERTS_DIR          certs.sh's folder, default deploy/kafka/target/certs
# Progress goes to stderr; stdout carries only the bootstrap address (start) or the status line.
set -euo pipefail

KAFKA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TARGET_DIR="$KAFKA_DIR/target"
LIB_DIR="$TARGET_DIR/lib"

KAFKA_HOST=${KAFKA_HOST:-127.0.0.1}
KAFKA_PORT=${KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19093}
KAFKA_DATA_DIR=${KAFKA_DATA_DIR:-$TARGET_DIR/data-$KAFKA_PORT}
KAFKA_CLUSTER_ID=${KAFKA_CLUSTER_ID:-lgspHubTestKafkaAAAAAA}
KAFKA_NODE_ID=${KAFKA_NODE_ID:-1}
KAFKA_QUORUM_VOTERS=${KAFKA_QUORUM_VOTERS:-}
KAFKA_REPLICATION=${KAFKA_REPLICATION:-1}
KAFKA_MIN_INSYNC=${KAFKA_MIN_INSYNC:-1}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
KAFKA_JVM_OPTS=${KAFKA_JVM_OPTS:-}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-120}
KAFKA_STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
KAFKA_SECURED=${KAFKA_SECURED:-0}
KAFKA_SASL_SSL_PORT=${KAFKA_SASL_SSL_PORT:-$((KAFKA_PORT + 2))}
KAFKA_SSL_PORT=${KAFKA_SSL_PORT:-$((KAFKA_PORT + 3))}
export KAFKA_CERTS_DIR=${KAFKA_CERTS_DIR:-$TARGET_DIR/certs}

PID_FILE="$KAFKA_DATA_DIR/kafka.pid"
LOG_FILE="$KAFKA_DATA_DIR/kafka.log"
PROPS_FILE="$KAFKA_DATA_DIR/server.properties"
SCRAM_MARKER="$KAFKA_DATA_DIR/scram.sha256"
PARTITIONS_DIR="$KAFKA_DATA_DIR/kraft-logs"
ADDRESS="$KAFKA_HOST:$KAFKA_PORT"

log() { echo "kafka.sh: $*" >&2; }
die() {
  echo "kafka.sh: error: $*" >&2
  exit 1
}

java_bin() {
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then
    echo "$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    command -v java
  else
    die "java not found: Kafka needs a Java 17+ runtime on PATH or in JAVA_HOME (e.g. apt-get install openjdk-17-jre-headless)"
  fi
}

check_java() {
  local java version major
  java=$(java_bin)
  version=$("$java" -version 2>&1 | awk -F'"' '/version/ { print $2; exit }')
  major=${version%%.*}
  [[ $major == 1 ]] && major=$(echo "$version" | cut -d. -f2)
  if ! [[ $major =~ ^[0-9]+$ ]] || ((major < 17)); then
    die "java $version at $java is too old: Kafka 4 needs Java 17 or newer"
  fi
}

pom_hash() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$KAFKA_DIR/pom.xml" | cut -d' ' -f1
  else
    shasum -a 256 "$KAFKA_DIR/pom.xml" | cut -d' ' -f1
  fi
}

jars_ready() { [[ -f $LIB_DIR/.resolved && $(cat "$LIB_DIR/.resolved") == "$(pom_hash)" ]]; }

# Copies the broker's classpath into target/lib (Maven's ~/.m2 is the download cache). A marker
# holding the pom's hash tells whether the jars match the pom; a lock keeps parallel starts apart.
resolve_jars() {
  jars_ready && return 0
  mkdir -p "$TARGET_DIR"
  exec 9>"$TARGET_DIR/.resolve.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  if jars_ready; then
    exec 9>&-
    return 0
  fi
  command -v mvn >/dev/null 2>&1 ||
    die "mvn not found: Maven 3 is needed once to fetch the Kafka jars into $LIB_DIR (e.g. apt-get install maven)"
  log "resolving the Kafka jars with Maven (the first run downloads about 45 MB from Maven Central)..."
  local staging="$TARGET_DIR/lib.tmp.$$" mvn_log="$TARGET_DIR/mvn.log"
  rm -rf "$staging"
  if ! mvn -q -B -f "$KAFKA_DIR/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$staging" -DincludeScope=runtime >"$mvn_log" 2>&1; then
    tail -n 30 "$mvn_log" >&2 || true
    rm -rf "$staging"
    die "Maven could not resolve the Kafka jars (see $mvn_log)"
  fi
  pom_hash >"$staging/.resolved"
  rm -rf "$LIB_DIR"
  mv "$staging" "$LIB_DIR"
  exec 9>&-
  log "jars ready in $LIB_DIR"
}

# The pid in the pid file, when that process is alive and is this data dir's broker.
running_pid() {
  [[ -f $PID_FILE ]] || return 1
  local pid args
  pid=$(cat "$PID_FILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  args=$(ps -p "$pid" -o args= 2>/dev/null || true)
  [[ $args == *kafka.Kafka*"$PROPS_FILE"* ]] || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

secured() { [[ $KAFKA_SECURED == 1 ]]; }

clustered() { [[ -n $KAFKA_QUORUM_VOTERS ]]; }

# The settings of a node of a cluster, checked before anything is written.
check_cluster_settings() {
  local setting
  for setting in KAFKA_NODE_ID KAFKA_REPLICATION KAFKA_MIN_INSYNC; do
    [[ ${!setting} =~ ^[0-9]+$ ]] || die "$setting must be a number, got '${!setting}'"
  done
  ((KAFKA_MIN_INSYNC <= KAFKA_REPLICATION)) ||
    die "KAFKA_MIN_INSYNC ($KAFKA_MIN_INSYNC) is more than KAFKA_REPLICATION ($KAFKA_REPLICATION): no write could be acknowledged"
  clustered || return 0
  [[ ,$KAFKA_QUORUM_VOTERS, == *",$KAFKA_NODE_ID@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT,"* ]] ||
    die "KAFKA_QUORUM_VOTERS ($KAFKA_QUORUM_VOTERS) does not hold this node, $KAFKA_NODE_ID@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT"
}

# The controller quorum's line: the voters of a cluster, or this node alone.
quorum_property() {
  if clustered; then
    echo "controller.quorum.voters=$KAFKA_QUORUM_VOTERS"
  else
    echo "controller.quorum.bootstrap.servers=$KAFKA_HOST:$KAFKA_CONTROLLER_PORT"
  fi
}

sasl_username() { cat "$KAFKA_CERTS_DIR/sasl.username"; }
sasl_password() { cat "$KAFKA_CERTS_DIR/sasl.password"; }

# The certificates and the SASL user of the secured listeners (certs.sh keeps those that exist).
make_certs() {
  secured || return 0
  "$KAFKA_DIR/certs.sh" >/dev/null || die "certs.sh could not make the secured listeners' certificates"
}

write_properties() {
  mkdir -p "$KAFKA_DATA_DIR" "$PARTITIONS_DIR"
  local templates=("$KAFKA_DIR/server.properties") user='' password=''
  if secured; then
    templates+=("$KAFKA_DIR/server-secured.properties")
    user=$(sasl_username)
    password=$(sasl_password)
  fi
  (umask 077 && cat "${templates[@]}" | sed -e "s|@KAFKA_HOST@|$KAFKA_HOST|g" \
    -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
    -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@KAFKA_SASL_SSL_PORT@|$KAFKA_SASL_SSL_PORT|g" \
    -e "s|@KAFKA_SSL_PORT@|$KAFKA_SSL_PORT|g" \
    -e "s|@KAFKA_CERTS_DIR@|$KAFKA_CERTS_DIR|g" \
    -e "s|@KAFKA_SASL_USERNAME@|$user|g" \
    -e "s|@KAFKA_SASL_PASSWORD@|$password|g" \
    -e "s|@KAFKA_NODE_ID@|$KAFKA_NODE_ID|g" \
    -e "s|@KAFKA_QUORUM@|$(quorum_property)|g" \
    -e "s|@KAFKA_REPLICATION@|$KAFKA_REPLICATION|g" \
    -e "s|@KAFKA_MIN_INSYNC@|$KAFKA_MIN_INSYNC|g" \
    -e "s|@KAFKA_LOG_DIR@|$PARTITIONS_DIR|g" >"$PROPS_FILE")
}

scram_hash() {
  local text
  text="$(sasl_username):$(sasl_password)"
  if command -v sha256sum >/dev/null 2>&1; then
    printf '%s' "$text" | sha256sum | cut -d' ' -f1
  else
    printf '%s' "$text" | shasum -a 256 | cut -d' ' -f1
  fi
}

run_class() {
  local java
  java=$(java_bin)
  "$java" -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$KAFKA_DIR/tools-log4j2.properties" \
    -cp "$LIB_DIR/*" "$@"
}

format_storage() {
  [[ -f $PARTITIONS_DIR/meta.properties ]] && return 0
  log "formatting $PARTITIONS_DIR (cluster id $KAFKA_CLUSTER_ID)"
  local scram=()
  if secured; then
    # SCRAM credentials live in the cluster's metadata: a new data dir gets them at format time.
    local user password
    user=$(sasl_username)
    password=$(sasl_password)
    scram=(--add-scram "SCRAM-SHA-512=[name=$user,password=$password]"
      --add-scram "SCRAM-SHA-256=[name=$user,password=$password]")
  fi
  # A single node formats itself as the whole (dynamic) quorum; a cluster's nodes list the static
  # voters in their properties instead.
  local quorum=(--standalone)
  clustered && quorum=()
  if ! run_class kafka.tools.StorageTool format "${quorum[@]}" \
    --cluster-id "$KAFKA_CLUSTER_ID" --config "$PROPS_FILE" "${scram[@]}" >"$KAFKA_DATA_DIR/format.log" 2>&1; then
    cat "$KAFKA_DATA_DIR/format.log" >&2 || true
    die "formatting the storage in $PARTITIONS_DIR failed"
  fi
  secured && scram_hash >"$SCRAM_MARKER"
  return 0
}

# A data dir formatted before (without the secured listeners, or for another password) gets the SASL
# user's SCRAM credentials through the running broker (pid $1), which is stopped if that fails. The
# tool's log holds the password: only its last line is shown.
update_scram() {
  secured || return 0
  [[ -f $SCRAM_MARKER && $(cat "$SCRAM_MARKER") == "$(scram_hash)" ]] && return 0
  local user password mechanism
  user=$(sasl_username)
  password=$(sasl_password)
  log "storing the SCRAM credentials of $user"
  # One mechanism per call: the tool refuses to alter one user twice in one request.
  for mechanism in SCRAM-SHA-512 SCRAM-SHA-256; do
    if ! run_class kafka.admin.ConfigCommand --bootstrap-server "$ADDRESS" --alter --entity-type users \
      --entity-name "$user" --add-config "$mechanism=[password=$password]" >"$KAFKA_DATA_DIR/scram.log" 2>&1; then
      tail -n 1 "$KAFKA_DATA_DIR/scram.log" >&2 || true
      stop_pid "$1"
      die "storing the $mechanism credentials of $user failed; the broker is stopped"
    fi
  done
  rm -f "$KAFKA_DATA_DIR/scram.log"
  scram_hash >"$SCRAM_MARKER"
}

cmd_start() {
  local pid
  if pid=$(running_pid); then
    log "already running (pid $pid, data dir $KAFKA_DATA_DIR)"
    if secured && ! grep -q "^listeners=.*SASL_SSL://" "$PROPS_FILE"; then
      die "the broker running on $ADDRESS has no secured listeners: stop it, then start it with KAFKA_SECURED=1"
    fi
    echo "$ADDRESS"
    return 0
  fi
  check_java
  check_cluster_settings
  if port_open "$KAFKA_HOST" "$KAFKA_PORT" || port_open "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT"; then
    die "port $KAFKA_PORT or $KAFKA_CONTROLLER_PORT on $KAFKA_HOST is taken by another process; choose others with KAFKA_PORT and KAFKA_CONTROLLER_PORT"
  fi
  if secured && { port_open "$KAFKA_HOST" "$KAFKA_SASL_SSL_PORT" || port_open "$KAFKA_HOST" "$KAFKA_SSL_PORT"; }; then
    die "port $KAFKA_SASL_SSL_PORT or $KAFKA_SSL_PORT on $KAFKA_HOST is taken by another process; choose others with KAFKA_SASL_SSL_PORT and KAFKA_SSL_PORT"
  fi
  make_certs
  resolve_jars
  if [[ ${KAFKA_RESET:-} == 1 && -d $PARTITIONS_DIR ]]; then
    log "KAFKA_RESET=1: deleting the topics and metadata in $PARTITIONS_DIR"
    rm -rf "$PARTITIONS_DIR"
  fi
  write_properties
  format_storage

  [[ -f $LOG_FILE ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
  local java started=$SECONDS
  java=$(java_bin)
  log "starting Kafka on $ADDRESS (data dir $KAFKA_DATA_DIR, log $LOG_FILE)"
  # Its own session, so that a Ctrl-C in the terminal that started it does not kill it halfway
  # through a test run's teardown.
  local detach=()
  command -v setsid >/dev/null 2>&1 && detach=(setsid)
  # shellcheck disable=SC2086 # the option strings are lists of words
  "${detach[@]}" "$java" -server $KAFKA_HEAP_OPTS \
    -XX:+UseSerialGC -XX:MaxMetaspaceSize=128m -XX:ReservedCodeCacheSize=64m \
    -XX:MaxDirectMemorySize=256m -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" $KAFKA_JVM_OPTS \
    -cp "$LIB_DIR/*" kafka.Kafka "$PROPS_FILE" </dev/null >"$LOG_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"

  # Ready when the broker has logged that it started (after it is unfenced and accepts requests)
  # and its client port takes connections.
  while true; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$LOG_FILE" >&2 || true
      rm -f "$PID_FILE"
      die "Kafka exited during start-up (log: $LOG_FILE)"
    fi
    if grep -q "Kafka Server started" "$LOG_FILE" && port_open "$KAFKA_HOST" "$KAFKA_PORT" &&
      { ! secured || { port_open "$KAFKA_HOST" "$KAFKA_SASL_SSL_PORT" && port_open "$KAFKA_HOST" "$KAFKA_SSL_PORT"; }; }; then
      break
    fi
    if ((SECONDS - started >= KAFKA_START_TIMEOUT)); then
      tail -n 40 "$LOG_FILE" >&2 || true
      stop_pid "$pid"
      die "Kafka did not become ready within ${KAFKA_START_TIMEOUT}s (log: $LOG_FILE)"
    fi
    sleep 0.2
  done
  update_scram "$pid"
  if secured; then
    log "Kafka ready on $ADDRESS, SASL_SSL on $KAFKA_HOST:$KAFKA_SASL_SSL_PORT, SSL on $KAFKA_HOST:$KAFKA_SSL_PORT after $((SECONDS - started))s (pid $pid)"
  else
    log "Kafka ready on $ADDRESS after $((SECONDS - started))s (pid $pid)"
  fi
  echo "$ADDRESS"
}

stop_pid() {
  local pid=$1 waited=0
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= KAFKA_STOP_TIMEOUT * 10)); then
      log "no exit ${KAFKA_STOP_TIMEOUT}s after SIGTERM: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  # Reap/await the kill so the ports are free when stop returns.
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$PID_FILE"
}

cmd_stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$PID_FILE"
    log "not running (data dir $KAFKA_DATA_DIR)"
    return 0
  fi
  log "stopping Kafka on $ADDRESS (pid $pid)"
  stop_pid "$pid"
  log "stopped"
}

cmd_status() {
  local pid
  if pid=$(running_pid); then
    if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
      echo "running on $ADDRESS (pid $pid, data dir $KAFKA_DATA_DIR)"
    else
      echo "running (pid $pid, data dir $KAFKA_DATA_DIR) but $ADDRESS does not accept connections yet"
    fi
    return 0
  fi
  echo "not running (data dir $KAFKA_DATA_DIR)"
  return 1
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
resolve)
  check_java
  resolve_jars
  ;;
run-class)
  shift
  [[ $# -ge 1 ]] || die "usage: $0 run-class MAIN_CLASS [ARGS...]"
  check_java
  resolve_jars
  run_class "$@"
  ;;
*)
  echo "usage: $0 start|stop|status|resolve|run-class MAIN_CLASS [ARGS...]" >&2
  exit 2
  ;;
esac
