# syntax=docker/dockerfile:1
# The callconfirm service image: a Rust builder stage and a small Debian
# runtime stage. BuildKit is required for the cache mounts (the default
# builder of Docker Engine 23+ and of `docker compose build`).

# --- build -------------------------------------------------------------------
# The slim Rust image already carries gcc and libc6-dev, which the bundled
# SQLite (libsqlite3-sys, compiled with cc) needs. Rust 1.95: sqlx 0.9 needs
# rustc >= 1.94. Same Debian release (bookworm) as the runtime, so same glibc.
FROM rust:1.95.0-slim-bookworm AS builder
WORKDIR /build

# Never reach a database at compile time: any sqlx query! macro must use the
# checked-in offline data (.sqlx/).
ENV SQLX_OFFLINE=true

# Cache mounts keep the crates.io downloads and the compiled dependencies
# between builds, so a source change recompiles only this crate. The binary is
# copied out of the target cache in the same step, since a cache mount is not
# part of the image.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git/db \
    --mount=type=cache,target=/build/target \
    cargo build --release --locked \
    && install -D -m 0755 target/release/callconfirm /out/callconfirm

# --- runtime -----------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

# TLS is rustls with ring, so CA certificates are the only runtime dependency.
# ca-certificates is deliberately unpinned: its whole value is being current,
# and bookworm's archive drops superseded versions, so a pin would break builds.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 callconfirm \
    && useradd --system --uid 10001 --gid callconfirm --home-dir /data \
        --no-create-home --shell /usr/sbin/nologin callconfirm \
    && install -d -o callconfirm -g callconfirm -m 0750 /data

COPY --from=builder /out/callconfirm /usr/local/bin/callconfirm

# The SQLite file lives on the /data volume. A fresh named volume copies the
# ownership of /data above, so the non-root user can write to it.
ENV HOST=0.0.0.0 \
    PORT=5678 \
    DATABASE_URL=sqlite:/data/callconfirm.db
WORKDIR /data
VOLUME ["/data"]

# Numeric, so that orchestrators can verify the user is not root.
USER 10001:10001
EXPOSE 5678

# `callconfirm healthcheck` GETs http://127.0.0.1:$PORT/health itself: no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["callconfirm", "healthcheck"]

# Arguments go to the binary: `docker run IMAGE --simulate`,
# `docker run IMAGE register-webhooks --dry-run`.
ENTRYPOINT ["callconfirm"]
