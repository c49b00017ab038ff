# syntax=docker/dockerfile:1
# nodetail: the agent's TypeScript runs directly on Node 24 (type stripping), so there is no
# build step: one stage installs the production dependencies, the other runs them.

# The build machine's own platform, also when the image is built for another one (the release
# workflow builds linux/amd64 and linux/arm64): the dependencies are JavaScript only and no install
# script runs, so node_modules is the same for every platform, and npm need not run emulated.
# Base images are referred to by tag, not yet by digest (the release workflow logs the digests it used).
FROM --platform=$BUILDPLATFORM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Exactly the lock file's versions, without devDependencies (typescript, kubernetes-models,
# and the `node` package that pins Node 24 for npm scripts: the image brings its own Node).
# No package of ours needs an install script, so none is run.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Distroless: Node and its libraries, no shell, no package manager; runs as root (uid 0),
# which the DaemonSet needs to read root-owned log files.
# Distroless publishes only latest, nonroot and debug tags: the repository name holds the versions
# that matter (Node 24, Debian 12), `latest` brings their security updates.
FROM gcr.io/distroless/nodejs24-debian12:latest
WORKDIR /app
# The compile cache holds the type-stripped modules and their compiled code: filled below at
# build time, so the agent starts without loading TypeScript's stripper (about 17 MB of RSS less;
# measured with npm run bench). Read-only at run time (readOnlyRootFilesystem): Node then skips
# writing to it, silently. The same cache, under node_modules/.cache, serves npm start.
ENV NODE_ENV=production NODE_COMPILE_CACHE=/app/.compile-cache
# glibc gives every thread that allocates (V8's compiler and GC helpers, libuv's pool) a malloc
# arena of its own, and what is freed stays resident in each: one arena for all is about 15 MB
# less at the peak of a backfill, for no measurable throughput (npm run bench). The same setting
# as package.json's start.
ENV MALLOC_ARENA_MAX=1
COPY --from=deps /app/node_modules ./node_modules
# package.json: "type": "module" and the version the agent reports.
COPY package.json ./
COPY agent ./agent
# Loads every module of the agent and exits 0: this image's own Node fills the cache (uid 0, as
# the pod runs), with the entrypoint's flags: Node keeps one cache per set of V8 flags, and a
# start with other flags would find this one empty (and could not fill it: read-only root).
RUN ["/nodejs/bin/node", "--max-semi-space-size=2", "--heap-growing-percent=20", "--memory-saver-mode", "--no-memory-reducer", "--liftoff-only", "agent/main.ts", "--version"]
# PID 1 is node itself (exec form, no shell in between), so SIGTERM from the kubelet reaches
# the agent, which handles SIGTERM and SIGINT itself (stop reading, flush, persist offsets,
# exit). No init (tini) is needed: the agent starts no child processes, so there are no
# zombies to reap. The Kubernetes `args` (--config ...) are appended to this entrypoint.
# The node flags trade a little CPU for memory (measured with npm run bench, 2,000,000 lines):
# --max-semi-space-size=2 keeps V8's young generation at 4 MB (it grows to 128 MB during a
# backfill otherwise; records are encoded as soon as they are decoded, so little survives it);
# --heap-growing-percent=20 collects the old generation when it has grown by a fifth instead of
# letting garbage double it; --memory-saver-mode makes every full collection give V8's emptied
# pages back to the system (by default V8 pools them for reuse: 6-10 MB of a backfill's peak
# RSS, more in one run out of two) and grow the old generation by 2 MB steps instead of 8;
# --no-memory-reducer: with every full collection already reducing memory, the reducer's own
# collections after a burst only doubled the idle CPU (0.4 -> 1 % of a core on 2,000 files);
# --liftoff-only keeps WebAssembly (only undici's HTTP parser, llhttp) in V8's baseline
# compiler: optimizing its large parser function cost a 10-15 MB spike of RSS at the first
# requests, for no throughput we could measure. The same flags as package.json's
# start (checked by test/integration/manifests.test.ts); the tests and the benchmark read them there.
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=2", "--heap-growing-percent=20", "--memory-saver-mode", "--no-memory-reducer", "--liftoff-only", "agent/main.ts"]
EXPOSE 2021
