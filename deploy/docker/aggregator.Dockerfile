# syntax=docker/dockerfile:1.7
# The aggregator. Build from the repository root:
#   docker build -f deploy/docker/aggregator.Dockerfile -t dataflow/aggregator:0.1.0 .
#
# The aggregator has no kernel programs: the stable toolchain builds it alone.

ARG RUST_VERSION=1.95
FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    set -eux; \
    cargo build --release --locked -p aggregator; \
    mkdir -p /out; \
    cp target/release/aggregator /out/aggregator

# The data directory, owned by the non-root user, for runs without a mounted volume
# (`docker run`); in Kubernetes a PersistentVolumeClaim is mounted over it.
RUN install -d -o 65532 -g 65532 -m 0750 /out/var/lib/dataflow

# distroless/cc: glibc and libgcc only, no shell; the store's SQLite is compiled in and TLS is
# rustls, so nothing else is needed. `nonroot` is uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=builder /out/aggregator /usr/local/bin/aggregator
COPY --from=builder --chown=65532:65532 /out/var/lib/dataflow /var/lib/dataflow
USER 65532:65532
ENV AGGREGATOR_LISTEN=0.0.0.0:50051 \
    AGGREGATOR_HTTP_LISTEN=0.0.0.0:9091 \
    AGGREGATOR_DATA_DIR=/var/lib/dataflow
VOLUME ["/var/lib/dataflow"]
EXPOSE 50051 9091
ENTRYPOINT ["/usr/local/bin/aggregator"]
CMD ["serve"]
