# keyless controller image: `make image` (see README, "Container image").
# Build stage: the Debian -dev packages; runtime stage: only the shared
# libraries bin/keyless links (hack/check-image checks this list against
# `readelf -d`/`ldd bin/keyless` in `make test`), CA certificates, non-root.
# BASE: any Debian bookworm image; hack/image passes a locally bootstrapped one
# (hack/image-base) when docker.io cannot be reached.
ARG BASE=docker.io/library/debian:bookworm-slim
FROM ${BASE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc make pkg-config libc6-dev \
      libcurl4-openssl-dev libssl-dev libjansson-dev libyaml-dev libwebsockets-dev libxml2-dev libyajl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile VERSION ./
COPY controller/ controller/
# -o deps: the packages are installed above (hack/deps would add the test tools).
# KEYLESS_VERSION: the version the Makefile computes outside (with the git
# commit, which the build context does not hold); empty: the Makefile's own.
ARG KEYLESS_VERSION=
RUN make -o deps ${KEYLESS_VERSION:+VERSION="$KEYLESS_VERSION"} bin/keyless && strip bin/keyless

FROM ${BASE}
# runtime-packages: begin (one per line; checked by hack/check-image)
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      libcurl4 \
      libssl3 \
      libjansson4 \
      libyaml-0-2 \
      libwebsockets17 \
      libxml2 \
      libyajl2 \
 && rm -rf /var/lib/apt/lists/*
# runtime-packages: end
RUN useradd --system --uid 65532 --no-create-home --shell /usr/sbin/nologin keyless
COPY --from=build /src/bin/keyless /usr/local/bin/keyless
USER 65532:65532
EXPOSE 8081
ENTRYPOINT ["/usr/local/bin/keyless"]
CMD ["controller"]
