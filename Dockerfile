# kafka-autoscaler container image: a multi-stage build on Alpine Linux.
#
#   docker build -t REGISTRY/kafka-autoscaler:TAG .
#   docker run --rm -p 8000:8000 REGISTRY/kafka-autoscaler:TAG      (daemon; `check`, `version` too)
#
# Stage `build` compiles a Release binary with CMake and Ninja; the runtime stage holds that binary
# and the shared libraries it links, nothing else: no compiler, no package cache, no shell-dependent
# entrypoint. It runs as a numeric non-root user so Kubernetes can verify `runAsNonRoot`.
#
# No Docker engine runs on the project's build machines, so this file is not built in CI there.
# tests/deploy checks its invariants instead (pinned base, stages, USER, EXPOSE, exec-form
# ENTRYPOINT, and that every library the binary links has its Alpine package in the runtime
# stage), and lints it with dockerfile-utils and dockerfilelint. Every Alpine package name below
# was checked against Alpine's aports tree (docs/packaging.md lists each with its aports path),
# except `libprotobuf`, which the aports copy consulted could not confirm (see there).

FROM alpine:3.20 AS build

# Build tools and the -dev packages of every dependency Alpine packages (names from aports):
#   build-base (main/build-base), cmake (main/cmake), samurai (main/samurai: provides `ninja`),
#   pkgconf (main/pkgconf), librdkafka-dev (community/librdkafka), curl-dev (main/curl),
#   openssl-dev (main/openssl), zlib-dev (main/zlib), nlohmann-json (community/nlohmann-json,
#   header-only), yaml-cpp-dev (community/yaml-cpp), tl-expected (community/tl-expected,
#   header-only, ships its CMake config), protobuf + protobuf-dev (protoc and headers).
RUN apk add --no-cache \
        build-base \
        cmake \
        samurai \
        pkgconf \
        librdkafka-dev \
        curl-dev \
        openssl-dev \
        zlib-dev \
        nlohmann-json \
        yaml-cpp-dev \
        tl-expected \
        protobuf \
        protobuf-dev

# Three dependencies have no package in a stable Alpine release (checked in aports: no CLI11 and
# no prometheus-cpp aport; cpp-httplib only in testing/cpp-httplib, which stable releases do not
# carry). They are built here from pinned upstream release archives, each verified by the SHA-512
# that vcpkg's ports record for the same archive, at the versions Debian 12 ships (the versions the
# code is developed against). All three end up inside the binary, so the runtime stage needs no
# package for them:
#   CLI11 v2.1.2          header-only; installed with its CMake config (find_package(CLI11)).
#   cpp-httplib v0.11.3   header-only; plus the pkg-config file our CMake asks for (Debian's is a
#                         compiled library, same API), declaring OpenSSL support as Debian's does.
#   prometheus-cpp v1.0.1 the `core` library only, static (no pull/push/civetweb/zlib).
WORKDIR /deps
RUN wget -q -O cli11.tar.gz https://github.com/CLIUtils/CLI11/archive/v2.1.2.tar.gz \
 && wget -q -O httplib.tar.gz https://github.com/yhirose/cpp-httplib/archive/v0.11.3.tar.gz \
 && wget -q -O prometheus-cpp.tar.gz https://github.com/jupp0r/prometheus-cpp/archive/76470b3ec024c8214e1f4253fb1f4c0b28d3df94.tar.gz \
 && printf '%s  %s\n' \
        3b21d015e046666d2e3df2b7cf1a6247c2daa26bf583e714dc1f0a94518785bf90993cd8530f88078b4daac02530dc517db0d5ad452d2a91521b3007f270ea55 cli11.tar.gz \
        b0c46bf11c8bc84ab52143559ff1c4682b02504921855e5cd7e82bc65a04b192281ef7a124c7c7dfe928ae3842d5065097b6a4608be1c74dc51b563b15b93d0f httplib.tar.gz \
        bf5e68d99b5b0251154337bac11703ad4e84e0dc1292ecb3b9cbe0573bf2c0acbb5e3e96a417b0712b85665ea7a54514837a04be762fba954014f600148fd35f prometheus-cpp.tar.gz \
      | sha512sum -c - \
 && mkdir cli11 httplib prometheus-cpp \
 && tar -xzf cli11.tar.gz --strip-components=1 -C cli11 \
 && tar -xzf httplib.tar.gz --strip-components=1 -C httplib \
 && tar -xzf prometheus-cpp.tar.gz --strip-components=1 -C prometheus-cpp \
 && cmake -S cli11 -B cli11/build -G Ninja -DCMAKE_INSTALL_PREFIX=/opt/deps \
        -DCLI11_BUILD_TESTS=OFF -DCLI11_BUILD_EXAMPLES=OFF -DCLI11_BUILD_DOCS=OFF \
 && cmake --install cli11/build \
 && install -D -m 0644 httplib/httplib.h /opt/deps/include/httplib.h \
 && mkdir -p /opt/deps/lib/pkgconfig \
 && printf '%s\n' 'prefix=/opt/deps' 'includedir=${prefix}/include' '' \
        'Name: cpp-httplib' 'Description: cpp-httplib (header-only)' 'Version: 0.11.3' \
        'Requires.private: openssl' \
        'Libs: -lssl -lcrypto' \
        'Cflags: -I${includedir} -DCPPHTTPLIB_OPENSSL_SUPPORT' \
        > /opt/deps/lib/pkgconfig/cpp-httplib.pc \
 && cmake -S prometheus-cpp -B prometheus-cpp/build -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_INSTALL_PREFIX=/opt/deps -DBUILD_SHARED_LIBS=OFF \
        -DCMAKE_CXX_FLAGS="-include cstdint" \
        -DENABLE_PULL=OFF -DENABLE_PUSH=OFF -DENABLE_COMPRESSION=OFF -DENABLE_TESTING=OFF \
        -DUSE_THIRDPARTY_LIBRARIES=OFF -DGENERATE_PKGCONFIG=OFF \
 && cmake --build prometheus-cpp/build \
 && cmake --install prometheus-cpp/build \
 && rm -rf /deps/*

# The project: a Release build of the binary only (no tests, no benchmarks, so no GoogleTest or
# Google Benchmark). Alpine's protobuf needs Abseil, which only protobuf's own CMake config links,
# hence CMAKE_FIND_PACKAGE_PREFER_CONFIG (Debian's protobuf 3.21 predates Abseil).
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja \
        -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_PREFIX_PATH=/opt/deps \
        -DCMAKE_FIND_PACKAGE_PREFER_CONFIG=ON \
        -Dprotobuf_MODULE_COMPATIBLE=ON \
        -DKA_BUILD_TESTS=OFF \
        -DKA_BUILD_BENCH=OFF \
 && cmake --build /build --target kafka-autoscaler \
 && install -D -m 0755 -s /build/src/kafka-autoscaler /out/kafka-autoscaler

FROM alpine:3.20
# Only the shared libraries the binary links (Alpine names, each checked in aports):
#   libstdc++, libgcc       main/gcc subpackages (C++ runtime; libc is the base image's musl)
#   librdkafka              community/librdkafka (Kafka client)
#   libcurl                 main/curl subpackage (Kubernetes API and OTLP/HTTP client)
#   yaml-cpp                community/yaml-cpp (kubeconfig and scenario files)
#   libprotobuf             protobuf's library subpackage (OTLP protobuf; pulls in Abseil);
#                           the one name not confirmed in aports (apk add fails loudly if wrong)
#   libssl3, libcrypto3     main/openssl subpackages (cpp-httplib's declared OpenSSL support)
#   zlib                    main/zlib
#   ca-certificates-bundle  main/ca-certificates subpackage (TLS to brokers and collectors)
RUN apk add --no-cache \
        libstdc++ \
        libgcc \
        librdkafka \
        libcurl \
        yaml-cpp \
        libprotobuf \
        libssl3 \
        libcrypto3 \
        zlib \
        ca-certificates-bundle
COPY --from=build /out/kafka-autoscaler /usr/local/bin/kafka-autoscaler
# Runs the binary once: a shared library missing from the list above fails the build here, not
# the container's start.
RUN ["/usr/local/bin/kafka-autoscaler", "version"]
# 65532: the conventional "nonroot" uid/gid; a numeric USER needs no passwd entry.
USER 65532:65532
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/kafka-autoscaler"]
CMD ["run"]
