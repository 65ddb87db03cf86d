#!/usr/bin/env bash
# End-to-end check of docker/: builds the image, starts docker/compose.yaml (3 nodes) with podman-compose,
# runs the README's steps from the host, kills one node, checks that the others keep serving and that
# nothing acknowledged was lost, starts it again, and tears down everything it started.
# Exits 0 only if every check passed; skips (exit 0, saying so) when podman or podman-compose is missing.
#
# Needs root (debootstrap, the health checks' bridge setting below) and the .NET SDK. No registry is used:
# the base image is built with debootstrap from the Debian mirror apt uses, unless BASE_IMAGE exists.
# Settings (environment):
#   BASE_IMAGE          runtime base image (default localhost/debian:bookworm; built when missing)
#   BROKER_ADVERTISED_HOST  address of this machine that containers reach (default: first IPv4 of hostname -I)
#   KILL_SERVICE        the node to kill (default broker-2; broker-1 is the seed and oldest node)
#   RECORDS             records produced before the kill (default 1000)
#   EXPECT_REPLICATION  1 (default): records acknowledged before the kill must all be readable after it;
#                       0: only report it (for a build without replication)
#   KEEP_IMAGE          1: keep localhost/broker:latest afterwards (default: removed; the base image is kept)
set -euo pipefail

start=$SECONDS
log() { printf '[%4ds] %s\n' $((SECONDS - start)) "$*"; }
fail() { log "FAIL: $*"; exit 1; }

if ! command -v podman >/dev/null || ! command -v podman-compose >/dev/null; then
    echo "SKIP: podman and podman-compose are needed (apt-get install podman podman-compose buildah runc debootstrap)"
    exit 0
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
project=broker-test
image=localhost/broker:latest
base_image=${BASE_IMAGE:-localhost/debian:bookworm}
kill_service=${KILL_SERVICE:-broker-2}
records=${RECORDS:-1000}
expect_replication=${EXPECT_REPLICATION:-1}
work=$(mktemp -d /tmp/broker-test-cluster.XXXXXX)
broker="$repo/docker/out/broker"
compose=(podman-compose -p "$project" -f "$repo/docker/compose.yaml")

# runc and no default ulimits: crun fails on cgroups and rlimits on these machines.
if [[ -z "${CONTAINERS_CONF:-}" ]]; then
    cat > "$work/containers.conf" <<'EOF'
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
EOF
    export CONTAINERS_CONF="$work/containers.conf"
fi

export BROKER_ADVERTISED_HOST=${BROKER_ADVERTISED_HOST:-$(hostname -I | tr ' ' '\n' | grep -m1 -E '^[0-9]+(\.[0-9]+){3}$' || true)}
[[ -n "$BROKER_ADVERTISED_HOST" ]] || fail "no IPv4 address found for this machine; set BROKER_ADVERTISED_HOST"
# The host's clients: the CLI just published, bootstrapping from every node, reachable back at this machine's address.
export BROKER_BOOTSTRAP="$BROKER_ADVERTISED_HOST:9191,$BROKER_ADVERTISED_HOST:9192,$BROKER_ADVERTISED_HOST:9193"
export BROKER_CLIENT_HOST="$BROKER_ADVERTISED_HOST"

started=0
built=0
cleanup() {
    local rc=$?
    if (( started )); then
        if (( rc != 0 )); then
            for c in $(podman ps -a --filter "label=io.podman.compose.project=$project" --format '{{.Names}}'); do
                podman logs --tail 40 "$c" > "$work/$c.log" 2>&1 || true
            done
            log "container logs (last 40 lines each) kept in $work"
        fi
        "${compose[@]}" down -v > "$work/down.log" 2>&1 || true
        podman network rm -f "${project}_default" > /dev/null 2>&1 || true
    fi
    if (( built )) && [[ "${KEEP_IMAGE:-0}" != 1 ]]; then
        podman rmi -f "$image" > /dev/null 2>&1 || true
        # The build's stage images, and nothing that was dangling before.
        comm -13 <(echo "$dangling_before") <(podman images -q --filter dangling=true | sort) | xargs -r podman rmi -f > /dev/null 2>&1 || true
    fi
    (( rc != 0 )) || rm -rf "$work"
    log "$( (( rc == 0 )) && echo PASS || echo "FAILED (exit $rc)" ): docker/test-cluster.sh took $((SECONDS - start)) s"
}
trap cleanup EXIT

container() { podman ps -a --filter "label=io.podman.compose.project=$project" --filter "label=com.docker.compose.service=$1" --format '{{.Names}}'; }

# netavark leaves hairpin off on its bridge ports, so a container cannot reach its own published port, which
# is the address its node advertises and its health check asks (Docker's userland proxy needs no such step).
hairpin() {
    local bridge
    bridge=$(podman network inspect "${project}_default" --format '{{.NetworkInterface}}')
    for f in /sys/class/net/"$bridge"/brif/*/hairpin_mode; do echo 1 > "$f"; done
}

# Runs each named service's health check (no systemd here to schedule them) until all pass.
wait_healthy() {
    local deadline=$((SECONDS + 180)) pending
    while :; do
        pending=()
        for s in "$@"; do
            podman healthcheck run "$(container "$s")" > /dev/null 2>&1 || pending+=("$s")
        done
        (( ${#pending[@]} == 0 )) && return 0
        (( SECONDS < deadline )) || fail "not healthy after 180 s: ${pending[*]}"
        sleep 3
    done
}

# Counts the nodes `broker cluster status` reports Up, asked from the host.
nodes_up() {
    timeout 60 "$broker" cluster status --output json 2>/dev/null \
        | python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin)["nodes"] if n["status"] == "Up"))' 2>/dev/null || echo 0
}

wait_nodes_up() {
    local want=$1 deadline=$((SECONDS + 90)) up
    while :; do
        up=$(nodes_up)
        (( up == want )) && return 0
        (( SECONDS < deadline )) || fail "expected $want nodes Up, cluster status shows $up after 90 s"
        sleep 2
    done
}

# produce TOPIC FIRST LAST: keyed records FIRST..LAST with acks=all; returns 0 only if all are acknowledged.
produce() {
    seq "$2" "$3" | awk '{print "key-" $1 % 17 ":" $1}' \
        | timeout 120 "$broker" produce "$1" --key-separator : --acks all 2> "$work/produce.err" || true
    grep -q "^$(($3 - $2 + 1)) records acknowledged, 0 failed" "$work/produce.err"
}
produce_error() { echo "produce $1 $2..$3: $(tail -3 "$work/produce.err" | tr '\n' ' ')"; }

# consumed TOPIC COUNT FILE: reads COUNT records from the beginning, values sorted into FILE.
consumed() {
    timeout 120 "$broker" consume "$1" --from-beginning --max-messages "$2" --timeout-ms 30000 2> "$work/consume.err" \
        | sort -n > "$3" || true
}

for port in 9191 9192 9193; do
    ! ss -ltn "sport = :$port" | grep -q LISTEN || fail "port $port is in use; compose.yaml publishes 9191-9193"
done

if ! podman image exists "$base_image"; then
    command -v debootstrap > /dev/null || fail "$base_image is missing and debootstrap is not installed"
    mirror=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
        | head -1 | awk '{print $2}' || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    log "building base image $base_image with debootstrap from $mirror"
    nice -n 10 debootstrap --variant=minbase --include=libssl3,ca-certificates,libicu72 bookworm "$work/rootfs" "$mirror" \
        > "$work/debootstrap.log" 2>&1 || fail "debootstrap failed, see $work/debootstrap.log"
    tar -C "$work/rootfs" -c . | podman import - "$base_image" > "$work/import.log" 2>&1 || fail "podman import failed, see $work/import.log"
    rm -rf "$work/rootfs"
fi

log "publishing broker (self-contained, linux-x64) into docker/out"
nice -n 10 dotnet publish "$repo/src/Broker.Cli" -c Release -r linux-x64 --self-contained -o "$repo/docker/out" \
    > "$work/publish.log" 2>&1 || fail "dotnet publish failed, see $work/publish.log"

log "building $image on $base_image"
dangling_before=$(podman images -q --filter dangling=true | sort)
built=1
nice -n 10 podman build -f "$repo/docker/Dockerfile" --build-arg RUNTIME_IMAGE="$base_image" --build-arg APP_FROM=prebuilt \
    -t "$image" "$repo" > "$work/build.log" 2>&1 || fail "image build failed, see $work/build.log"

log "starting 3 nodes (advertised at $BROKER_ADVERTISED_HOST:9191-9193)"
started=1
"${compose[@]}" up -d > "$work/up.log" 2>&1 || fail "podman-compose up failed, see $work/up.log"
hairpin
wait_healthy broker-1 broker-2 broker-3
wait_nodes_up 3
log "3 containers healthy, cluster status shows 3 nodes Up"

timeout 60 "$broker" topics create orders --partitions 6 --replication-factor 3 > /dev/null || fail "topics create"
produce orders 1 "$records" || fail "$(produce_error orders 1 "$records")"
consumed orders "$records" "$work/before.txt"
cmp -s "$work/before.txt" <(seq 1 "$records") || fail "consumed $(wc -l < "$work/before.txt") of $records records before the kill"
log "topic orders (6 partitions, replication factor 3): $records records produced and consumed from the host"

podman kill "$(container "$kill_service")" > /dev/null 2>&1 || fail "podman kill $kill_service failed"
log "killed $kill_service"
wait_nodes_up 2
log "cluster status shows the 2 other nodes Up"

timeout 60 "$broker" topics create after-kill --partitions 3 > /dev/null || fail "topics create after the kill"
produce after-kill 1 100 || fail "$(produce_error after-kill 1 100)"
consumed after-kill 100 "$work/after-kill.txt"
cmp -s "$work/after-kill.txt" <(seq 1 100) || fail "consumed $(wc -l < "$work/after-kill.txt") of 100 records of a topic created after the kill"
log "the remaining nodes serve: new topic created, 100 records produced and consumed"

# Replication: every record acknowledged (acks=all) before the kill is still readable, and the topic
# takes new records, although a third of its partition leaders were on the killed node.
problem=""
if ! produce orders $((records + 1)) $((records + 100)); then
    problem=$(produce_error orders $((records + 1)) $((records + 100)))
else
    consumed orders $((records + 100)) "$work/after.txt"
    cmp -s "$work/after.txt" <(seq 1 $((records + 100))) \
        || problem="consumed $(wc -l < "$work/after.txt") of $((records + 100)) records (the first $records acknowledged before the kill)"
fi
if [[ -z "$problem" ]]; then
    log "orders after the kill: all $records earlier records readable, 100 more produced and consumed"
elif [[ "$expect_replication" == 1 ]]; then
    fail "orders after the kill: $problem (EXPECT_REPLICATION=0 only reports this)"
else
    log "WARNING (EXPECT_REPLICATION=0, not fatal): orders after the kill: $problem"
fi

podman start "$(container "$kill_service")" > "$work/start.log" 2>&1 || fail "podman start $kill_service failed, see $work/start.log"
hairpin
wait_healthy "$kill_service"
wait_nodes_up 3
log "$kill_service started again and rejoined: 3 nodes Up"
