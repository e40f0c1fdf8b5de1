#!/usr/bin/env python3
"""Write a weft graph file (JSON, Dask's graph spec) that reads a CSV file in
N byte ranges and aggregates it, for `weft run`.

The file's path is written absolute, so the graph runs from any directory.

    python3 csv_graph.py data.csv 8 > groupby.json
    weft run groupby.json

    --key NAME[:int|:str]   group-by column (default "key:int"; "" = none)
    --agg OP:COL ...        aggregates (default "mean:x"); OP is count, sum,
                            mean, min, max, var or std; "count" alone counts
                            rows
    --fanin K               merge fan-in (default 8)

The graph has one csv.chunk task per range, a tree of csv.merge tasks (in
file order: the merge keeps the first bad row of the file), and two
targets: "frame" (the group-by table) and "info" (rows read, rows skipped).
Every string argument is written as {"lit": ...}, so that no file name or
column name is ever taken for a reference to another key.
"""
import argparse
import json
import os
import sys


def main():
    # The docstring's first paragraph, a whole sentence.
    first = __doc__.split("\n\n")[0]
    ap = argparse.ArgumentParser(description=" ".join(first.split()))
    ap.add_argument("csv", help="the CSV file (written as an absolute path, "
                    "so the graph runs from any directory)")
    ap.add_argument("chunks", type=int, help="number of byte ranges (tasks)")
    ap.add_argument("--key", default="key:int",
                    help='group-by column NAME[:int|:str] (default '
                    '"key:int"; "" for no grouping)')
    ap.add_argument("--agg", nargs="+", default=["mean:x"],
                    help='aggregates OP:COL (default "mean:x"); OP is count, '
                    'sum, mean, min, max, var or std; "count" alone counts '
                    'rows')
    ap.add_argument("--fanin", type=int, default=8,
                    help="merge fan-in (default 8)")
    a = ap.parse_args()
    if a.chunks < 1 or a.fanin < 2:
        ap.error("chunks >= 1 and fanin >= 2")
    # weft run resolves a relative path against its own working directory,
    # not the graph file's: write the path that works from anywhere.
    path = os.path.abspath(a.csv)

    lit = lambda v: {"lit": v}
    graph = {}
    level = []
    for i in range(a.chunks):
        k = "chunk-%d" % i
        graph[k] = ["csv.chunk", lit(path), i, a.chunks,
                    lit(a.key) if a.key else None] + [lit(s) for s in a.agg]
        level.append(k)
    depth = 0
    while len(level) > 1:
        nxt = []
        for j in range(0, len(level), a.fanin):
            group = level[j:j + a.fanin]
            if len(group) == 1:
                nxt.append(group[0])
                continue
            k = "merge-%d-%d" % (depth, j // a.fanin)
            graph[k] = ["csv.merge"] + [{"ref": g} for g in group]
            nxt.append(k)
        level = nxt
        depth += 1
    graph["frame"] = ["csv.frame", {"ref": level[0]}]
    graph["info"] = ["csv.info", {"ref": level[0]}]
    out = sys.stdout
    out.write('{"graph": {\n')
    out.write(",\n".join("  %s: %s" % (json.dumps(k), json.dumps(v))
                          for k, v in graph.items()))
    out.write('\n}, "targets": ["frame", "info"]}\n')


if __name__ == "__main__":
    main()
