#!/usr/bin/env bash
# End-to-end check of docker/: builds the image, starts docker/compose.yaml (3 nodes) with podman-compose,
# runs the README's steps from the host, checks that Prometheus scrapes the three nodes, kills one node,
# checks that the others keep serving, that nothing acknowledged was lost and that Prometheus sees the node
# down, starts it again, and tears down everything it started.
# All traffic stays on a podman network the script creates (fixed subnet, 10.89.77.0/24 unless
# BROKER_SUBNET says otherwise): the nodes advertise its gateway, which is this machine on that network, and
# the host's clients talk to the nodes there; nothing goes to the machine's external address.
# Exits 0 only if every check passed; skips (exit 0, saying so) when podman or podman-compose is missing.
#
# Needs root (debootstrap, the hairpin setting below), the .NET SDK and Debian's prometheus package (its
# binary goes into the Prometheus image). No container registry is used: the base image is built with
# debootstrap from the Debian mirror apt uses, unless BASE_IMAGE exists, and the Prometheus image on it.
# Settings (environment):
#   BASE_IMAGE          runtime base image (default localhost/debian:bookworm; built when missing)
#   BROKER_SUBNET       the test network's subnet (default 10.89.77.0/24); the nodes advertise its first
#                       address, the gateway (compose.yaml's own network settings are not used by podman-compose)
#   PROMETHEUS_IMAGE    Prometheus image (default localhost/broker-prometheus:latest, built from BASE_IMAGE and
#                       /usr/bin/prometheus when missing)
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
network=$project
subnet=${BROKER_SUBNET:-10.89.77.0/24}
prometheus_image=${PROMETHEUS_IMAGE:-localhost/broker-prometheus:latest}

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

[[ "$subnet" =~ ^([0-9]+\.[0-9]+\.[0-9]+)\.0/24$ ]] || fail "BROKER_SUBNET must be a /24 ending in .0, not $subnet"
# The gateway of the test network: this machine, as the containers see it, and only reachable through that network.
export BROKER_ADVERTISED_HOST=${BASH_REMATCH[1]}.1
export BROKER_NETWORK=$network PROMETHEUS_IMAGE=$prometheus_image
# The host's clients: the CLI just published, bootstrapping from every node, reachable back at the gateway.
export BROKER_BOOTSTRAP="$BROKER_ADVERTISED_HOST:9191,$BROKER_ADVERTISED_HOST:9192,$BROKER_ADVERTISED_HOST:9193"
export BROKER_CLIENT_HOST="$BROKER_ADVERTISED_HOST"

started=0
built=0
built_prometheus=0
network_created=0
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
    fi
    if (( network_created )); then
        podman network rm -f "$network" > /dev/null 2>&1 || true
    fi
    if (( built_prometheus )) && [[ "${KEEP_IMAGE:-0}" != 1 ]]; then
        podman rmi -f "$prometheus_image" > /dev/null 2>&1 || true
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
# is the address its node advertises (Docker's userland proxy needs no such step).
hairpin() {
    local bridge
    bridge=$(podman network inspect "$network" --format '{{.NetworkInterface}}')
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

# Prometheus' view of its scrape targets: "job instance health lastError" lines, asked through its published port.
targets() {
    python3 - "http://$BROKER_ADVERTISED_HOST:9090/api/v1/targets" <<'PY' 2>/dev/null || true
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    for t in json.load(r)["data"]["activeTargets"]:
        print(t["labels"]["job"], t["labels"]["instance"], t["health"], t.get("lastError", "").replace(" ", "_") or "-")
PY
}

# wait_targets UP_HOSTS [DOWN_HOSTS]: Prometheus reports each of UP_HOSTS' :8080 targets up (and each of DOWN_HOSTS' down).
wait_targets() {
    local deadline=$((SECONDS + 90)) now ok h
    while :; do
        now=$(targets)
        ok=1
        for h in $1; do grep -q "^broker $h:8080 up " <<< "$now" || ok=0; done
        for h in ${2:-}; do grep -q "^broker $h:8080 down " <<< "$now" || ok=0; done
        (( ok )) && { printf '%s\n' "$now" > "$work/targets.txt"; return 0; }
        (( SECONDS < deadline )) || fail "Prometheus targets after 90 s (wanted up: $1; down: ${2:-none}): $(tr '\n' ';' <<< "$now")"
        sleep 3
    done
}

for port in 9191 9192 9193 19092 19093 19094 18081 18082 18083 9090; do
    ! ss -ltn "sport = :$port" | grep -q LISTEN || fail "port $port is in use; compose.yaml publishes it"
done
! podman network exists "$network" || fail "podman network $network exists already (left by an earlier run? podman network rm $network)"
! ip route | grep -q "^${subnet} " || fail "$subnet is routed on this machine already; set BROKER_SUBNET to a free /24"

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

if ! podman image exists "$prometheus_image"; then
    [[ -x /usr/bin/prometheus ]] || fail "$prometheus_image is missing and /usr/bin/prometheus is not installed (apt-get install prometheus)"
    log "building $prometheus_image on $base_image with this machine's /usr/bin/prometheus"
    mkdir -p "$work/prometheus"
    cp /usr/bin/prometheus "$work/prometheus/"
    cat > "$work/prometheus/Containerfile" <<EOF
FROM $base_image
COPY prometheus /bin/prometheus
RUN mkdir -p /prometheus && chown 65534:65534 /prometheus
USER 65534
WORKDIR /prometheus
ENTRYPOINT ["/bin/prometheus", "--storage.tsdb.path=/prometheus"]
EOF
    built_prometheus=1
    podman build -f "$work/prometheus/Containerfile" -t "$prometheus_image" "$work/prometheus" > "$work/prometheus-build.log" 2>&1 \
        || fail "Prometheus image build failed, see $work/prometheus-build.log"
fi

log "publishing broker (self-contained, linux-x64) into docker/out"
nice -n 10 dotnet publish "$repo/src/Broker.Cli" -c Release -r linux-x64 --self-contained -o "$repo/docker/out" \
    > "$work/publish.log" 2>&1 || fail "dotnet publish failed, see $work/publish.log"

log "building $image on $base_image"
dangling_before=$(podman images -q --filter dangling=true | sort)
built=1
nice -n 10 podman build -f "$repo/docker/Dockerfile" --build-arg RUNTIME_IMAGE="$base_image" --build-arg APP_FROM=prebuilt \
    -t "$image" "$repo" > "$work/build.log" 2>&1 || fail "image build failed, see $work/build.log"

podman network create --subnet "$subnet" --gateway "$BROKER_ADVERTISED_HOST" --label "io.podman.compose.project=$project" \
    "$network" > /dev/null || fail "podman network create $network ($subnet) failed"
network_created=1
log "starting 3 nodes and Prometheus on network $network ($subnet; nodes advertised at its gateway $BROKER_ADVERTISED_HOST:9191-9193)"
started=1
"${compose[@]}" up -d > "$work/up.log" 2>&1 || fail "podman-compose up failed, see $work/up.log"
hairpin
wait_healthy broker-1 broker-2 broker-3
wait_nodes_up 3
log "3 containers healthy, cluster status shows 3 nodes Up"
wait_targets "broker-1 broker-2 broker-3"
log "Prometheus (:9090) scrapes the 3 nodes: $(awk '{print $2 " " $3}' "$work/targets.txt" | sort | tr '\n' ',' | sed 's/,$//; s/,/, /g')"

timeout 60 "$broker" topics create orders --partitions 6 --replication-factor 3 > /dev/null || fail "topics create"
produce orders 1 "$records" || fail "$(produce_error orders 1 "$records")"
consumed orders "$records" "$work/before.txt"
cmp -s "$work/before.txt" <(seq 1 "$records") || fail "consumed $(wc -l < "$work/before.txt") of $records records before the kill"
log "topic orders (6 partitions, replication factor 3): $records records produced and consumed from the host"

podman kill "$(container "$kill_service")" > /dev/null 2>&1 || fail "podman kill $kill_service failed"
log "killed $kill_service"
wait_nodes_up 2
log "cluster status shows the 2 other nodes Up"
survivors=$(printf '%s\n' broker-1 broker-2 broker-3 | grep -vx "$kill_service" | tr '\n' ' ')
wait_targets "$survivors" "$kill_service"
log "Prometheus: $kill_service's target down, the others up"

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
wait_targets "broker-1 broker-2 broker-3"
log "Prometheus scrapes all 3 nodes again"
