"""Copies the weft package (the built extension and the .py files) into
build/python/weft, so that PYTHONPATH=build/python finds `import weft`.

Usage: stage.py DEST STAMP FILE...  (run by meson; writes STAMP last)
"""
import os
import shutil
import sys


def main(argv):
    dest, stamp, files = argv[1], argv[2], argv[3:]
    os.makedirs(dest, exist_ok=True)
    for f in files:
        # Copy then rename: a running Python that has the old extension
        # mapped keeps it, instead of seeing it change under it.
        target = os.path.join(dest, os.path.basename(f))
        shutil.copy2(f, target + ".tmp")
        os.replace(target + ".tmp", target)
    with open(stamp, "w") as out:
        out.write("\n".join(os.path.basename(f) for f in files) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
