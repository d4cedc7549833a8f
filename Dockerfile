# syntax=docker/dockerfile:1
# Parley: a static binary (pure-Go SQLite and PostgreSQL drivers, CGO off) on Alpine, whose
# busybox wget runs the health check. Build: docker build -t parley .
# Run:   docker run -p 7401:7401 -v parley-data:/data parley
# (see docs/console.md; docker-compose.yml runs two replicas on PostgreSQL).

FROM golang:1.26-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/parley ./cmd/parley

FROM alpine:3.22
RUN addgroup -S -g 10001 parley \
    && adduser -S -D -H -u 10001 -G parley -h /data parley \
    && mkdir -p /data \
    && chown parley:parley /data
COPY --from=build /out/parley /usr/local/bin/parley
USER parley:parley
WORKDIR /data
# Listen on every interface of the container; the SQLite database lives in the volume.
# PARLEY_DB=postgres://... uses PostgreSQL instead (then the volume stays empty).
ENV PARLEY_ADDR=0.0.0.0:7401 \
    PARLEY_DB=/data/parley.db
EXPOSE 7401
VOLUME ["/data"]
# /healthz answers {"status":"ok"} without credentials. The check assumes port 7401: change
# it too if you change PARLEY_ADDR.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD wget -q -O /dev/null http://127.0.0.1:7401/healthz || exit 1
ENTRYPOINT ["parley"]
CMD ["serve"]
