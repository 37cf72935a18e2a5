# Herald production image: one image, three commands (see deploy/docker-entrypoint.sh):
#   docker run herald api      # HTTP API   (tsx src/entry/api.ts,     as `npm run api`)
#   docker run herald worker   # Temporal worker (tsx src/entry/worker.ts, as `npm run worker`)
#   docker run herald migrate  # one-off database migrations (tsx src/entry/migrate.ts)
# Configuration comes from the environment at run time (src/config/env.ts); no secret is baked in.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- dependencies: native modules (better-sqlite3) may build from source here ----
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install`, not `npm ci`: it still honours package-lock.json, and npm 11 lock files carry
# optional platform packages (@swc/core-*) that `npm ci` rejects as out of sync (see
# scripts/ensure-dependencies.mjs). --omit=dev: only typescript, vitest, playwright-core and
# @types/* are dev dependencies; tsx, which runs Herald, is a runtime dependency.
RUN npm install --omit=dev --no-audit --no-fund \
 && test -f node_modules/better-sqlite3/build/Release/better_sqlite3.node \
 && npm cache clean --force

# ---- runtime: no compilers, non-root ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PATH=/app/node_modules/.bin:$PATH \
    HOST=0.0.0.0 \
    PORT=3000 \
    HERALD_DATA_DIR=/app/.data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY temporal ./temporal
COPY deploy/docker-entrypoint.sh /usr/local/bin/herald
# HERALD_DATA_DIR only matters for the embedded SQLite default (DATABASE_URL unset).
RUN chmod 0755 /usr/local/bin/herald \
 && mkdir -p /app/.data \
 && chown node:node /app/.data
# `node` (uid 1000) is the unprivileged user of the official Node.js images.
USER node
EXPOSE 3000
# No HEALTHCHECK here: the same image runs the worker, which serves no HTTP. The API's checks
# (GET /health/live, GET /health/ready) are in deploy/compose.yaml.
ENTRYPOINT ["herald"]
CMD ["api"]
