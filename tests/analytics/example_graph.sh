#!/bin/sh
# examples/analytics/csv_graph.py: a graph made in one directory runs from
# another (the CSV path is written absolute), and its --help text is whole
# sentences.
#
#   example_graph.sh PYTHON CSV_GRAPH_PY WEFT
set -u
py=$1
script=$2
weft=$3
# The test changes directory: make relative paths absolute first.
case "$script" in /*) ;; *) script=$PWD/$script ;; esac
case "$weft" in /*) ;; *) weft=$PWD/$weft ;; esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/made" "$dir/elsewhere"
printf 'key,x\n1,2.5\n2,3\n1,1.5\n2,5\n3,1\n' >"$dir/made/data.csv"
bad=0

(cd "$dir/made" && "$py" "$script" data.csv 3 --agg mean:x count >g.json) ||
    { echo "csv_graph.py failed"; exit 1; }
if ! grep -q "\"$dir/made/data.csv\"" "$dir/made/g.json"; then
	echo "the graph does not hold the absolute path:"
	head -3 "$dir/made/g.json"
	bad=1
fi
out=$(cd "$dir/elsewhere" && "$weft" run "$dir/made/g.json" 2>&1)
rc=$?
if [ $rc -ne 0 ] || ! printf '%s' "$out" | grep -q '"mean(x)"'; then
	echo "weft run from another directory: exit $rc"
	printf '%s\n' "$out"
	bad=1
fi

help=$("$py" "$script" --help)
if ! printf '%s' "$help" | tr '\n' ' ' | grep -q 'aggregates it, for `weft run`\.'; then
	echo "--help does not finish its sentence:"
	printf '%s\n' "$help" | head -5
	bad=1
fi
exit $bad
