#!/bin/sh
# `weft run FILE --mpi` under the launcher must print exactly what
# `weft run FILE` prints: it hands the run to weft-mpi on every rank.
# Usage: run_delegate.sh MPIEXEC WEFT SPEC
set -eu
mpiexec=$1 weft=$2 spec=$3
want=$("$weft" run "$spec")
got=$("$mpiexec" -n 3 "$weft" run "$spec" --mpi)
if [ "$want" != "$got" ]; then
	echo "run_delegate: weft run --mpi printed '$got', weft run '$want'" >&2
	exit 1
fi
echo "run_delegate: ok: $got"
