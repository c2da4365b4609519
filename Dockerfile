# syntax=docker/dockerfile:1
# The service, built without libpq or OpenSSL (diesel's postgres_backend + tokio-postgres).
# Dependencies are compiled in a layer of their own (cargo-chef), rebuilt only when
# Cargo.toml or Cargo.lock change. The toolchain is the one the project is tested with.
ARG RUST_VERSION=1.95.0

FROM rust:${RUST_VERSION}-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS plan
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=plan /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
# No .git in the image: the commit comes as a build argument (docker build --build-arg
# CHAT_SERVICE_COMMIT=$(git rev-parse --short=12 HEAD) .).
ARG CHAT_SERVICE_COMMIT=unknown
ENV CHAT_SERVICE_COMMIT=${CHAT_SERVICE_COMMIT}
RUN cargo build --release --locked -p chat-service

FROM debian:bookworm-slim
RUN useradd --system --no-create-home --uid 10001 chat
COPY --from=build /src/target/release/chat-service /usr/local/bin/chat-service
COPY config /etc/chat-service
ENV APP_ENV=production APP_CONFIG_DIR=/etc/chat-service
USER 10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["chat-service", "healthcheck"]
ENTRYPOINT ["chat-service"]
CMD ["serve"]
