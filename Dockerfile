# syntax=docker/dockerfile:1
# Build:  docker build -t nest-gateway .
# Run:    docker run --rm -p 3000:3000 -e BACKENDS=http://host.docker.internal:8080 nest-gateway

# --- build stage: dev dependencies and the TypeScript compiler ---
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build

# --- runtime stage: production dependencies and the compiled gateway only ---
FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY docker/healthcheck.mjs ./docker/healthcheck.mjs
# The test backend (no dependencies), so compose.yaml's backends run from this same image.
COPY demo/backend.mjs ./demo/backend.mjs
# The image's unprivileged user; the gateway needs no root (3000 is not a privileged port).
USER node
# Configure with the environment variables in the README: LISTEN, BACKENDS, RATE_LIMIT, ...
ENV LISTEN=:3000
EXPOSE 3000
# GET /health on the gateway's own --admin-listen or --listen, read from its command line and
# environment (/proc/1), so flags added to the CMD are followed as well as variables.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["node", "docker/healthcheck.mjs"]
# SIGTERM drains requests in flight (up to SHUTDOWN_TIMEOUT) and exits 0.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
