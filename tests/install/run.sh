#!/bin/sh
# The install, checked the way a user meets it (issue 16):
#
#   tests/install/run.sh BUILD_DIR [mpi=yes|no] [docs=yes|no]
#       stages `meson install -C BUILD_DIR` under a temporary DESTDIR (the
#       system is never touched); meson's `install` suite runs this.
#   tests/install/run.sh --fresh SOURCE_DIR
#       from scratch, as the README says: `meson setup B --prefix=P` in a
#       temporary directory, `meson install -C B`, then the same checks
#       (minutes: a whole build). For CI.
#
# Then: the installed bin/weft runs with an empty environment and finds
# the installed libweft through its rpath; the headers are there (weft/mpi.h
# only with weft-mpi); `man -l` renders weft(1) (and weft-mpi(1)) without a
# warning; the section-3 pages of the core headers exist and render, and
# none has a name without the weft prefix; a program builds against the
# installed weft.pc with pkg-config and runs; the same with libweft.a linked
# statically; with `pkg-config --static` where libudev-dev is installed;
# with CMake's pkg_check_modules(IMPORTED_TARGET) where cmake is installed;
# and an installed Python module imports from the prefix, if there is one.
# Exit 0 all held, 1 something failed (each failure is named), 77 skipped.
set -u
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
[ -n "${WEFT_KEEP:-}" ] && echo "keeping $work" || trap 'rm -rf "$work"' EXIT INT TERM
fails=0
fail() { echo "FAILED: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
note() { echo "note: $*"; }

option() { # option BUILD NAME: a meson option's value in BUILD
	meson introspect "$1" --buildoptions | /usr/bin/python3 -c '
import json, sys
for o in json.load(sys.stdin):
    if o["name"] == sys.argv[1]:
        v = o["value"]
        print(v if not isinstance(v, list) else ",".join(v))' "$2"
}

if [ "${1:-}" = "--fresh" ]; then
	src=$(cd "${2:?usage: run.sh --fresh SOURCE_DIR}" && pwd)
	build=$work/b
	prefix=$work/p
	echo "== meson setup $build --prefix=$prefix && meson install"
	meson setup "$build" "$src" --prefix="$prefix" -Dtests=false \
	    -Dbench=false >"$work/setup.log" 2>&1 ||
	    { cat "$work/setup.log" >&2; echo "FAILED: meson setup" >&2; exit 1; }
	meson install -C "$build" >"$work/install.log" 2>&1 ||
	    { tail -n 40 "$work/install.log" >&2; echo "FAILED: meson install" >&2; exit 1; }
	root=$prefix sysroot=
	mpi=no
	[ -f "$build/src/mpi/weft-mpi" ] && mpi=yes
	docs=no
	[ -d "$build/include/man3" ] && docs=yes
else
	build=$(cd "${1:?usage: run.sh BUILD_DIR [mpi=yes|no] [docs=yes|no]}" && pwd)
	mpi=no docs=no
	for a in "$@"; do
		case $a in
		mpi=*) mpi=${a#mpi=} ;;
		docs=*) docs=${a#docs=} ;;
		esac
	done
	prefix=$(option "$build" prefix)
	sysroot=$work/stage
	# --no-rebuild: meson test has built everything already
	meson install -C "$build" --no-rebuild --destdir "$sysroot" \
	    >"$work/install.log" 2>&1 ||
	    { tail -n 40 "$work/install.log" >&2; echo "FAILED: meson install --destdir" >&2; exit 1; }
	root=$sysroot$prefix
fi
libdir=$(option "$build" libdir)
mandir=$(option "$build" mandir)
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
case $mandir in /*) ;; *) mandir=$prefix/$mandir ;; esac
L=$sysroot$libdir
M=$sysroot$mandir
echo "== installed under $root (libdir $L)"

# -- the programs ----------------------------------------------------------
out=$(env -i "$root/bin/weft" --version 2>&1)
case $out in
"weft "[0-9]*) ok "env -i bin/weft --version: $out" ;;
*) fail "bin/weft --version with an empty environment: $out" ;;
esac
loads() { # loads PROGRAM: the libweft* files it loads, resolved
	env -i ldd "$1" | awk '$1 ~ /^libweft/ && $3 ~ /^\// { print $3 }' |
	    while read -r f; do realpath "$f"; done | sort -u
}
L_real=$(realpath -m "$L")
lib=$(loads "$root/bin/weft")
case $lib in
"$L_real"/libweft.so*) ok "bin/weft loads $lib" ;;
*) fail "bin/weft should load libweft from $L, loads '$lib'" ;;
esac
if [ "$mpi" = yes ]; then
	lib=$(loads "$root/bin/weft-mpi")
	bad=$(echo "$lib" | grep -v "^$L_real/" || true)
	if [ -z "$lib" ] || [ -n "$bad" ]; then
		fail "bin/weft-mpi should load libweft and libweft-mpi from $L: $lib"
	else
		ok "bin/weft-mpi loads $(echo $lib)"
	fi
fi

# -- headers -----------------------------------------------------------------
for h in weft.h weft/version.h weft/errno.h weft/value.h weft/graph.h \
    weft/pool.h weft/compute.h; do
	[ -f "$root/include/$h" ] || fail "include/$h is not installed"
done
if [ "$mpi" = yes ]; then
	[ -f "$root/include/weft/mpi.h" ] || fail "weft-mpi is built but weft/mpi.h is not installed"
else
	[ ! -e "$root/include/weft/mpi.h" ] || fail "weft/mpi.h is installed without weft-mpi"
fi
ok "headers (weft/mpi.h: $mpi)"

# -- man pages ---------------------------------------------------------------
render() { # render PAGE WORD: man -l renders PAGE without a warning
	err=$(cd "$M" && MANWIDTH=80 man --warnings -l "$1" 2>&1 >"$work/page.txt")
	if [ -n "$err" ]; then
		fail "man -l $1: $err"
	elif ! grep -q -- "$2" "$work/page.txt"; then
		fail "man -l $1 renders without '$2'"
	else
		ok "man -l $1"
	fi
}
if ! command -v man >/dev/null; then
	note "no man command (install man-db): man pages not rendered"
	[ -f "$M/man1/weft.1" ] || fail "man1/weft.1 is not installed"
else
	render man1/weft.1 "weft worker"
	render man1/weft.1 "weft serve"
	[ "$mpi" = yes ] && render man1/weft-mpi.1 "mpirun"
fi
if [ "$docs" = yes ]; then
	for p in weft.h weft_value.h weft_graph.h weft_compute.h weft_pool.h \
	    weft_errno.h weft_version.h weft_compute weft_graph_new \
	    weft_delayed weft_pool_new weft_value_release weft_strerror; do
		[ -f "$M/man3/$p.3" ] || fail "man3/$p.3 is not installed"
	done
	stray=$(ls "$M/man3" | grep -v '^weft\|^WEFT' || true)
	[ -z "$stray" ] || fail "man3 pages without the weft prefix: $(echo $stray)"
	if command -v man >/dev/null; then
		render man3/weft_compute.3 "weft_compute"
		render man3/weft.h.3 "weft_graph_new"
	fi
	ok "section-3 pages ($(ls "$M/man3" | wc -l))"
else
	note "the API reference was not built (no doxygen): no section-3 pages"
fi

# -- a program against the installed weft.pc ---------------------------------
if [ -n "$sysroot" ]; then
	# a staged install: the same .pc files with the prefix moved to the
	# stage (PKG_CONFIG_SYSROOT_DIR would move hwloc's /usr too)
	mkdir -p "$work/pc"
	for f in "$L"/pkgconfig/*.pc; do
		sed "s|^prefix=.*|prefix=$root|" "$f" >"$work/pc/$(basename "$f")"
	done
	export PKG_CONFIG_PATH="$work/pc"
else
	export PKG_CONFIG_PATH="$L/pkgconfig"
fi
cp "$here/../external/acceptance.c" "$work/"
cd "$work"
cflags=$(pkg-config --cflags weft) && libs=$(pkg-config --libs weft) ||
    fail "pkg-config --cflags --libs weft"
if cc -std=c11 -O2 -o app acceptance.c $cflags $libs -Wl,-rpath,"$L" \
    >cc.log 2>&1; then
	if ./app >app.log 2>&1; then ok "a program built with the installed weft.pc runs"
	else fail "the program built with weft.pc: $(tail -n 5 app.log)"; fi
else
	fail "cc acceptance.c \$(pkg-config --cflags --libs weft): $(tail -n 5 cc.log)"
fi
# static libweft, shared dependencies: the README's recipe
deps=$(pkg-config --libs hwloc jansson)
if cc -std=c11 -O2 -o app-static acceptance.c -I"$root/include" "$L/libweft.a" \
    $deps -pthread -lm -ldl >cc.log 2>&1 && ./app-static >app.log 2>&1; then
	if ldd app-static | grep -q libweft; then fail "app-static still loads libweft.so"
	else ok "a program with libweft.a linked statically runs"; fi
else
	fail "static libweft: $(tail -n 5 cc.log app.log 2>/dev/null)"
fi
# pkg-config --static: hwloc's private libraries name -ludev, which links
# only where libudev-dev is installed
slibs=$(pkg-config --static --libs weft)
if ! echo 'int main(void){return 0;}' | cc -x c - -o udev-probe -ludev >/dev/null 2>&1; then
	note "pkg-config --static: -ludev does not link here (install libudev-dev); not tried"
elif cc -std=c11 -O2 -o app-pcstatic acceptance.c -I"$root/include" \
    $(echo "$slibs" | sed "s|-lweft |$L/libweft.a |") >cc.log 2>&1 &&
    ./app-pcstatic >app.log 2>&1; then
	ok "a program linked with pkg-config --static runs"
else
	fail "pkg-config --static: $(tail -n 5 cc.log app.log 2>/dev/null)"
fi
# CMake
if command -v cmake >/dev/null; then
	mkdir -p cm && cp acceptance.c cm/ && cat >cm/CMakeLists.txt <<'CMAKE'
cmake_minimum_required(VERSION 3.13)
project(acceptance C)
find_package(PkgConfig REQUIRED)
pkg_check_modules(WEFT REQUIRED IMPORTED_TARGET weft)
add_executable(acceptance acceptance.c)
target_link_libraries(acceptance PkgConfig::WEFT)
CMAKE
		if cmake -S cm -B cm/b >cmake.log 2>&1 && cmake --build cm/b >>cmake.log 2>&1 &&
	    cm/b/acceptance >app.log 2>&1; then
		ok "CMake pkg_check_modules(WEFT REQUIRED IMPORTED_TARGET weft) builds a program that runs"
	else
		fail "CMake with pkg_check_modules: $(tail -n 8 cmake.log app.log 2>/dev/null)"
	fi
	else
	note "no cmake: the CMake recipe was not tried"
fi

# -- the Python module, where one is installed -------------------------------
pkg=$(find "$root" -path '*/weft/__init__.py' 2>/dev/null | head -1)
if [ -n "$pkg" ]; then
	pp=$(dirname "$(dirname "$pkg")")
	if env -i PYTHONPATH="$pp" /usr/bin/python3 -c 'import weft' >py.log 2>&1; then
		ok "import weft from $pp"
	else
		fail "import weft from $pp: $(tail -n 3 py.log)"
	fi
else
	note "no Python module installed"
fi

if [ "$fails" -gt 0 ]; then
	echo "$fails check(s) FAILED" >&2
	exit 1
fi
echo "install: all checks passed"
