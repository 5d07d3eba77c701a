#!/usr/bin/env bash
# demo.sh -- run shortcoded on this machine with everything it talks to: a
# private redis-server and the bundled SMSC simulator in interactive mode, all
# on free loopback ports. Type a command (e.g. 0000) and see the reply.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

work=$(mktemp -d /tmp/shortcoded-demo.XXXXXX)
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
REDIS_PORT=$(free_port)
SMSC_PORT=$(free_port)
REDIS_PID= DAEMON_PID=

cleanup() {
  [ -n "$DAEMON_PID" ] && kill -TERM "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
  [ -n "$REDIS_PID" ] && kill -TERM "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
  echo "demo stopped; logs are in $work"
}
trap cleanup EXIT

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
# Demo data: 12 services; 13800138000 has 3, 13900139000 has 12,
# 13700137000 none.
build/tools/shortcodectl import catalogue demo/catalogue.csv >/dev/null
build/tools/shortcodectl import subscriptions demo/subscriptions.csv >/dev/null
# The daemon retries until the simulator below is listening.
build/shortcoded -c config/shortcoded.yaml >"$work/shortcoded.log" 2>&1 &
DAEMON_PID=$!

cat <<MSG
shortcoded demo: redis on 127.0.0.1:$REDIS_PORT, SMSC simulator on 127.0.0.1:$SMSC_PORT
You are subscriber 13800138000 (3 monthly services; 13900139000 has 12,
13700137000 none). Type a command to 10086 and press Enter: try 0000, then
1，3 to cancel items 1 and 3, TDCL001, 00000 then Y, or anything for help.
":from 13900139000" switches subscriber, ":help" lists simulator commands,
Ctrl-D quits.
Daemon log: $work/shortcoded.log
MSG
build/tools/smsc-sim --listen "127.0.0.1:$SMSC_PORT" --interactive --log-level warn
