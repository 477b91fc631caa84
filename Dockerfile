# gitdisc controller image (docs/daemon.md "Docker").
#
#   docker build -t gitdisc .
#   docker run -d --name gitdisc -p 127.0.0.1:9420:9420 \
#     -v /etc/gitdisc:/etc/gitdisc:ro \
#     -v gitdisc-state:/var/lib/gitdisc \
#     -v /var/run/libvirt/libvirt-sock:/var/run/libvirt/libvirt-sock \
#     --group-add "$(getent group libvirt | cut -d: -f3)" \
#     gitdisc
#
# libvirt: the container runs as the non-root user `gitdisc`. To reach the
# host's qemu:///system, mount the host socket and add the host's libvirt
# group id (--group-add), as above; or use a remote URI in `connections`
# (qemu+ssh://host/system with a key mounted into /var/lib/gitdisc/.ssh, or
# qemu+tls://). Local-path disc inserts need the ISO cache (the state volume)
# at the same path on the host, readable by QEMU: bind-mount /var/lib/gitdisc
# from the host rather than a named volume when using the local socket.

# --- build stage -------------------------------------------------------------
FROM debian:bookworm AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config git ca-certificates \
      libyaml-cpp-dev libgit2-dev libvirt-dev libisofs-dev libcdio-dev libiso9660-dev \
      libcpp-httplib-dev libssl-dev nlohmann-json3-dev libcli11-dev libxml2-dev prometheus-cpp-dev libarchive-dev \
      libcurl4-openssl-dev libgpgme-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGITDISC_BUILD_TESTS=OFF \
    && cmake --build /build -j"$(nproc)" --target gitdisc \
    && strip /build/bin/gitdisc

# --- runtime stage -------------------------------------------------------------
FROM debian:bookworm-slim
ARG DEBIAN_FRONTEND=noninteractive
# Runtime libraries only (the shared objects of the -dev packages above), git
# for remote fetch helpers, ca-certificates for https remotes, openssh-client
# for qemu+ssh:// connections, ssh Git remotes and SSH commit signatures
# (ssh-keygen -Y verify), gpg behind gpgme for OpenPGP commit signatures,
# curl for the HEALTHCHECK.
RUN apt-get update && apt-get install -y --no-install-recommends \
      libyaml-cpp0.7 libgit2-1.5 libvirt0 libisofs6 libcdio19 libiso9660-11 \
      libcpp-httplib0.11 libssl3 libxml2 libprometheus-cpp-core1.0 libarchive13 libcurl4 libgpgme11 \
      ca-certificates openssh-client gpg curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system gitdisc \
    && useradd --system --gid gitdisc --home-dir /var/lib/gitdisc --no-create-home \
         --shell /usr/sbin/nologin gitdisc \
    && install -d -o gitdisc -g gitdisc -m 0755 /var/lib/gitdisc \
    && install -d -m 0755 /etc/gitdisc
COPY --from=build /build/bin/gitdisc /usr/bin/gitdisc
COPY packaging/config.example.yaml /usr/share/doc/gitdisc/config.example.yaml
COPY docs/daemon.md /usr/share/doc/gitdisc/daemon.md

USER gitdisc
VOLUME /var/lib/gitdisc
EXPOSE 9420
# In a container the daemon must listen beyond loopback: set
# `listen: 0.0.0.0:9420` in /etc/gitdisc/config.yaml and publish the port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:9420/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/gitdisc"]
CMD ["serve", "--config", "/etc/gitdisc/config.yaml", "--log-format", "json"]
