#!/usr/bin/env bash
# demo.sh -- run shortcoded on this machine with everything it talks to: a
# private redis-server and the bundled SMSC simulator in interactive mode, all
# on free loopback ports. Type a command (e.g. 0000) and see the reply.
#
# Ctrl-C (or Ctrl-D, or :quit) stops everything it started and prints "demo
# stopped". DEMO_BUILD_DIR=DIR uses that build as it is (no install-deps, no
# build): the tests do that.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${DEMO_BUILD_DIR:-}" ]; then
  build=$DEMO_BUILD_DIR
else
  ./scripts/install-deps.sh
  build=build
  [ -f build/build.ninja ] || meson setup build >/dev/null
  ninja -C build >/dev/null
fi

work=$(mktemp -d /tmp/shortcoded-demo.XXXXXX)
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
REDIS_PORT=$(free_port)
SMSC_PORT=$(free_port)
REDIS_PID= DAEMON_PID=

# SIGTERM a child and wait for it. A child already gone (Ctrl-C reaches the
# whole process group, so the daemon may be stopping or have stopped by
# itself) or killed by the signal is fine: never let set -e end the cleanup.
stop() {
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  trap - EXIT INT TERM
  set +e
  stop "$DAEMON_PID"
  stop "$REDIS_PID"
  echo "demo stopped; logs are in $work"
}
trap cleanup EXIT
# Ctrl-C: the simulator in the foreground quits too; then leave through
# cleanup with the status of an interrupted shell.
trap 'exit 130' INT TERM

# AOF with fsync every second: the daemon refuses a Redis that would lose
# acknowledged cancellations (redis.durability, docs/reliability.md).
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly yes \
  --appendfsync everysec --dir "$work" >"$work/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 50); do
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done

export SHORTCODED_SMSC_HOST=127.0.0.1 SHORTCODED_SMSC_PORT=$SMSC_PORT
export SHORTCODED_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
# Reminders show at once whatever the hour (the shipped default holds them
# from 22:00 to 08:00 Asia/Shanghai); SHORTCODED_QUIET_HOURS=... to try it.
export SHORTCODED_QUIET_HOURS=${SHORTCODED_QUIET_HOURS:-off}
# Demo data: 12 services; 13800138000 has 3, 13900139000 has 12,
# 13700137000 none. Accounts (acct:{M}) and last month's bills
# (bill:{M}:202611), as billing would write them, for CXYE, CXLL, CXZD:
# 13800138000 in credit, 13900139000 owing and over its data quota,
# 13700137000 near suspension, on a plan without data, with no bill.
"$build"/tools/shortcodectl import catalogue demo/catalogue.csv >/dev/null
"$build"/tools/shortcodectl import subscriptions demo/subscriptions.csv >/dev/null
redis-cli -p "$REDIS_PORT" <demo/accounts.redis >/dev/null
# The daemon retries until the simulator below is listening.
"$build"/shortcoded -c config/shortcoded.yaml >"$work/shortcoded.log" 2>&1 &
DAEMON_PID=$!

cat <<MSG
shortcoded demo: redis on 127.0.0.1:$REDIS_PORT, SMSC simulator on 127.0.0.1:$SMSC_PORT
You are subscriber 13800138000 (3 monthly services; 13900139000 has 12,
13700137000 none). Type a command to 10086 and press Enter: try 0000, then
1，3 to cancel items 1 and 3, TDCL001, 00000 then Y, KTYD001 (order 阅读包)
then Y or N; CXYE (balance), CXLL (data), CXZD (last month's bill), LLTX 80
(data reminder); or anything for help. A provider's order, from another shell:
  redis-cli -p $REDIS_PORT XADD vas:orders '*' id P1 msisdn 13800138000 service YY001 channel sp
Billing's usage feed (80 % of the 10 GB quota used: a data reminder arrives):
  redis-cli -p $REDIS_PORT XADD usage:in '*' msisdn 13800138000 at \$(date +%s000) cycle 202612 data_quota_kb 10485760 data_used_kb 8400000
":from 13900139000" switches subscriber, ":help" lists simulator commands,
Ctrl-D or Ctrl-C quits.
Daemon log: $work/shortcoded.log
MSG
"$build"/tools/smsc-sim --listen "127.0.0.1:$SMSC_PORT" --interactive --log-level warn
