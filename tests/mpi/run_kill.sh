#!/bin/sh
# run_kill.sh MPIEXEC PROGRAM [hang|absent [STATUS]]: a killed (or, with
# "hang", a hung; with "absent", a missing) rank must end the job with an
# error, within 60 s, never hang and never succeed; with STATUS, the
# launcher must exit with that status.
mpiexec=$1
prog=$2
mode=${3:-}
want=${4:-}
start=$(date +%s)
timeout 90 "$mpiexec" -n 3 "$prog" $mode
rc=$?
took=$(( $(date +%s) - start ))
echo "run_kill: launcher exit status $rc after ${took} s"
if [ "$rc" -eq 0 ]; then
	echo "run_kill: FAIL: the job succeeded although rank 1 died"
	exit 1
fi
if [ "$rc" -eq 124 ] || [ "$took" -gt 60 ]; then
	echo "run_kill: FAIL: the surviving ranks did not stop"
	exit 1
fi
if [ -n "$want" ] && [ "$rc" -ne "$want" ]; then
	echo "run_kill: FAIL: exit status $rc, not $want"
	exit 1
fi
echo "run_kill: ok: the job failed, as it should"
exit 0
