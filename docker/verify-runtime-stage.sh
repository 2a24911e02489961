#!/usr/bin/env bash
# There is no Docker engine in CI, so this replays the Dockerfile's runtime stage outside Docker:
# in a temporary folder, a production-only install plus the built dist/ must start, answer
# /health, pass the HEALTHCHECK script, and stop with exit code 0 on SIGTERM; and the HEALTHCHECK
# must follow a --listen flag that overrides LISTEN.
# Needs dist/ (npm run build) and Node 24 on PATH, as in the runtime image.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
stage="$(mktemp -d)"
gateway_pid=""
cleanup() {
  if [ -n "$gateway_pid" ] && kill -0 "$gateway_pid" 2>/dev/null; then kill -KILL "$gateway_pid"; fi
  rm -rf "$stage"
}
trap cleanup EXIT

[ -f "$repo/dist/main.js" ] || { echo "verify-runtime-stage: dist/main.js is missing; run npm run build first" >&2; exit 1; }

# COPY package.json package-lock.json ./ ; RUN npm ci --omit=dev
cp "$repo/package.json" "$repo/package-lock.json" "$stage/"
(cd "$stage" && NODE_ENV=production npm ci --omit=dev --no-audit --no-fund --loglevel=error)
# COPY --from=build /app/dist ./dist ; COPY docker/healthcheck.mjs ./docker/
cp -R "$repo/dist" "$stage/dist"
mkdir -p "$stage/docker" && cp "$repo/docker/healthcheck.mjs" "$stage/docker/"
# COPY demo/backend.mjs ./demo/
mkdir -p "$stage/demo" && cp "$repo/demo/backend.mjs" "$stage/demo/"
if [ -d "$stage/node_modules/@nestjs/cli" ] || [ -d "$stage/node_modules/vitest" ]; then
  echo "verify-runtime-stage: dev dependencies were installed" >&2; exit 1
fi

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# Starts the gateway as the image's CMD does, with any extra flags; its pid is gateway_pid.
start_gateway() {
  (cd "$stage" && exec node dist/main.js "$@") > "$stage/gateway.log" 2>&1 &
  gateway_pid=$!
}

# The HEALTHCHECK, until it passes (the gateway needs a moment to start) or fails for good. It is
# given the gateway's pid: outside a container, PID 1 is not the gateway and other gateways may run.
wait_healthy() {
  for _ in $(seq 1 50); do
    if (cd "$stage" && node docker/healthcheck.mjs "$gateway_pid" 2>/dev/null); then return 0; fi
    sleep 0.2
  done
  (cd "$stage" && node docker/healthcheck.mjs "$gateway_pid") || { echo "verify-runtime-stage: HEALTHCHECK failed ($1)" >&2; cat "$stage/gateway.log" >&2; exit 1; }
}

stop_gateway() {
  kill -TERM "$gateway_pid"
  status=0
  wait "$gateway_pid" || status=$?
  gateway_pid=""
  [ "$status" -eq 0 ] || { echo "verify-runtime-stage: exit code ${status} after SIGTERM, expected 0" >&2; cat "$stage/gateway.log" >&2; exit 1; }
}

# Configured by the environment alone, as the image's ENV does.
port=$(free_port)
export NODE_ENV=production LISTEN="127.0.0.1:${port}" BACKENDS="http://127.0.0.1:9" RATE_LIMIT=50
start_gateway
wait_healthy "configured by LISTEN"
body=$(node -e "fetch('http://127.0.0.1:${port}/health').then(r=>r.text()).then(t=>console.log(t))")
echo "runtime stage answers /health: ${body}"
echo "$body" | grep -q '"status":"UP"' || { echo "verify-runtime-stage: unexpected /health body" >&2; exit 1; }

# The status page reads package.json two folders up from dist/status/: /app/package.json in the image.
expected_version=$(node -p "require('${repo}/package.json').version")
version=$(node -e "fetch('http://127.0.0.1:${port}/status?format=json').then(r=>r.json()).then(v=>console.log(v.gateway.version))")
echo "runtime stage's /status names version ${version}"
[ "$version" = "$expected_version" ] || { echo "verify-runtime-stage: /status says version ${version}, package.json says ${expected_version}" >&2; exit 1; }

stop_gateway
echo "runtime stage stops with exit code 0 on SIGTERM"

# A CMD flag wins over the image's ENV, and the health check (which shares that ENV) must follow
# it: LISTEN names a port nothing listens on, --listen the real one.
real_port=$(free_port)
wrong_port=$(free_port)
export LISTEN="127.0.0.1:${wrong_port}"
start_gateway --listen="127.0.0.1:${real_port}"
wait_healthy "LISTEN=127.0.0.1:${wrong_port} in the environment, --listen=127.0.0.1:${real_port} on the command line"
stop_gateway
echo "the HEALTHCHECK probes --listen when it overrides LISTEN"

# compose.yaml, replayed: Redis, two backends and two gateways, with the file's commands and
# variables (each on a free loopback port here instead of its own container). Both gateways must
# serve both backends, share one rate limit, and list each other on /status.
command -v redis-server >/dev/null || { echo "verify-runtime-stage: redis-server is missing (apt-get install redis-server)" >&2; exit 1; }
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no > "$stage/redis.log" 2>&1 &
redis_pid=$!; disown "$redis_pid"
b1=$(free_port); b2=$(free_port)
(cd "$stage" && exec node demo/backend.mjs --port="$b1" --message="Response from server 1") > "$stage/backend-1.log" 2>&1 &
backend1_pid=$!; disown "$backend1_pid"
(cd "$stage" && exec node demo/backend.mjs --port="$b2" --message="Response from server 2") > "$stage/backend-2.log" 2>&1 &
backend2_pid=$!; disown "$backend2_pid"
trap 'kill -KILL $redis_pid $backend1_pid $backend2_pid ${gateway1_pid:-} ${gateway2_pid:-} 2>/dev/null || true; cleanup' EXIT
g1=$(free_port); g2=$(free_port)
export BACKENDS="http://127.0.0.1:${b1},http://127.0.0.1:${b2}" REDIS_URL="redis://127.0.0.1:${redis_port}/0" RATE_LIMIT=10
LISTEN="127.0.0.1:${g1}" start_gateway; gateway1_pid=$gateway_pid
wait_healthy "compose's gateway-1"
LISTEN="127.0.0.1:${g2}" start_gateway; gateway2_pid=$gateway_pid
wait_healthy "compose's gateway-2"
node --input-type=module -e "
  const urls = ['http://127.0.0.1:${g1}/', 'http://127.0.0.1:${g2}/'];
  const answers = [];
  for (let i = 0; i < 30; i++) { const res = await fetch(urls[i % 2]); answers.push(res.status === 200 ? await res.text() : String(res.status)); }
  const admitted = answers.filter((answer) => answer.startsWith('Response from server')).length;
  const servers = new Set(answers.filter((answer) => answer.startsWith('Response')).map((answer) => answer.trim()));
  console.log('compose replay: ' + admitted + ' of 30 admitted across both gateways (RATE_LIMIT=10), from ' + servers.size + ' backends');
  if (admitted !== 10 || servers.size !== 2) process.exit(1);
  let instances = 0;
  for (let i = 0; i < 30 && instances !== 2; i++) {
    const status = await (await fetch('http://127.0.0.1:${g1}/status?format=json')).json();
    instances = status.cluster.instances.filter((instance) => instance.address !== '').length;
    if (instances !== 2) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  console.log('compose replay: /status lists ' + instances + ' live instances');
  if (instances !== 2) process.exit(1);
" || { echo "verify-runtime-stage: the compose example does not share state" >&2; cat "$stage/gateway.log" >&2; exit 1; }
gateway_pid=$gateway1_pid; stop_gateway
gateway_pid=$gateway2_pid; stop_gateway
echo "compose.yaml's shape works: two gateways on one Redis share one limit and see each other"
