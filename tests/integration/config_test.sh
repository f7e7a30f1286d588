#!/usr/bin/env bash
# esar serve takes its settings from a config file and from ESAR_* environment variables.
#   tests/integration/config_test.sh path/to/esar
set -u
esar="$(readlink -f "${1:?path to esar}")"
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
cd "$dir"
passed=0 failed=0
check() {  # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "PASS $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}
wait_listening() {
  for _ in $(seq 100); do grep -q listening "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

printf '[serve]\nlisten = "127.0.0.1:0"\ndb = "from-config.db"\ndata-dir = "config-files"\nquiet = true\n' > esar.toml
"$esar" --config esar.toml serve > out1 2>&1 &
pid=$!
check "listens with the config file's settings" wait_listening out1
check "opens the database the config file names" test -f from-config.db
check "uses the data folder the config file names" test -d config-files
kill -TERM $pid; wait $pid; status=$?
check "stops with exit 0 on SIGTERM" test "$status" -eq 0

ESAR_DB=from-env.db ESAR_DATA_DIR=env-files ESAR_LISTEN=127.0.0.1:0 "$esar" serve --quiet > out2 2>&1 &
pid=$!
check "listens with the environment's settings" wait_listening out2
check "opens the database ESAR_DB names" test -f from-env.db
check "uses the data folder ESAR_DATA_DIR names" test -d env-files
kill -TERM $pid; wait $pid

# The trusted proxy, from the config file and from the environment: a bad address stops the
# start with a message naming the setting; a good one is taken.
printf '[serve]\nlisten = "127.0.0.1:0"\ndb = "proxy.db"\ndata-dir = "proxy-files"\nquiet = true\ntrusted-proxy = "not-an-address"\nhash-concurrency = 3\n' > proxy.toml
"$esar" --lang en --config proxy.toml serve > out3 2>&1
status=$?
check "a config file's bad trusted-proxy stops the start" test "$status" -ne 0
check "  with a message naming it" grep -q -- "--trusted-proxy" out3
sed -i 's/not-an-address/127.0.0.1,::1/' proxy.toml
"$esar" --config proxy.toml serve > out4 2>&1 &
pid=$!
check "a config file's trusted-proxy and hash-concurrency are taken" wait_listening out4
kill -TERM $pid; wait $pid
ESAR_TRUSTED_PROXY=10.0.0.300 ESAR_DB=env-proxy.db ESAR_DATA_DIR=env-files ESAR_LISTEN=127.0.0.1:0 \
  "$esar" --lang en serve --quiet > out5 2>&1
status=$?
check "a bad ESAR_TRUSTED_PROXY stops the start" test "$status" -ne 0
check "  with a message naming it" grep -q "10.0.0.300" out5

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
