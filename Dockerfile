# reelforge: one image for the bot, the worker and the CLI.
#   docker build -t reelforge .
#   docker run --env-file .env -v reelforge-data:/data reelforge bot
#   docker run --env-file .env -v reelforge-data:/data reelforge worker
FROM node:20-bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg espeak-ng fonts-dejavu-core ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY prompts ./prompts
COPY music ./music

ENV NODE_ENV=production DATA_DIR=/data
VOLUME /data
USER node
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/reelforge.mjs"]
CMD ["bot"]
