# syntax=docker/dockerfile:1
#
# The OpenVLE image: one `openvle` binary (web server, and later the worker and
# scheduler) plus the site directory (browser bundle, CSS, static files).
#
#   docker build -t openvle:latest .                  the application (last stage: runtime)
#   docker build --target static-host -t openvle-frontend:latest .
#                                                     Nginx with the site built in (optional)
#
# Stages: style-deps (npm packages for Tailwind) -> builder (Rust, wasm,
# wasm-bindgen; runs scripts/build) -> static-host (optional Nginx) ->
# runtime (Debian slim, non-root). docker-compose.yml builds both.
# BuildKit is needed (the default builder of Docker 23 and later).

ARG RUST_VERSION=1.95
ARG NODE_VERSION=22
ARG DEBIAN_RELEASE=bookworm

# Tailwind's npm packages (and noVNC, served by the site). Tailwind's native
# parts need Node 20 or later, newer than Debian bookworm's, so they come from
# the official Node image.
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS style-deps
WORKDIR /src/style
COPY style/package.json style/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS builder
# The Tailwind CLI is a Node script: the Node binary is all it needs.
COPY --from=style-deps /usr/local/bin/node /usr/local/bin/node
# With rustup's wasm32 target installed, scripts/lib.sh builds the browser
# bundle with it (no Debian web toolchain needed).
RUN rustup target add wasm32-unknown-unknown
# wasm-bindgen-cli must be exactly the version the root Cargo.toml pins; its
# own layer, so it is rebuilt only when Cargo.toml changes.
WORKDIR /src
COPY Cargo.toml ./
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    version="$(sed -nE 's/^wasm-bindgen = "=([0-9.]+)".*/\1/p' Cargo.toml)" \
    && test -n "$version" \
    && cargo install --locked --root /usr/local wasm-bindgen-cli --version "$version" \
    && wasm-bindgen --version
COPY . .
COPY --from=style-deps /src/style/node_modules style/node_modules
# Build caches live in cache mounts (kept between builds, not in the image),
# so the results are copied out to /out within the same step.
ENV CARGO_TARGET_DIR=/build/target \
    OPENVLE_CACHE=/build/cache
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/build,sharing=locked \
    scripts/build --release \
    && install -D -m 0755 "$CARGO_TARGET_DIR/release/openvle" /out/openvle \
    && cp -r target/site /out/site \
    && test -f /out/site/pkg/openvle.js \
    && test -f /out/site/pkg/openvle_bg.wasm \
    && test -f /out/site/pkg/openvle.css \
    && test -f /out/site/favicon.svg \
    && test -f /out/site/novnc/core/rfb.js

# Optional static host (docker-compose.yml profile "static-host"): Nginx
# serving the site directory and passing everything else to openvle:8000. Its
# configuration comes from docker-compose.yml.
FROM nginx:1.28-alpine AS static-host
COPY --from=builder /out/site /usr/share/nginx/html

# The application. Kept the last stage so a plain `docker build .` gives it.
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 openvle \
    && useradd --system --uid 10001 --gid openvle --home-dir /app --no-create-home --shell /usr/sbin/nologin openvle \
    && mkdir -p /data \
    && chown openvle:openvle /data
COPY --from=builder /out/openvle /app/openvle
COPY --from=builder /out/site /app/site
ENV OPENVLE_SITE_ROOT=/app/site \
    OPENVLE_LISTEN=0.0.0.0:8000 \
    OPENVLE_DATA_DIR=/data
# The embedded SQLite database when no MariaDB is configured (`openvle demo`).
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
EXPOSE 8000
# GET /healthz (the process answers) without curl: bash's /dev/tcp, on the
# port of OPENVLE_LISTEN. Readiness (/readyz: database, migrations, Redis) is
# for orchestrators that route traffic, not a reason to restart.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${OPENVLE_LISTEN##*:} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/app/openvle"]
CMD ["serve"]
