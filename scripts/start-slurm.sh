#!/usr/bin/env bash
# A single-node Slurm on this machine (Debian's slurm-wlm and munge, no systemd), for the scale-out
# integration test (test/scale-out/slurm.test.ts) and for trying docs/scale-out.md by hand.
# Run as root. Idempotent: a node that already answers `sinfo` is left as it is.
# Undo: scripts/start-slurm.sh stop
set -euo pipefail

CONF_DIR=/etc/slurm
SPOOL=/var/spool/slurm
LOGS=/var/log/slurm
HOST=$(hostname -s)
CPUS=$(nproc)
# Memory Slurm may hand out: what the machine has, less 512 MiB for itself.
MEM_MB=$(( $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) - 512 ))

if [ "$(id -u)" != 0 ]; then echo "start-slurm.sh: run as root" >&2; exit 1; fi
for tool in munged slurmctld slurmd sinfo; do
  command -v "$tool" >/dev/null || { echo "start-slurm.sh: $tool not found (apt-get install slurm-wlm munge)" >&2; exit 1; }
done

if [ "${1:-}" = stop ]; then
  for d in slurmd slurmctld munged; do
    # Our pid file, else the daemon by name: munged may have been started before this script (by
    # the package's postinst, or an earlier start whose pid file is gone), and stop must stop it.
    pids=$(cat "/run/threadmill-$d.pid" 2>/dev/null || true)
    [ -n "$pids" ] || pids=$(pgrep -x "$d" || true)
    # shellcheck disable=SC2086 # one pid a word
    [ -n "$pids" ] && kill $pids 2>/dev/null || true
    for _ in $(seq 1 50); do pgrep -x "$d" >/dev/null || break; sleep 0.2; done
    if pgrep -x "$d" >/dev/null; then echo "start-slurm.sh: $d still running after 10 s" >&2; exit 1; fi
    rm -f "/run/threadmill-$d.pid"
  done
  exit 0
fi

if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
  echo "start-slurm.sh: slurm already up on $HOST"; exit 0
fi

# munge: a key readable by its daemon only, and the run directory it expects.
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge 2>/dev/null || true
chmod 0700 /etc/munge; chmod 0400 /etc/munge/munge.key
if ! pgrep -x munged >/dev/null; then
  # --force: start even where munged finds the directories' permissions too open (containers).
  runuser -u munge -- munged --force 2>/dev/null || munged --force
fi
# Whoever started it: stop stops it.
pgrep -x munged > /run/threadmill-munged.pid || true

mkdir -p "$CONF_DIR" "$SPOOL/ctld" "$SPOOL/d" "$LOGS"
cat > "$CONF_DIR/slurm.conf" <<EOF
# Written by threadmill scripts/start-slurm.sh: one node, controller and compute on $HOST.
ClusterName=threadmill
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
# Cores only: without --mem a job would be given the whole node's memory, and array tasks would run one at a time.
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Scheduling passes every second (default 60 s, 30 s for backfill): array tasks throttled with %N
# and jobs waiting on --dependency start within a second or two of becoming eligible.
SchedulerParameters=sched_interval=1,bf_interval=1,sched_min_interval=100000
ReturnToService=2
StateSaveLocation=$SPOOL/ctld
SlurmdSpoolDir=$SPOOL/d
SlurmctldPidFile=/run/threadmill-slurmctld.pid
SlurmdPidFile=/run/threadmill-slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
MaxArraySize=10001
MinJobAge=300
SlurmdTimeout=60
InactiveLimit=0
KillWait=10
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
# No cgroups on these machines: an empty cgroup.conf keeps slurmd from looking for them.
: > "$CONF_DIR/cgroup.conf"

pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd

for _ in $(seq 1 60); do
  state=$(sinfo -h -o %T 2>/dev/null | head -1 || true)
  case "$state" in
    idle|mixed|allocated) echo "start-slurm.sh: slurm up on $HOST ($CPUS CPUs, node $state)"; exit 0 ;;
    down*|drain*) scontrol update NodeName="$HOST" State=RESUME 2>/dev/null || true ;;
  esac
  sleep 1
done
echo "start-slurm.sh: the node did not become idle within 60 s; see $LOGS/slurmctld.log and $LOGS/slurmd.log" >&2
sinfo >&2 || true
exit 1
