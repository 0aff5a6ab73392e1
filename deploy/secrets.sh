#!/usr/bin/env bash
# Writes the secrets of deploy/compose.yaml, once: deploy/.env (the variables compose puts into the
# hub's LGSP_STORE and LGSP_ADMIN_TOKEN) and deploy/secrets/ (files mounted under /run/secrets).
# Neither is committed (.gitignore) nor sent to the image (.dockerignore). An existing file is kept.
set -euo pipefail
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
random() { openssl rand -base64 "$1" | tr -d '\n=+/'; }
[ -f secrets/postgres-password ] || random 24 > secrets/postgres-password
[ -f secrets/grafana-admin-password ] || random 18 > secrets/grafana-admin-password
# The 32-byte master key that wraps the subject keys of personal data (README, "Personal data at rest").
[ -f secrets/privacy-master-key ] || openssl rand -base64 32 > secrets/privacy-master-key
if [ ! -f .env ]; then
  {
    echo "LGSP_POSTGRES_PASSWORD=$(cat secrets/postgres-password)"
    echo "LGSP_ADMIN_TOKEN=lgsp_$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n')"
  } > .env
fi
# The containers run as other users than the one that wrote the files: readable, still not writable.
chmod 0444 secrets/*
echo "deploy/.env and deploy/secrets/ ready; the admin token is in deploy/.env (LGSP_ADMIN_TOKEN)"
