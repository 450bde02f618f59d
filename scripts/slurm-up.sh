#!/usr/bin/env bash
# A real single-node Slurm on localhost, for farm's Slurm tests (tests/slurm.rs) and for trying
# `farm slurm --submit` by hand. No systemd, no accounting: munged runs as the munge user, then
# slurmctld and `slurmd -N localhost` are started directly with a minimal slurm.conf kept under
# one state dir, and the script waits until `sinfo` shows the node idle.
#
#   bash scripts/slurm-up.sh [STATE_DIR]     (default /tmp/farm-slurm; needs root)
#   export SLURM_CONF=STATE_DIR/slurm.conf   (printed at the end; every Slurm command reads it)
#   bash scripts/slurm-down.sh [STATE_DIR]   (stops all three, also after a failed test)
#
# Installs slurmctld, slurmd, slurm-client and munge from Debian's packages when they are
# missing. The node has this machine's CPUs and most of its memory.
set -euo pipefail
state="${1:-/tmp/farm-slurm}"
state="$(mkdir -p "$state" && cd "$state" && pwd)"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    echo "slurm-up: installing slurmctld slurmd slurm-client munge" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q slurmctld slurmd slurm-client munge >/dev/null
fi
if [ "$(id -u)" != 0 ]; then
    echo "slurm-up: slurmd must run as root (it starts jobs as their users)" >&2
    exit 1
fi

# munge: the key the package made (or a new one), its run dir, the daemon as the munge user.
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge /etc/munge
if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
fi
if ! munge -n </dev/null >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do munge -n </dev/null >/dev/null 2>&1 && break; sleep 0.1; done
fi
munge -n </dev/null | unmunge >/dev/null

# A controller or node daemon left from an earlier start in this state dir goes first.
bash "$(dirname "$0")/slurm-down.sh" "$state" --keep-munge >/dev/null 2>&1 || true

cpus="$(nproc)"
mem_mb="$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)"
mkdir -p "$state/ctld" "$state/d" "$state/log"
# A port pair nobody listens on, so that a second cluster (a CI run beside a developer's) can run
# on the same machine: 6817/6818 when free, else the first free pair above 20000.
in_use() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q . ; }
ctld_port=6817
while in_use "$ctld_port" || in_use $((ctld_port + 1)); do
    if [ "$ctld_port" -lt 20000 ]; then ctld_port=20000; else ctld_port=$((ctld_port + 2)); fi
done
cat >"$state/slurm.conf" <<EOF
# Written by farm's scripts/slurm-up.sh: a single node on localhost, no accounting.
ClusterName=farm
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldPort=$ctld_port
SlurmdPort=$((ctld_port + 1))
MinJobAge=300
KillWait=5
InactiveLimit=0
NodeName=localhost CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$state/slurm.conf"

slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost

for _ in $(seq 150); do
    st="$(sinfo -h -n localhost -o %T 2>/dev/null || true)"
    case "$st" in
        idle*) break ;;
        down* | drain*)
            scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.2
done
st="$(sinfo -h -n localhost -o %T 2>/dev/null || true)"
if [[ "$st" != idle* ]]; then
    echo "slurm-up: the node is '$st', not idle, after 30 s; logs in $state/log:" >&2
    tail -n 20 "$state/log/slurmctld.log" "$state/log/slurmd.log" >&2 || true
    exit 1
fi
echo "slurm-up: localhost idle ($cpus CPUs, $mem_mb MB, port $ctld_port); state in $state" >&2
echo "export SLURM_CONF=$SLURM_CONF"
