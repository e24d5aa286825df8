# The local stack in one image: what `npm start` runs (API, /docs, the web console, the retraining worker in the
# same process), on the embedded PGlite database and file blob store unless DATABASE_URL etc. say otherwise
# (.env.example lists every variable). Kept simple on purpose, and NOT built or run where it was written (that
# machine has no Docker): treat it as a starting point. The GPU retraining worker has its own worker/Dockerfile.
#   docker build -t sentinel .  &&  docker run -p 8787:8787 -v sentinel-data:/data sentinel
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts off: `prepare` compiles dist/ and needs the sources, copied next.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build && npm run build:web && npm prune --omit=dev
ENV NODE_ENV=production \
    SENTINEL_HOST=0.0.0.0 \
    SENTINEL_DATA_DIR=/data
VOLUME /data
EXPOSE 8787
# Listening on 0.0.0.0 answers any Host: set SENTINEL_ADMIN_KEY (and SENTINEL_ALLOWED_HOSTS) before exposing it.
CMD ["node", "--enable-source-maps", "dist/functions/server.js"]
