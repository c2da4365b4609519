# The service, built without libpq or OpenSSL (diesel's postgres_backend + tokio-postgres).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p chat-service

FROM debian:bookworm-slim
RUN useradd --system --no-create-home chat
COPY --from=build /src/target/release/chat-service /usr/local/bin/chat-service
COPY config /etc/chat-service
ENV APP_ENV=production APP_CONFIG_DIR=/etc/chat-service
USER chat
EXPOSE 8080
ENTRYPOINT ["chat-service"]
CMD ["serve"]
