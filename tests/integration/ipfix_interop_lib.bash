# Shared by the interop_ipfix_*.sh tests (sourced, not a test itself):
# builds examples/ipfix_gen and examples/ipfix_dump against the library of
# the build tree (public API only) into $WORK.
ipfix_build_tools() {
    local src=${FLOWKIT_SOURCE_DIR:?} build=${FLOWKIT_BUILD_DIR:?}
    local lib="$build/lib"
    if [ ! -e "$lib/libflowkit.so" ]; then
        echo "SKIP: $lib/libflowkit.so not built"
        exit 77
    fi
    local p
    for p in ipfix_gen ipfix_dump; do
        cc -O2 -Wall -Wextra -Werror -I"$src/include" -I"$build/include" "$src/examples/$p.c" \
            -L"$lib" -lflowkit -Wl,-rpath,"$lib" -o "$WORK/$p" || {
            echo "FAIL: cannot build $p"
            exit 1
        }
    done
}
