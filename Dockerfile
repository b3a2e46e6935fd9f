# shiplens: one static binary. Used by docker-compose.yml.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/shiplens ./cmd/shiplens

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/shiplens /usr/local/bin/shiplens
ENTRYPOINT ["/usr/local/bin/shiplens"]
