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
