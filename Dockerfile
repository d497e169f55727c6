# syntax=docker/dockerfile:1.7
# KeyStone Dashboard image: build with `docker build -t keystone-dashboard .`
# (needs BuildKit for the cache mounts; Docker 23+ uses it by default).

# ---- toolchain: the same bootstrap as a developer machine, cached until its inputs change ----
FROM rust:1.95-bookworm AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV CARGO_TARGET_DIR=/app/target
COPY scripts/env.sh scripts/bootstrap scripts/
COPY Cargo.lock ./
COPY end2end/package.json end2end/package-lock.json end2end/
RUN scripts/bootstrap

# ---- builder: release site and server; dependency builds are cached across image builds ----
FROM toolchain AS builder
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/app/target,sharing=locked \
    scripts/build \
 && cargo build --release --locked -p keystone-sandbox \
 && mkdir -p /out \
 && cp target/release/keystone-dashboard target/release/keystone-sandbox target/release/hash.txt /out/ \
 && cp -r target/site /out/site

# ---- runtime: the binaries and the site, nothing else, as a non-root user ----
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin keystone \
 && install -d -m 0700 -o 10001 /app/data
WORKDIR /app
COPY --from=builder /out/keystone-dashboard /app/keystone-dashboard
# The content hashes of the site's files, read beside the binary (see src/server/assets.rs).
COPY --from=builder /out/hash.txt /app/hash.txt
# The sandbox, for compose.yaml's demo (`entrypoint: /app/keystone-sandbox`); a deployment ignores it.
COPY --from=builder /out/keystone-sandbox /app/keystone-sandbox
COPY --from=builder /out/site /app/site
USER 10001
# Defaults for trying the image out with the embedded sandbox (`docker run -p 3000:3000 -p 4010:4010`):
# the browser signs in at the sandbox, so it listens on all interfaces and names the published URL.
# A deployment sets KEYSTONE_API_URL and the KEYSTONE_AUTH_* settings instead, and mounts /app/data
# (embedded store) or points KEYSTONE_SESSION_STORE=redis at Redis.
ENV KEYSTONE_LISTEN_ADDR=0.0.0.0:3000 \
    KEYSTONE_PUBLIC_URL=http://127.0.0.1:3000 \
    KEYSTONE_SITE_ROOT=/app/site \
    KEYSTONE_DATA_DIR=/app/data \
    KEYSTONE_SANDBOX_ADDR=0.0.0.0:4010 \
    KEYSTONE_SANDBOX_PUBLIC_URL=http://127.0.0.1:4010
VOLUME /app/data
EXPOSE 3000 4010
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:3000/healthz || exit 1
ENTRYPOINT ["/app/keystone-dashboard"]
