#!/usr/bin/env bash
# Stops what scripts/slurm-up.sh started: slurmd, slurmctld (by their pid files in STATE_DIR),
# then munged. Safe to call when nothing runs, and from a trap after a failed test.
#
#   bash scripts/slurm-down.sh [STATE_DIR] [--keep-munge]
set -uo pipefail
state="${1:-/tmp/farm-slurm}"
keep_munge=0
[ "${2:-}" = --keep-munge ] && keep_munge=1

stop_pidfile() {
    local f="$1" pid
    [ -s "$f" ] || return 0
    pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

# Jobs first, so that no task outlives its daemons.
if [ -s "$state/slurm.conf" ] && command -v scancel >/dev/null; then
    SLURM_CONF="$state/slurm.conf" scancel --quiet --full --signal=KILL -u "$(id -un)" 2>/dev/null || true
fi
stop_pidfile "$state/slurmd.pid"
stop_pidfile "$state/slurmctld.pid"
if [ "$keep_munge" = 0 ] && [ -s /run/munge/munged.pid ]; then
    stop_pidfile /run/munge/munged.pid
fi
exit 0
