# The Arbor node image: `arbor` (node/arbor.mjs) as the entry point, running one node from the
# config mounted at /etc/arbor/node.json with its data in the volume /var/lib/arbor. Built in
# two stages so the image has the compiled code and the production dependencies only; it runs as
# the unprivileged `node` user (uid 1000). docs/operations.md, "Deploying one node per host",
# says what to mount; `arbor init --hosts … --compose FILE` writes a compose file that does.

# --- build: dependencies with the dev tools, then the TypeScript and the system operations -----
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY client/package.json client/package.json
COPY node/package.json node/package.json
COPY ops/package.json ops/package.json
# Scripts off: `prepare` would build before the sources are here (next step builds explicitly).
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build && npm run build:ops \
  && npm prune --omit=dev --ignore-scripts \
  && rm -rf dist/test dist/bench

# --- runtime --------------------------------------------------------------------------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production
# glibc reads the arena bound only at process start (node/node-env.ts, docs/memory.md).
ENV MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=build /app /app
RUN mkdir -p /etc/arbor /var/lib/arbor && chown node:node /var/lib/arbor
USER node
VOLUME ["/var/lib/arbor"]
# gRPC (clients and peers), Prometheus metrics, browser API: `arbor init`'s ports for node 0; a
# node's config names its own (node i: 7400+i, 8400+i, 9400+i).
EXPOSE 7400 8400 9400
STOPSIGNAL SIGTERM
# The node's own gRPC health service (over TLS when its config has `tls`).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "node/arbor.mjs", "health", "--config", "/etc/arbor/node.json"]
ENTRYPOINT ["node", "node/arbor.mjs"]
CMD ["node", "--config", "/etc/arbor/node.json", "--data-dir", "/var/lib/arbor"]
