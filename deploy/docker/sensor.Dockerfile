# syntax=docker/dockerfile:1.7
# The node agent. Build from the repository root:
#   docker build -f deploy/docker/sensor.Dockerfile -t dataflow/sensor:0.1.0 .
#
# The kernel programs are built by the sensor's build script with the nightly toolchain
# (`-Z build-std=core` for the BPF target, so it needs rust-src) and linked by bpf-linker,
# which must be built against the very LLVM that nightly ships.

ARG RUST_VERSION=1.95
FROM rust:${RUST_VERSION}-bookworm AS builder
ARG BPF_LINKER_VERSION=0.13.0

RUN rustup toolchain install nightly --profile minimal --component rust-src

# bpf-linker against the nightly's own libLLVM (a plain `cargo install bpf-linker` looks for a
# system LLVM and fails). The prefix becomes the binary's rpath, so it stays in the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    set -eux; \
    lib="$(rustc +nightly --print sysroot)/lib"; \
    llvm="$(basename "$(ls "$lib"/libLLVM.so.* "$lib"/libLLVM-*.so 2>/dev/null | head -n1)")"; \
    major="$(echo "$llvm" | sed -E 's/^libLLVM(\.so\.|-)([0-9]+).*/\2/')"; \
    prefix="/usr/local/cargo/llvm${major}"; \
    mkdir -p "$prefix/lib"; \
    ln -sf "$lib/$llvm" "$prefix/lib/libLLVM.so"; \
    ln -sf "$lib/$llvm" "$prefix/lib/"; \
    LLVM_PREFIX="$prefix" cargo install bpf-linker --version "$BPF_LINKER_VERSION" --locked \
        --no-default-features --features "llvm-${major}"; \
    bpf-linker --version

WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    set -eux; \
    cargo build --release --locked -p sensor; \
    mkdir -p /out; \
    cp target/release/sensor /out/sensor

# distroless/cc: glibc and libgcc only, no shell. The sensor runs as root with a handful of
# capabilities (see deploy/kubernetes/sensor-daemonset.yaml), so the image's default user is kept.
FROM gcr.io/distroless/cc-debian12 AS runtime
COPY --from=builder /out/sensor /usr/local/bin/sensor
EXPOSE 9092
ENTRYPOINT ["/usr/local/bin/sensor"]
