# shellcheck shell=bash
# usage: source scripts/lib/common.sh   (after scripts/env.sh)
# Output helpers and the step runner shared by the project's scripts.

die() { # die CAUSE [HINT]
  printf 'error: %s\n' "$1" >&2
  [[ -n ${2:-} ]] && printf 'hint: %s\n' "$2" >&2
  exit 1
}

# die_input CAUSE HINT: bad input (a version, a flag, a file), refused
# before anything is built or created; exit 2 like the harness's refusals.
die_input() {
  printf 'error: %s\nhint: %s\n' "$1" "$2" >&2
  exit 2
}

info() { printf '%s\n' "$*" >&2; }

# workload_tags REPO: REPO:VERSION for each of WORKLOAD_VERSIONS, one a line.
workload_tags() {
  local version
  for version in $WORKLOAD_VERSIONS; do printf '%s:%s\n' "$1" "$version"; done
}

need_cmd() { # need_cmd CMD HINT
  command -v "$1" >/dev/null 2>&1 || die "required command '$1' not found" "$2"
}

elapsed() { # elapsed START_SECONDS -> "1m05s"
  local s=$((SECONDS - $1))
  printf '%dm%02ds' $((s / 60)) $((s % 60))
}

# run_step N M NAME DONE_FN DO_FN HINT
# Runs DO_FN with its output in a log file unless DONE_FN says the output is
# already cached. Long steps print a heartbeat with the log's last line; a
# failing step prints its name, the log's tail and the hint, and exits.
run_step() {
  local n=$1 m=$2 name=$3 done_fn=$4 do_fn=$5 hint=$6
  local log=$IPC_CACHE/logs/$name.log start=$SECONDS pid rc
  mkdir -p "$IPC_CACHE/logs"
  if "$done_fn" >/dev/null 2>&1; then
    info "[$n/$m] $name: cached"
    return 0
  fi
  info "[$n/$m] $name: building (log: $log)"
  "$do_fn" >"$log" 2>&1 &
  pid=$!
  while ! wait_with_heartbeat "$pid" 30; do
    info "      $name: $(elapsed "$start") elapsed; $(tail -n 1 "$log" | cut -c1-100)"
  done
  wait "$pid" && rc=0 || rc=$?
  if [[ $rc -ne 0 ]]; then
    info "[$n/$m] $name: FAILED after $(elapsed "$start") (exit $rc); last lines of $log:"
    tail -n 25 "$log" | sed 's/^/      | /' >&2
    die "step '$name' failed: $(grep -v '^[[:space:]]*$' "$log" | tail -n 1 | cut -c1-200)" "$hint"
  fi
  info "[$n/$m] $name: done in $(elapsed "$start")"
}

# wait_with_heartbeat PID SECONDS: true once PID has exited, false after
# SECONDS while it still runs.
wait_with_heartbeat() {
  local pid=$1 i
  for ((i = 0; i < $2; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 1
  done
  ! kill -0 "$pid" 2>/dev/null
}

# stamp_matches NAME KEY / stamp_write NAME KEY: remembers which inputs built
# an output whose name alone does not capture them (repo-sourced images).
stamp_matches() { [[ -f $IPC_CACHE/stamps/$1 && $(cat "$IPC_CACHE/stamps/$1") == "$2" ]]; }
stamp_write() { mkdir -p "$IPC_CACHE/stamps" && printf '%s' "$2" >"$IPC_CACHE/stamps/$1"; }

# tree_hash PATH...: content hash of repository sources (paths relative to
# the repository root) that feed an output; the same in every checkout.
tree_hash() { (cd "$IPC_ROOT" && find "$@" -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }

image_exists() { podman image exists "$1"; }

# go_module_dir MODULE@VERSION: downloads a module and prints its directory.
go_module_dir() { go mod download -json "$1" | jq -r '.Dir // error(.Error)'; }

# debian_mirror: the Debian archive this machine's apt already uses.
debian_mirror() {
  if [[ -n ${DEBIAN_MIRROR:-} ]]; then echo "$DEBIAN_MIRROR"; return; fi
  local m
  m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [[ -n $m ]] || m=$(awk '/^deb / && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [[ -n $m ]] || return 1
  echo "$m"
}
