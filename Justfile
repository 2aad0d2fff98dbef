# skiff's tasks. `just demo` builds skiff and runs a container offline;
# `just test` runs every test (unit, then e2e as root and rootless).

set shell := ["bash", "-euo", "pipefail", "-c"]

bin := justfile_directory() / "bin" / "skiff"
apt_packages := "busybox-static uidmap tmux podman runc passt slirp4netns fuse-overlayfs iproute2 hyperfine redis-server redis-tools qemu-system-x86 linux-image-amd64"

# urfave_cli_no_docs drops urfave's man/markdown generator (blackfriday), whose
# package init ran in every skiff process, supervisors and init stages included.
# Build the static skiff binary into bin/.
build:
    CGO_ENABLED=0 go build -trimpath -tags urfave_cli_no_docs -ldflags "-X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" -o {{bin}} .

# Install the Debian packages the tests and demo need (skipped when present).
deps:
    #!/usr/bin/env bash
    set -euo pipefail
    missing=()
    for p in {{apt_packages}}; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if ((${#missing[@]})); then
      SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
    fi

# Build skiff, import a busybox rootfs (no registry needed) and run it.
demo: deps build
    #!/usr/bin/env bash
    set -euo pipefail
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/rootfs/bin"
    cp /bin/busybox "$tmp/rootfs/bin/busybox"
    for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$tmp/rootfs/bin/$a"; done
    tar -C "$tmp/rootfs" -cf "$tmp/rootfs.tar" .
    {{bin}} import "$tmp/rootfs.tar" demo/busybox:latest
    {{bin}} run --rm demo/busybox:latest echo "hello from a skiff container"

# Unit tests of pure logic.
unit:
    @test -z "$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
    go vet ./...
    go test -count=1 $(go list ./... | grep -v /e2e)

# Every test: unit, then the e2e suites against the built binary.
# The e2e output drops go test's RUN/PAUSE/CONT noise but keeps "=== NAME"
# headers, so each failure message stays under the (sub)test it belongs to;
# the full -v log is kept and the failed tests are listed again at the end.
test: deps build unit
    #!/usr/bin/env bash
    set -uo pipefail
    log=$(mktemp /tmp/skiff-e2e.XXXXXX.log)
    SKIFF_BIN={{bin}} go test -count=1 -timeout 20m -parallel 4 -v ./e2e/ 2>&1 | tee "$log" | grep --line-buffered -vE '^=== (RUN|PAUSE|CONT) '
    rc=${PIPESTATUS[0]}
    echo "e2e: full log in $log"
    if [ "$rc" -ne 0 ]; then
      echo "e2e: FAILED tests:"
      grep -E '^ *--- FAIL' "$log" || echo "  (none reported: build error, panic or timeout; see the log)"
    fi
    exit "$rc"

# Writes docs/benchmarks.md and docs/benchmarks.json; `just bench --quick`
# creates 200 containers for ps -a instead of 1000, `--only run,ps` re-runs
# some cases into the existing report, `--with-docker` adds Docker 20.10
# (installed and run as a private dockerd by the bench; see DEVELOPERS.md).
# Benchmarks side by side with podman (not tests: figures are for people).
bench *args: deps build
    go run ./bench --skiff {{bin}} {{args}}
