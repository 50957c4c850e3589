# The Switchyard image: a Debian 12 build stage with the -dev packages, then a runtime stage
# FROM scratch holding only the two binaries, the shared libraries they load (found with ldd),
# CA certificates and a passwd entry for the non-root user 10001. No shell, no package manager.
#   make image        # builds localhost/switchyard:<version> with podman (see README, "Deploy")
# BASE is any Debian 12 image: debian:bookworm from a registry, or the debootstrap base that
# `make image` imports when no registry is reachable.
ARG BASE=docker.io/library/debian:bookworm

FROM ${BASE} AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates \
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev libyaml-cpp-dev \
      prometheus-cpp-dev libre2-dev libicu-dev libsqlite3-dev libhiredis-dev libtomlplusplus-dev \
 && rm -rf /var/lib/apt/lists/*
# libphonenumber (the phone detector): Debian 12's libphonenumber-dev depends on Boost 1.74's
# libboost-thread-dev, which conflicts with Boost 1.81; a local equivs package stands in for it
# (scripts/install-deps does the same and says why). The runtime stage gets libphonenumber.so.8
# and what it links (protobuf, abseil, ICU) through ldd below.
COPY scripts/debian/switchyard-boost-thread-dev-shim.ctl /tmp/shim/
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends equivs \
 && (cd /tmp/shim && equivs-build switchyard-boost-thread-dev-shim.ctl >/dev/null) \
 && apt-get install -y -qq /tmp/shim/switchyard-boost-thread-dev-shim_*_all.deb \
 && apt-get install -y -qq --no-install-recommends libphonenumber-dev \
 && rm -rf /var/lib/apt/lists/* /tmp/shim
WORKDIR /src
# Only what the build reads, so that changes elsewhere (chart, docs, tests) keep the build cached.
COPY CMakeLists.txt .
COPY core core
COPY connectors connectors
COPY router router
COPY policies policies
COPY observability observability
COPY gateway gateway
COPY examples/mock_llm examples/mock_llm
ARG JOBS=2
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSY_BUILD_TESTS=OFF >/dev/null \
 && cmake --build /build -j "${JOBS}" --target switchyard switchyard-mock \
 && strip /build/gateway/cli/switchyard /build/examples/mock_llm/switchyard-mock
# The runtime tree: binaries, every library ldd resolves (with the loader), CA certificates, the
# user, and writable directories for the state, the audit log and /tmp.
RUN set -eu; \
    mkdir -p /rootfs/usr/bin /rootfs/etc/ssl/certs /rootfs/tmp /rootfs/var/lib/switchyard \
             /rootfs/etc/switchyard; \
    cp /build/gateway/cli/switchyard /build/examples/mock_llm/switchyard-mock /rootfs/usr/bin/; \
    for lib in $(for bin in /rootfs/usr/bin/switchyard /rootfs/usr/bin/switchyard-mock; do ldd "$bin"; done \
                 | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u); do \
      cp --parents -L "$lib" /rootfs/; \
    done; \
    cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/; \
    printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nswitchyard:x:10001:10001:switchyard:/var/lib/switchyard:/usr/sbin/nologin\n' > /rootfs/etc/passwd; \
    printf 'root:x:0:\nswitchyard:x:10001:\n' > /rootfs/etc/group; \
    chown 10001:10001 /rootfs/var/lib/switchyard; \
    chmod 1777 /rootfs/tmp

FROM scratch
COPY --from=build /rootfs/ /
USER 10001:10001
WORKDIR /var/lib/switchyard
EXPOSE 8080 9090
ENTRYPOINT ["/usr/bin/switchyard"]
CMD ["serve", "--config", "/etc/switchyard/policy.yaml"]
