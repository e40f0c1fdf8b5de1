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
        shutil.copy2(f, os.path.join(dest, os.path.basename(f)))
    with open(stamp, "w") as out:
        out.write("\n".join(os.path.basename(f) for f in files) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
