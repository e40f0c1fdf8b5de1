#!/bin/sh
# Layer rule, checked on the built objects (DESIGN.md, "Layers"): every
# weft symbol a core layer uses is defined in that layer or one below it.
# The include directories stop a wrong #include; this stops a call to a
# higher layer declared through a public header (the graph layer calling
# weft_trace_get, say). Also symbol hygiene: the static library defines
# only weft_ and weft__ names (anything else could clash in a user's
# program). Usage: check.sh BUILD_DIR
set -eu
b=$1
order="base sched graph run"
below=""
status=0
for layer in $order; do
	lib="$b/src/$layer/libweft-$layer.a"
	if [ ! -f "$lib" ]; then
		echo "missing $lib" >&2
		exit 1
	fi
	below="$below $lib"
	defined=$(nm -g --defined-only $below | awk 'NF == 3 { print $3 }' | sort -u)
	used=$(nm -u "$lib" | awk '{ print $NF }' | grep '^weft_' | sort -u)
	for s in $used; do
		if ! printf '%s\n' "$defined" | grep -qx "$s"; then
			echo "layer $layer uses $s from a layer above it" >&2
			status=1
		fi
	done
done
[ $status -eq 0 ] && echo "layers: base < sched < graph < run hold"
# (ASan adds __odr_asan.NAME markers for globals: not names of ours.)
others=$(nm -g --defined-only "$b/src/libweft.a" | awk 'NF == 3 { print $3 }' |
	grep -v '^weft_' | grep -v '^__odr_asan\.' | sort -u)
if [ -n "$others" ]; then
	echo "libweft.a defines names without the weft_ prefix:" $others >&2
	status=1
else
	echo "libweft.a: only weft_ and weft__ names"
fi
exit $status
