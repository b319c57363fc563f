#!/usr/bin/env bash
# End-to-end test of `dmlft slurm` on a real single-node Slurm cluster (Debian's slurm-wlm).
#
# Runs as root, unattended (CI: .ci/run). It installs slurm-wlm and munge if missing, writes a
# minimal slurm.conf with state and spool folders in a temp dir, starts munged, slurmctld and
# slurmd, submits a 12-cell grid (fake executor, so it is fast) as a 4-task job array, cancels one
# task midway (scancel: SIGTERM, which dmlft turns into a clean stop), waits, re-submits the same
# script, and checks that every cell of the grid has exactly one record, all done, and that no
# lock or temporary file is left. The study's folder and its results folder hold a space, a
# quote and a `#` (`my study/results #1 'x'/out`): the `#SBATCH --output` line and the commands
# must carry them to sbatch and bash unchanged. The daemons are stopped on exit, whatever happens.
#
# `test-slurm.sh --install` only installs them (idempotent).
#
# Environment: DMLFT_BIN (default: target/debug/dmlft, built if missing), KEEP_WORKDIR=1 keeps
# the temp dir, SLURM_TEST_TIMEOUT (seconds per wait, default 120).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
timeout_s="${SLURM_TEST_TIMEOUT:-120}"
log() { echo "[test-slurm] $*" >&2; }
fail() {
  log "FAILED: $*"
  dump_logs
  exit 1
}

if [ "$(id -u)" != 0 ]; then
  echo "[test-slurm] must run as root (it starts slurmctld/slurmd/munged)" >&2
  exit 1
fi

# Installs slurm-wlm and munge when missing. One install at a time: CI starts `--install` in the
# background while cargo builds, and the test's own call then waits on the same lock.
install_slurm() {
  (
    flock 9
    if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
      log "installing slurm-wlm and munge"
      export DEBIAN_FRONTEND=noninteractive
      timeout 600 apt-get update -qq
      timeout 900 apt-get install -y -qq slurm-wlm munge >/dev/null
    fi
  ) 9>/tmp/dmlft-slurm-install.lock
}
if [ "${1:-}" = "--install" ]; then
  install_slurm
  exit 0
fi

dmlft="${DMLFT_BIN:-$root/target/debug/dmlft}"
if [ ! -x "$dmlft" ]; then
  log "building dmlft"
  (cd "$root" && cargo build -p dmlft)
fi
dmlft="$(cd "$(dirname "$dmlft")" && pwd)/$(basename "$dmlft")"

install_slurm

work="$(mktemp -d /tmp/dmlft-slurm.XXXXXX)"
chmod 755 "$work"
host="$(hostname -s)"
ncpu="$(nproc)"
mem_mb="$(awk '/MemTotal/ { print int($2 / 1024 * 0.8) }' /proc/meminfo)"
export SLURM_CONF="$work/slurm.conf"

dump_logs() {
  for f in "$work"/slurmctld.log "$work"/slurmd.log "$work"/munged.log; do
    [ -f "$f" ] && { echo "----- tail $f" >&2; tail -n 30 "$f" >&2; }
  done
  for f in "$results"/slurm/*.out; do
    [ -f "$f" ] && { echo "----- $f" >&2; tail -n 20 "$f" >&2; }
  done
  return 0
}

stop_daemons() {
  set +e
  scancel --quiet --full -u root >/dev/null 2>&1
  for name in slurmd slurmctld munged; do
    pidfile="$work/$name.pid"
    if [ -f "$pidfile" ]; then
      pid="$(cat "$pidfile")"
      kill "$pid" 2>/dev/null
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null
    fi
  done
  if [ "${KEEP_WORKDIR:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap stop_daemons EXIT

# --- munge: its own key, socket and files in the work dir ---------------------------------------
mkdir -p "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
munge_user=root
id munge >/dev/null 2>&1 && munge_user=munge
chown -R "$munge_user:$munge_user" "$work/munge"
chmod 700 "$work/munge"
chmod 400 "$work/munge/munge.key"
socket="$work/munge/munge.socket.2"
munged_args=(--key-file="$work/munge/munge.key" --socket="$socket" --pid-file="$work/munged.pid"
  --log-file="$work/munged.log" --seed-file="$work/munge/munged.seed" --force)
if [ "$munge_user" = munge ]; then
  touch "$work/munged.log" "$work/munged.pid"; chown munge:munge "$work/munged.log" "$work/munged.pid"
  runuser -u munge -- munged "${munged_args[@]}" || fail "munged did not start"
else
  munged "${munged_args[@]}" || fail "munged did not start"
fi

# --- slurm.conf ----------------------------------------------------------------------------------
mkdir -p "$work/state" "$work/spool"
cat > "$SLURM_CONF" <<CONF
ClusterName=dmlfttest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CryptoType=crypto/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldPort=${SLURMCTLD_PORT:-16817}
SlurmdPort=${SLURMD_PORT:-16818}
KillWait=10
NodeName=$host CPUs=$ncpu RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

log "starting slurmctld and slurmd ($host, $ncpu CPUs) in $work"
slurmctld -f "$SLURM_CONF" -i || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"

wait_until() { # wait_until DESCRIPTION COMMAND...
  local what="$1"; shift
  local deadline=$((SECONDS + timeout_s))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || fail "timed out after ${timeout_s}s waiting for $what"
    sleep 1
  done
}
node_ready() {
  local state
  state="$(sinfo -h -n "$host" -o %T 2>/dev/null | head -n1)"
  case "$state" in
    idle*|mixed*|allocated*) return 0 ;;
    down*|drain*) scontrol update nodename="$host" state=resume >/dev/null 2>&1; return 1 ;;
    *) return 1 ;;
  esac
}
wait_until "the node to be idle" node_ready
log "cluster up: $(sinfo -h -o '%P %a %D %T')"

# --- the study -----------------------------------------------------------------------------------
# a space, a quote and a `#` in the working folder and in the results folder
study="$work/my study"
results="$study/results #1 'x'/out"
mkdir -p "$study/data" "$study/model"
{
  echo "text,label"
  for i in $(seq 8); do echo "positive example $i,pos"; echo "negative example $i,neg"; done
} > "$study/data/tiny.csv"
echo '{}' > "$study/model/config.json"
: > "$study/model/model.safetensors"
cat > "$study/grid.toml" <<'GRID'
name = "slurm-test"
data_root = "data"
output = "results #1 'x'/out"
datasets = [{ name = "tiny", train = "tiny.csv", format = "csv", text_column = "text", label_column = "label" }]
shots = [2]
seeds = [1, 2, 3, 4, 5, 6]
[model]
source = "model"
[protocol]
kind = "per-class"
[losses.ce]
[losses.ce-supcon]
ce_weight = 0.5
[[losses.ce-supcon.dml]]
weight = 0.5
loss = { kind = "sup-con", temperature = 0.1 }
GRID
cd "$study"
export DMLFT_TEST_FAKE_EXECUTOR=1 DMLFT_FAKE_SLEEP_MS=2500 DMLFT_FAKE_LOG="$study/runs.log"
ncells="$("$dmlft" plan grid.toml --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')"
[ "$ncells" = 12 ] || fail "expected 12 cells, plan says $ncells"

script="$("$dmlft" slurm grid.toml --tasks 4 --cpus-per-task 1 --time 00:10:00 --output "$study/job.sbatch")"
[ -f "$script" ] || fail "dmlft slurm wrote no script"
grep -q -- '--array=0-3' "$script" || fail "script has no 4-task array: $(cat "$script")"
job="$(sbatch --parsable "$script")" || fail "sbatch failed"
job="${job%%;*}"
log "submitted array job $job"

records() { find "$results/cells" -maxdepth 1 -name '*.json' 2>/dev/null | wc -l; }
job_running() { squeue -h -j "$job" -t RUNNING -o %i 2>/dev/null | grep . >/dev/null; }
job_gone() { [ -z "$(squeue -h -j "$job" -o %i 2>/dev/null)" ]; }
wait_until "a running array task" job_running
have_a_record() { [ "$(records)" -ge 1 ]; }
wait_until "a first finished cell" have_a_record

# cancel one task that is still running (or pending): its cells are left for the re-submission
victim="$(squeue -h -j "$job" -t RUNNING -o %i | head -n1)"
[ -n "$victim" ] || victim="$(squeue -h -j "$job" -o %i | head -n1)"
[ -n "$victim" ] || fail "no array task left to cancel"
log "cancelling $victim"
scancel "$victim"
wait_until "the first submission to end" job_gone
after_first="$(records)"
log "after the first submission: $after_first of 12 cells recorded"
[ "$after_first" -lt 12 ] || fail "the cancelled task left nothing to complete (it finished before scancel)"

# re-submit the same script: it completes what is missing
job="$(sbatch --parsable "$script")" || fail "re-submission failed"
job="${job%%;*}"
log "re-submitted as $job"
wait_until "the second submission to end" job_gone

# --- checks ----------------------------------------------------------------------------------------
"$dmlft" plan grid.toml --json > "$study/plan.json" || fail "final plan"
python3 - "$study" "$results" <<'PY' || fail "final check"
import json, os, sys, collections
study, results = sys.argv[1], sys.argv[2]
plan = json.load(open(os.path.join(study, "plan.json")))
ids = [c["id"] for c in plan["cells"]]
cells = os.path.join(results, "cells")
files = sorted(os.listdir(cells))
records = [f[:-5] for f in files if f.endswith(".json")]
leftovers = [f for f in files if not f.endswith(".json") or ".tmp." in f]
assert not leftovers, f"leftover files: {leftovers}"
assert sorted(records) == sorted(ids), f"records {len(records)} != cells {len(ids)}"
for i in ids:
    r = json.load(open(os.path.join(cells, i + ".json")))
    assert r["status"] == "done", f"{i}: {r['status']} {r.get('error')}"
runs = collections.Counter(l.split()[0] for l in open(os.path.join(study, "runs.log")))
assert set(runs) == set(ids), "some cell never ran"
assert plan["done"] == len(ids) == 12
logs = [f for f in os.listdir(os.path.join(results, "slurm")) if f.endswith(".out")]
assert logs, "no Slurm log in the results folder: --output did not reach sbatch intact"
print(f"[test-slurm] OK: {len(ids)} cells, each recorded exactly once; {sum(runs.values())} runs in all "
      f"({sum(1 for c in runs.values() if c > 1)} cell(s) restarted after the cancel)", file=sys.stderr)
PY
log "PASSED"
