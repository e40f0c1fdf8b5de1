#!/bin/sh
# Builds tests/external/acceptance.c *outside* the project, the way a user
# would, against the build tree through weft-uninstalled.pc, and runs it.
# Usage: tests/external/run.sh BUILD_DIR
set -eu
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$src/acceptance.c" "$work/"
cd "$work"
export PKG_CONFIG_PATH="$build/meson-uninstalled${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
cc -std=c11 -Wall -Wextra -O2 -o acceptance acceptance.c \
    $(pkg-config --cflags --libs weft) -Wl,-rpath,"$build/src"
./acceptance
