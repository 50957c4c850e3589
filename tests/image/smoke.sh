#!/usr/bin/env bash
# The container image, run the way Kubernetes runs it (non-root, read-only root filesystem, all
# capabilities dropped, no new privileges): two mock model servers and the gateway, all from the
# image, on host loopback ports; a chat completion to each tier through the gateway, /readyz,
# /metrics, no shell in the image, and SIGTERM draining to exit 0.
# Usage: IMAGE=localhost/switchyard:0.1.0 tests/image/smoke.sh   (make image runs it)
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE=${IMAGE:?IMAGE=the image to test}
PODMAN=(podman --runtime runc)
LIMITS=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)
HARDENED=(--network host --read-only --cap-drop ALL --security-opt no-new-privileges --user 10001:10001
          --tmpfs /tmp --tmpfs /var/lib/switchyard:mode=1777 "${LIMITS[@]}")
# Ports off the usual ones: other work on the machine may hold 8080/9090.
LOCAL_PORT=18701 FRONTIER_PORT=18702 DATA_PORT=18780 ADMIN_PORT=18790
work=$(mktemp -d)
names=()
fail() { echo "image smoke: FAIL: $*" >&2; for n in "${names[@]}"; do "${PODMAN[@]}" logs "$n" 2>&1 | tail -20 >&2; done; exit 1; }
cleanup() { for n in "${names[@]}"; do "${PODMAN[@]}" rm -f -t 0 "$n" >/dev/null 2>&1 || true; done; rm -rf "$work"; }
trap cleanup EXIT

run() {  # run NAME ARGS... : a detached container sy-smoke-NAME-<pid> from the image
  local name="sy-smoke-$1-$$"; shift
  names+=("$name")
  "${PODMAN[@]}" run -d --name "$name" "${HARDENED[@]}" "$@" >/dev/null
}
wait_port() {  # wait_port PORT: until something listens on 127.0.0.1:PORT
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  fail "nothing listens on port $1"
}
wait_http() {  # wait_http URL
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "$1 did not answer"
}

# The quickstart policy on our ports, with the SQLite file on the writable volume.
sed -e "s/127.0.0.1:8001/127.0.0.1:$LOCAL_PORT/; s/127.0.0.1:8002/127.0.0.1:$FRONTIER_PORT/" \
    -e "s/listen: 127.0.0.1:8080/listen: 127.0.0.1:$DATA_PORT/; s/listen: 127.0.0.1:9090 /listen: 127.0.0.1:$ADMIN_PORT /" \
    examples/quickstart.yaml > "$work/policy.yaml"
printf 'state: {store: sqlite, sqlite: {path: /var/lib/switchyard/state.db}}\n' >> "$work/policy.yaml"
chmod 644 "$work/policy.yaml"
grep -q "$DATA_PORT" "$work/policy.yaml" && grep -q "$ADMIN_PORT" "$work/policy.yaml" || fail "policy ports"

KEY=syk_demo_2RdG2zjWKXre9tkttvpqOs6JNDiNp9V3DJynPRmo0vV1d07qh   # the demo key (scripts/demo)
run mock-local --entrypoint /usr/bin/switchyard-mock "$IMAGE" --port "$LOCAL_PORT" --name llama-local
run mock-frontier --entrypoint /usr/bin/switchyard-mock "$IMAGE" --port "$FRONTIER_PORT" --name frontier-gpt \
  --require-key demo-frontier-key
wait_http "http://127.0.0.1:$LOCAL_PORT/v1/models"
wait_port "$FRONTIER_PORT"
run gateway -e FRONTIER_API_KEY=demo-frontier-key -v "$work/policy.yaml:/etc/switchyard/policy.yaml:ro" "$IMAGE"
gateway="sy-smoke-gateway-$$"
wait_http "http://127.0.0.1:$ADMIN_PORT/healthz"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/readyz")" = 200 ] || fail "/readyz"

chat() {  # chat MODEL: prints the x-switchyard-route header of a 200 answer
  curl -sS -D "$work/headers" -o "$work/body" "http://127.0.0.1:$DATA_PORT/v1/chat/completions" \
    -H 'content-type: application/json' -H "authorization: Bearer $KEY" \
    -d "{\"model\":\"$1\",\"messages\":[{\"role\":\"user\",\"content\":\"Summarize our VPN policy\"}]}"
  grep -q '^HTTP/1.1 200' "$work/headers" || fail "model $1: $(head -1 "$work/headers") $(cat "$work/body")"
  grep -i '^x-switchyard-route:' "$work/headers" | tr -d '\r'
}
route=$(chat llama)
[[ $route == *"backend=llama-local"* ]] || fail "model llama did not go to llama-local: $route"
route=$(chat gpt-4o)
[[ $route == *"backend=frontier-gpt"* ]] || fail "model gpt-4o did not go to frontier-gpt (its key comes from the environment): $route"
curl -fsS -o "$work/metrics" "http://127.0.0.1:$ADMIN_PORT/metrics" || fail "/metrics"
grep -q '^switchyard_requests_total{' "$work/metrics" || fail "/metrics has no switchyard_requests_total"

if "${PODMAN[@]}" run --rm "${LIMITS[@]}" --entrypoint /bin/sh "$IMAGE" -c true >/dev/null 2>&1; then
  fail "the image has a shell"
fi
[ "$("${PODMAN[@]}" image inspect --format '{{.Config.User}}' "$IMAGE")" = "10001:10001" ] || fail "image user"

"${PODMAN[@]}" stop -t 30 "$gateway" >/dev/null
[ "$("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$gateway")" = 0 ] || fail "SIGTERM: exit code not 0"
echo "image smoke: ok ($IMAGE: both tiers answered through the gateway, /readyz, /metrics, no shell, SIGTERM exit 0)"
