"""Random Dask graphs, computed by weft.get on 1, 2 and 4 workers, against
dask.core.get (Dask's sequential reference), many times. The graphs use
every form of the contract: tasks, nested tasks, lists of keys (nested),
aliases, data keys, literals that look like keys but are not, tuple keys."""
import operator
import random

import dask.core
import pytest

import weft


def plus(*xs):
    total = 0
    for x in xs:
        total += sum(x) if isinstance(x, list) else x
    return total


def nested_len(x):
    return len(x) + sum(nested_len(i) for i in x if isinstance(i, list))


def random_graph(rng, n):
    keys = []
    dsk = {}
    for i in range(n):
        key = ("t", i) if rng.random() < 0.3 else f"k{i}"
        if not keys or rng.random() < 0.1:
            dsk[key] = rng.randint(-5, 5)  # data
        else:
            kind = rng.random()
            pick = lambda: rng.choice(keys)  # noqa: E731
            if kind < 0.45:
                args = [pick() if rng.random() < 0.7 else rng.randint(0, 3)
                        for _ in range(rng.randint(1, 4))]
                dsk[key] = (plus, *args)
            elif kind < 0.6:  # nested task and a literal string
                dsk[key] = (operator.add, (plus, pick(), (plus, pick(), 1)), len("not-a-key"))
            elif kind < 0.75:  # list of keys (nested lists) as an argument
                dsk[key] = (plus, [pick(), [pick(), pick()][0], 2], (nested_len, [[pick()], [1, 2]]))
            elif kind < 0.85:  # alias
                dsk[key] = pick()
            else:  # a list value holding keys and a task
                dsk[key] = (plus, [pick(), (operator.neg, pick())])
        keys.append(key)
    return dsk, keys


@pytest.mark.parametrize("seed", range(60))
def test_random_graphs_match_sequential(seed, num_workers):
    rng = random.Random(seed)
    dsk, keys = random_graph(rng, rng.randint(5, 400))
    wanted = rng.sample(keys, rng.randint(1, min(len(keys), 12)))
    nested = [wanted[: len(wanted) // 2], wanted[len(wanted) // 2:]]
    ref = dask.core.get(dsk, nested)
    ref = tuple(tuple(r) for r in ref)
    assert weft.get(dsk, nested, num_workers=num_workers) == ref
    assert weft.get(dsk, wanted[0], num_workers=num_workers) == ref[0][0] if wanted[: len(wanted) // 2] else True


def test_only_needed_tasks_run_once_each(num_workers):
    calls = []

    def rec(name, *deps):
        calls.append(name)
        return name

    # names are not keys: "A" is a literal, "a" a reference
    dsk = {"a": (rec, "A"), "b": (rec, "B", "a"), "c": (rec, "C", "a", "b"),
           "unused": (rec, "U", "c"), "d": (rec, "D", "b", "c")}
    assert weft.get(dsk, ["d", "c"], num_workers=num_workers) == ("D", "C")
    assert sorted(calls) == ["A", "B", "C", "D"]


def test_cycle_is_an_error():
    with pytest.raises(RuntimeError, match="cycle"):
        weft.get({"a": (abs, "b"), "b": (abs, "a")}, "a")


def test_intermediates_released_after_last_consumer():
    live = [0, 0]  # now, max

    class Blob:
        def __init__(self):
            live[0] += 1
            live[1] = max(live)

        def __del__(self):
            live[0] -= 1

    def step(prev):
        return Blob()

    n = 300
    dsk = {"x0": (Blob,)}
    for i in range(1, n):
        dsk[f"x{i}"] = (step, f"x{i-1}")
    weft.get(dsk, f"x{n-1}", num_workers=2)
    weft._weft._drain()
    assert live[0] == 0
    assert live[1] <= 4, live  # a chain keeps a few alive, not all 300
