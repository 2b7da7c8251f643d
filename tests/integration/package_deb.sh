#!/bin/bash
# Build the Debian package with cpack from the test build, install it with
# dpkg into a fresh root (dpkg --root, own database), and check that it
# works there: the CLIs' --version, examples built through pkg-config and
# find_package against the installed files and run, the Python binding, and
# the systemd units (systemd-analyze verify / security, when available).
set -euo pipefail
SRC=${FLOWKIT_SOURCE_DIR:?}
BUILD=${FLOWKIT_BUILD_DIR:?}
for tool in cpack dpkg dpkg-deb pkg-config cc cmake; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: dpkg --root installs need root"
    exit 77
fi
TMP=$(mktemp -d /tmp/flowkit-deb.$$.XXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# --- build the package from the already built tree (no rebuild)
(cd "$BUILD" && cpack -G DEB -B "$TMP/pkg") >"$TMP/cpack.log" 2>&1 || { cat "$TMP/cpack.log"; fail cpack; }
version=$(sed -n 's/^#define FK_VERSION_STRING "\(.*\)"/\1/p' "$BUILD/include/flowkit/version.h")
deb=$(ls "$TMP"/pkg/flowkit_*.deb)
echo "package: $(basename "$deb") ($(stat -c %s "$deb") bytes)"
# (Outputs go through variables: with pipefail, `cmd | grep -q` fails when
# grep exits before cmd has written everything.)
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "package version is not $version"
deps=$(dpkg-deb -f "$deb" Depends)
echo "depends: $deps"
for d in libpcap0.8 libnl-3-200 libnl-route-3-200; do
    grep -q "$d" <<<"$deps" || fail "Depends lacks $d"
done
dpkg-deb -c "$deb" | awk '{print $6}' >"$TMP/files"
for f in ./usr/lib/libflowkit.so.1 ./usr/lib/libflowkit.so ./usr/include/flowkit/flowkit.h \
    ./usr/include/flowkit/version.h ./usr/lib/pkgconfig/flowkit.pc \
    ./usr/lib/cmake/flowkit/flowkitConfig.cmake ./usr/lib/systemd/system/flowkit-export.service \
    ./usr/lib/systemd/system/flowkit-collect.service ./usr/share/flowkit/python/flowkit/__init__.py \
    ./etc/flowkit/export.conf ./etc/default/flowkit-collect; do
    grep -qx "$f" "$TMP/files" || fail "package lacks $f"
done
dpkg-deb -e "$deb" "$TMP/control"
grep -qx /etc/flowkit/export.conf "$TMP/control/conffiles" || fail "export.conf is not a conffile"
# The postinst creates the system user the tools drop root to (never on the
# host in this test: it runs chrootless with DPKG_ROOT set, and skips).
[ -x "$TMP/control/postinst" ] && grep -q 'getent passwd flowkit' "$TMP/control/postinst" &&
    grep -q 'useradd --system' "$TMP/control/postinst" ||
    fail "the package does not create the flowkit user"
# Every CLI and man page that the build produced is in the package.
for exe in "$BUILD"/cli/*/flowkit-*; do
    [ -x "$exe" ] && [ -f "$exe" ] || continue
    grep -qx "./usr/bin/$(basename "$exe")" "$TMP/files" || fail "package lacks $(basename "$exe")"
done
for man in "$SRC"/docs/man/*.1; do
    [ -f "$man" ] || continue
    grep -qx "./usr/share/man/man1/$(basename "$man")" "$TMP/files" || fail "package lacks $(basename "$man")"
done

# --- install it into a fresh root with its own dpkg database
R="$TMP/root"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
touch "$R/var/lib/dpkg/status"
# Dependencies are the host's packages (not in the empty root's database).
dpkg --root="$R" --force-depends --force-script-chrootless -i "$deb" >"$TMP/dpkg.log" 2>&1 ||
    { cat "$TMP/dpkg.log"; fail "dpkg -i"; }
status=$(dpkg --root="$R" -s flowkit)
grep -qx "Status: install ok installed" <<<"$status" || fail "not installed"
export LD_LIBRARY_PATH="$R/usr/lib"

# --- the CLIs from the package
ran=0
for exe in "$R"/usr/bin/flowkit-*; do
    out=$("$exe" --version)
    grep -q "$version" <<<"$out" || fail "$(basename "$exe") --version: $out"
    echo "ok   $(basename "$exe") --version: $out"
    ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || fail "no CLI in the package"

# --- examples against the installed package, both ways, and run them
mkdir -p "$TMP/ex-pc"
PKG_CONFIG_PATH="$R/usr/lib/pkgconfig" make -s -C "$R/usr/share/doc/flowkit/examples" \
    OUT="$TMP/ex-pc" >"$TMP/make.log" 2>&1 || { cat "$TMP/make.log"; fail "examples via pkg-config"; }
cmake -S "$R/usr/share/doc/flowkit/examples" -B "$TMP/ex-cmake" -DCMAKE_PREFIX_PATH="$R/usr" \
    >"$TMP/cmake.log" 2>&1 || { cat "$TMP/cmake.log"; fail "examples via find_package"; }
cmake --build "$TMP/ex-cmake" -j2 >>"$TMP/cmake.log" 2>&1 || { cat "$TMP/cmake.log"; fail "build"; }
# The binaries must use the packaged library, not a build tree's.
linked=$(ldd "$TMP/ex-pc/flowkit_info")
grep -q "$R/usr/lib/libflowkit.so.1" <<<"$linked" || fail "not linked to the package: $linked"
"$SRC/examples/run_examples.sh" "$TMP/ex-pc" "$R/usr/lib"
"$SRC/examples/run_examples.sh" "$TMP/ex-cmake" "$R/usr/lib"

# --- the Python binding shipped in the package (library found by soname)
if [ -x /usr/bin/python3 ]; then
    env -u FLOWKIT_LIBRARY PYTHONPATH="$R/usr/share/flowkit/python" /usr/bin/python3 - "$R" "$version" <<'PY'
import sys
import flowkit
root, version = sys.argv[1], sys.argv[2]
assert flowkit.version() == version, flowkit.version()
maps = open("/proc/self/maps").read()
assert f"{root}/usr/lib/libflowkit.so" in maps, "binding did not load the packaged library"
try:
    flowkit.Flow(src="not an address").to_c()
    raise SystemExit("no error raised")
except flowkit.FlowkitError as e:
    assert e.name == "FK_EINVAL", e
print("ok   python binding from the package:", flowkit.version())
PY
fi

# --- systemd units: syntax and hardening
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$TMP/units"
    for u in "$R"/usr/lib/systemd/system/*.service; do
        # Point ExecStart at the packaged binaries (the root has no systemd).
        sed "s|/usr/bin/|$R/usr/bin/|g" "$u" >"$TMP/units/$(basename "$u")"
    done
    # verify exits 0 on ignored settings: any diagnostic at all is a failure.
    out=$(systemd-analyze verify --man=no "$TMP"/units/*.service 2>&1) || true
    [ -z "$out" ] || fail "systemd-analyze verify: $out"
    echo "ok   systemd-analyze verify: $(ls "$TMP/units" | xargs)"
    for u in "$TMP"/units/*.service; do
        score=$(systemd-analyze security --offline=yes "$u" 2>/dev/null |
            sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
        echo "     exposure $(basename "$u"): $score"
        awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 3.0) }' || fail "$(basename "$u") exposure $score"
    done
else
    echo "systemd-analyze not available: unit checks skipped"
fi

dpkg --root="$R" --force-script-chrootless -r flowkit >/dev/null 2>&1 || fail "dpkg -r"
[ ! -e "$R/usr/lib/libflowkit.so.1" ] || fail "remove left the library"
echo "package_deb: all ok"
