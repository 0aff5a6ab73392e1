#!/usr/bin/env bash
# Certificates and SASL credentials for the development broker's secured listeners (kafka.sh with
# KAFKA_SECURED=1), made with openssl. Written to KAFKA_CERTS_DIR (default deploy/kafka/target/certs,
# ignored by git); files that exist are kept, so every run of the tests uses the same ones.
#
#   deploy/kafka/certs.sh          make what is missing, print the folder's path
#   deploy/kafka/certs.sh --force  make everything anew
#
# What the folder holds:
#   ca.crt                 the development CA: the broker's and the clients' certificates are signed by it
#   broker.pem             the broker's private key and certificate (subject alternative names
#                          localhost, 127.0.0.1, ::1 and KAFKA_HOST), Kafka's PEM key store
#   client.crt client.key  a client certificate (CN=lgsp-hub) for the SSL listener's mutual TLS
#   untrusted-ca.crt       a CA that signed nothing the broker holds (tests of an unknown CA)
#   sasl.username          the SASL user the broker knows (KAFKA_SASL_USERNAME, default lgsp-hub)
#   sasl.password          its password (KAFKA_SASL_PASSWORD, default a random one), owner-only
#
# Environment: KAFKA_CERTS_DIR, KAFKA_HOST (default 127.0.0.1), KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD.
# Progress goes to stderr; stdout carries only the folder's path.
set -euo pipefail

KAFKA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CERTS_DIR=${KAFKA_CERTS_DIR:-$KAFKA_DIR/target/certs}
KAFKA_HOST=${KAFKA_HOST:-127.0.0.1}
DAYS=825

log() { echo "certs.sh: $*" >&2; }
die() {
  echo "certs.sh: error: $*" >&2
  exit 1
}

command -v openssl >/dev/null 2>&1 ||
  die "openssl not found: the secured Kafka listeners need it to make their certificates (e.g. apt-get install openssl)"

if [[ ${1:-} == --force ]]; then
  rm -rf "$CERTS_DIR"
elif [[ -n ${1:-} ]]; then
  die "usage: $0 [--force]"
fi
mkdir -p "$CERTS_DIR"
chmod 700 "$CERTS_DIR"
cd "$CERTS_DIR"
umask 077
# Brokers started side by side (parallel test workers) make the files once.
exec 9>"$CERTS_DIR/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

# openssl's own messages only when it fails.
run() {
  local out
  if ! out=$(openssl "$@" 2>&1); then
    echo "$out" >&2
    die "openssl $1 failed in $CERTS_DIR"
  fi
}

new_ca() { # name, subject
  [[ -f $1.crt && -f $1.key ]] && return 0
  log "making $1.crt"
  run req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" -days "$DAYS" -subj "$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

signed() { # name, subject, extensions, ca
  log "making $1.crt (signed by $4.crt)"
  run req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
  printf '%s\n' "$3" >"$1.ext"
  run x509 -req -in "$1.csr" -CA "$4.crt" -CAkey "$4.key" -CAcreateserial -out "$1.crt" -days "$DAYS" \
    -extfile "$1.ext"
  rm -f "$1.csr" "$1.ext"
}

new_ca ca '/O=lgsp-hub/CN=lgsp-hub development CA'
new_ca untrusted-ca '/O=elsewhere/CN=a CA the broker does not know'

san="DNS:localhost,IP:127.0.0.1,IP:::1"
if [[ $KAFKA_HOST =~ ^[0-9.]+$ || $KAFKA_HOST == *:* ]]; then
  [[ $KAFKA_HOST == 127.0.0.1 || $KAFKA_HOST == ::1 ]] || san="$san,IP:$KAFKA_HOST"
elif [[ $KAFKA_HOST != localhost ]]; then
  san="$san,DNS:$KAFKA_HOST"
fi
# A certificate made for another KAFKA_HOST, or by another CA, is made again.
if [[ ! -f broker.pem || ! -f broker.san || $(cat broker.san) != "$san" ]] ||
  ! openssl verify -CAfile ca.crt broker.crt >/dev/null 2>&1; then
  signed broker '/O=lgsp-hub/CN=kafka' \
    "subjectAltName=$san
extendedKeyUsage=serverAuth,clientAuth" ca
  cat broker.key broker.crt >broker.pem
  echo "$san" >broker.san
fi
if [[ ! -f client.crt || ! -f client.key ]] || ! openssl verify -CAfile ca.crt client.crt >/dev/null 2>&1; then
  signed client '/O=lgsp-hub/CN=lgsp-hub' 'extendedKeyUsage=clientAuth' ca
fi

if [[ -n ${KAFKA_SASL_USERNAME:-} ]]; then
  printf '%s\n' "$KAFKA_SASL_USERNAME" >sasl.username
elif [[ ! -f sasl.username ]]; then
  echo lgsp-hub >sasl.username
fi
if [[ -n ${KAFKA_SASL_PASSWORD:-} ]]; then
  printf '%s\n' "$KAFKA_SASL_PASSWORD" >sasl.password
elif [[ ! -f sasl.password ]]; then
  log "making sasl.password (random)"
  openssl rand -hex 24 >sasl.password
fi
# The user name and password go into JAAS and SCRAM settings: no quotes, commas, brackets or spaces.
for file in sasl.username sasl.password; do
  [[ $(cat "$file") =~ ^[A-Za-z0-9._@+-]+$ ]] ||
    die "$file: letters, digits and . _ @ + - only (it is written into the broker's settings)"
done
chmod 600 ./*.key sasl.password broker.pem
echo "$CERTS_DIR"
