# reelforge: one image for the bot, the worker and the CLI (see README.md, "Deploying with Docker").
#   docker build -t reelforge .
#   docker run --rm -v reelforge-data:/data reelforge video 30 "The history of tea"
#   docker compose up -d            # Redis, one bot, two workers (compose.yaml)

# 1. Compile the TypeScript to JavaScript (dist/), with the dev dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --cache /tmp/npm-cache && rm -rf /tmp/npm-cache
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# 2. The production dependencies alone.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --cache /tmp/npm-cache && rm -rf /tmp/npm-cache

# 3. What runs: Node, Debian's ffmpeg and espeak-ng, the fonts the captions use, tini as PID 1.
FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg espeak-ng fonts-dejavu-core ca-certificates tini \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log /root/.npm
# DATA_DIR (queue journal, settings, caches, work folders, videos). Created and handed to `node` before
# VOLUME, so a new named volume starts as a copy of it, owned by `node`, under Docker as well as Podman.
RUN mkdir -p /data && chown node:node /data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin/reelforge.mjs ./bin/
COPY prompts ./prompts
COPY music ./music
# The metrics server (/healthz, /readyz, /metrics) is on in the image and reachable from other containers.
ENV NODE_ENV=production \
    DATA_DIR=/data \
    METRICS_PORT=9464 \
    METRICS_HOST=0.0.0.0
VOLUME /data
USER node
# 8080: the Telegram webhook (TELEGRAM_WEBHOOK_PORT, webhook mode only); 9464: METRICS_PORT.
EXPOSE 8080 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.METRICS_PORT + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# tini forwards SIGTERM to node, which stops taking requests and puts running jobs back in line.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/reelforge.mjs"]
CMD ["bot"]
