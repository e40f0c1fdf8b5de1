#!/bin/sh
# examples/analytics/csv_groupby on a small file: the groups it prints,
# and a message that names an unknown column (it printed an empty one, and
# leaked, before; under ASan a leak fails this test).
#
#   example_groupby.sh PATH/TO/csv_groupby
set -u
exe=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'key,x\n1,2.5\n2,3\n1,1.5\n' >"$dir/a.csv"
bad=0

out=$("$exe" "$dir/a.csv" --agg mean,count --threads 1 2>"$dir/err")
want=$(printf 'key,mean(x),count(x)\n1,2,2\n2,3,1')
if [ "$out" != "$want" ]; then
	echo "groups: got"; echo "$out"; echo "want"; echo "$want"
	cat "$dir/err"
	bad=1
fi

for arg in "--col nope" "--key nope"; do
	# shellcheck disable=SC2086
	"$exe" "$dir/a.csv" $arg --threads 1 >/dev/null 2>"$dir/err"
	rc=$?
	if [ $rc -ne 1 ] || ! grep -q "a.csv: no column 'nope' in the header" \
	    "$dir/err"; then
		echo "$arg: exit $rc, message:"
		cat "$dir/err"
		bad=1
	fi
done

"$exe" "$dir/a.csv" --agg median >/dev/null 2>"$dir/err"
rc=$?
if [ $rc -ne 2 ] || ! grep -q "unknown aggregate 'median'" "$dir/err"; then
	echo "--agg median: exit $rc"; cat "$dir/err"
	bad=1
fi
exit $bad
