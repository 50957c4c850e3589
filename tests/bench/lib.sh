# Shared by the benchmark scripts in this folder (sourced first thing, not run). The caller sets
# BENCH_NAME (for error messages) before sourcing, BUILD_DIR before bench_require_build, and
# appends to PIDS (processes it started; SIGTERM on exit, SIGKILL after 5 s) and CHILD_PIDS
# (their children, e.g. an nginx worker: SIGKILL only if left over).
# Everything here listens on or talks to 127.0.0.1 only.

PIDS=()
CHILD_PIDS=()

# The calling script's "# usage:" .. "# Env:" header comment.
usage() { sed -n '/^# usage:/,/^# Env:/p' "${BASH_SOURCE[-1]}" | sed 's/^# \{0,1\}//'; }
die() { echo "${BENCH_NAME:-bench}: error: $*" >&2; exit 1; }
note() { echo "[bench] $*" >&2; }

# bench_trap DIR...: on exit (or INT/TERM), stop_all and remove DIRs; BENCH_KEEP_TMP=1 keeps them.
bench_trap() {
  BENCH_DIRS=("$@")
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_all
  if [[ "${BENCH_KEEP_TMP:-0}" == 1 ]]; then
    note "kept ${BENCH_DIRS[*]}"
  else
    rm -rf "${BENCH_DIRS[@]}"
  fi
  exit "$rc"
}

# bench_require_build HINT: checks BUILD_DIR and its two binaries; sets BUILD_DIR (absolute),
# SY_BIN, MOCK_BIN and BUILD_TYPE, and warns when the build is not optimized. HINT ends the
# message when the build dir is missing.
bench_require_build() {
  [[ -d "$BUILD_DIR" ]] || die "build dir '$BUILD_DIR' does not exist ($1)"
  BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
  SY_BIN="$BUILD_DIR/gateway/cli/switchyard"
  MOCK_BIN="$BUILD_DIR/examples/mock_llm/switchyard-mock"
  local bin
  for bin in "$SY_BIN" "$MOCK_BIN"; do
    [[ -x "$bin" ]] || die "missing $bin (build it: cmake --build '$BUILD_DIR' --target switchyard switchyard-mock)"
  done
  BUILD_TYPE=unknown
  if [[ -f "$BUILD_DIR/CMakeCache.txt" ]]; then
    BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
    grep -q '^SY_SANITIZE:BOOL=ON' "$BUILD_DIR/CMakeCache.txt" && BUILD_TYPE+="+sanitizers"
  fi
  [[ "$BUILD_TYPE" == Release || "$BUILD_TYPE" == RelWithDebInfo ]] ||
    note "WARNING: build type is '$BUILD_TYPE'; benchmark a Release build (-DCMAKE_BUILD_TYPE=Release, SY_SANITIZE=OFF)"
}

# bench_require TOOL... -- FILE...: the tools on PATH, the files beside this script; sets CLK_TCK.
bench_require() {
  local tool file tools=() files=() seen_separator=0
  for tool in "$@"; do
    if [[ "$tool" == -- ]]; then seen_separator=1; continue; fi
    ((seen_separator)) && files+=("$tool") || tools+=("$tool")
  done
  for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (needed: ${tools[*]})"
  done
  for file in "${files[@]}"; do
    [[ -f "$BENCH_LIB_DIR/$file" ]] || die "missing helper $BENCH_LIB_DIR/$file"
  done
  CLK_TCK=$(getconf CLK_TCK)
  [[ "$CLK_TCK" =~ ^[0-9]+$ && "$CLK_TCK" -gt 0 ]] || die "getconf CLK_TCK gave '$CLK_TCK'"
}
BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# bench_pin: the proxy under test on CPU 0, load and upstream on CPU 1 (PROXY_PIN, LOAD_PIN
# prefix commands; PINNED=1), or unpinned with a warning when two CPUs are not usable.
bench_pin() {
  PROXY_PIN=(taskset -c 0)
  LOAD_PIN=(taskset -c 1)
  PINNED=1
  if ! taskset -c 0 true 2>/dev/null || ! taskset -c 1 true 2>/dev/null; then
    note "WARNING: cannot pin to CPUs 0 and 1 (fewer than 2 usable CPUs?); running unpinned"
    PROXY_PIN=()
    LOAD_PIN=()
    PINNED=0
  fi
}

alive() {  # PID is running (not gone, not a zombie)
  local state
  [[ -r /proc/$1/stat ]] || return 1
  state=$(awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[1] }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# stop_all: SIGTERM to PIDS, up to 5 s for them and CHILD_PIDS to go, then SIGKILL to the
# remaining PIDS and to a leftover child still named like its parent's program.
stop_all() {
  local pid i any
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for ((i = 0; i < 50; i++)); do
    any=0
    for pid in "${PIDS[@]}" "${CHILD_PIDS[@]}"; do alive "$pid" && any=1; done
    ((any)) || break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do
    if alive "$pid"; then
      note "pid $pid did not stop on SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${CHILD_PIDS[@]}"; do
    if alive "$pid" && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == nginx ]]; then
      note "nginx worker $pid outlived its master; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
}

# Sets PICKED to a free TCP port in 20000-31999 (below the usual ephemeral range, so wrk's own
# outgoing connections cannot take it), not bound by anything in /proc/net/tcp{,6} and not
# handed out before in this run.
GIVEN_PORTS=" "
pick_port() {
  local used=" " h port tries
  for h in $(awk 'FNR > 1 { n = split($2, a, ":"); print a[n] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u); do
    used+="$((16#$h)) "
  done
  for ((tries = 0; tries < 200; tries++)); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    if [[ "$used" != *" $port "* && "$GIVEN_PORTS" != *" $port "* ]]; then
      GIVEN_PORTS+="$port "
      PICKED=$port
      return 0
    fi
  done
  die "could not find a free port"
}

# Tail of a log, indented, for error messages.
show_log() { [[ -s "$1" ]] && { echo "--- $1 (last lines):"; tail -n 20 "$1" | sed 's/^/    /'; } >&2 || true; }

# wait_for_line FILE PATTERN PID NAME: until FILE has a line matching PATTERN (10 s at most).
wait_for_line() {
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    alive "$3" || { show_log "$1"; die "$4 exited during startup"; }
    sleep 0.1
  done
  show_log "$1"
  die "$4 did not report listening within 10 s"
}

cpu_ticks() {  # utime+stime (clock ticks, all threads) summed over the given PIDs
  local pid
  for pid in "$@"; do
    awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$pid/stat"
  done | awk '{ t += $1 } END { print t + 0 }'
}

# The value of KEY in a "BENCH k=v k=v ..." line: field KEY LINE.
field() { awk -v k="$1" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) { print kv[2]; exit } } }' <<<"$2"; }

# wrk_checked OUT WHAT URL CONNS SECONDS BODY_FILE STREAM(0|1) [HEADERS]: one wrk run on LOAD_PIN
# with chat.lua, output in OUT; HEADERS are extra request headers, one "Name: value" per line.
# It must be clean (no socket errors, only 2xx, at least one request), else the run dies naming
# WHAT (check_alive, which the caller defines, names a dead process first). Sets LAST_LINE (its
# BENCH line).
wrk_checked() {
  local out=$1 what=$2 url=$3 conns=$4 secs=$5 body=$6 stream=$7 headers=${8:-} line bad k n
  if ! BENCH_BODY=$body BENCH_STREAM=$stream BENCH_HEADERS=$headers \
    timeout -k 5 $((secs + 30)) "${LOAD_PIN[@]}" wrk -t1 -c"$conns" -d"${secs}s" --timeout 5s \
    --latency -s "$BENCH_LIB_DIR/chat.lua" "$url" >"$out" 2>&1; then
    show_log "$out"
    check_alive
    die "wrk failed for $what"
  fi
  line=$(grep '^BENCH ' "$out" | tail -n 1)
  [[ -n "$line" ]] || { show_log "$out"; die "no result line from wrk for $what"; }
  bad=""
  for k in connect read write timeout; do
    n=$(field "$k" "$line")
    [[ "$n" == 0 ]] || bad+=" $k=$n"
  done
  [[ -z "$bad" ]] || { show_log "$out"; check_alive; die "wrk socket errors for $what:$bad"; }
  n=$(field status "$line")
  if [[ "$n" != 0 ]] || grep -q 'Non-2xx or 3xx responses' "$out"; then
    show_log "$out"
    die "$what: wrk saw non-2xx responses ($n)"
  fi
  [[ "$(field requests "$line")" -gt 0 ]] || die "$what: no request completed"
  check_alive
  LAST_LINE=$line
}
