# lib/bpf: the BPF attribution programs. owner.bpf.c is compiled with clang's
# BPF target at build time and embedded by a skeleton that bpftool generates
# (nothing generated is committed). Without clang's BPF target, libbpf or
# bpftool (or with -DFLOWKIT_BPF=OFF) the library still builds: the loader
# then reports the BPF backend unavailable and attribution uses sock_diag.
option(FLOWKIT_BPF "Build the BPF attribution backend when clang, libbpf and bpftool are found" ON)
set(FLOWKIT_BPF_ENABLED OFF)
set(FLOWKIT_BPF_WHY "disabled by -DFLOWKIT_BPF=OFF")
if(FLOWKIT_BPF)
    find_program(FLOWKIT_BPF_CLANG NAMES clang clang-16 clang-15 clang-14)
    find_program(FLOWKIT_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin /usr/local/sbin)
    pkg_check_modules(LIBBPF QUIET IMPORTED_TARGET libbpf>=0.7)
    set(_fk_bpf_probe_ok FALSE)
    if(FLOWKIT_BPF_CLANG)
        set(_fk_bpf_probe "${CMAKE_CURRENT_BINARY_DIR}/bpf/probe.bpf.c")
        file(WRITE "${_fk_bpf_probe}" "int x(void) { return 0; }\n")
        execute_process(
            COMMAND ${FLOWKIT_BPF_CLANG} -target bpf -O2 -c "${_fk_bpf_probe}" -o "${_fk_bpf_probe}.o"
            RESULT_VARIABLE _fk_bpf_rc OUTPUT_QUIET ERROR_QUIET)
        if(_fk_bpf_rc EQUAL 0)
            set(_fk_bpf_probe_ok TRUE)
        endif()
    endif()
    if(NOT _fk_bpf_probe_ok)
        set(FLOWKIT_BPF_WHY "no clang with the BPF target")
    elseif(NOT LIBBPF_FOUND)
        set(FLOWKIT_BPF_WHY "libbpf (libbpf-dev) not found")
    elseif(NOT FLOWKIT_BPFTOOL)
        set(FLOWKIT_BPF_WHY "bpftool not found")
    else()
        set(FLOWKIT_BPF_ENABLED ON)
    endif()
endif()

if(FLOWKIT_BPF_ENABLED)
    message(STATUS "BPF attribution backend: enabled (${FLOWKIT_BPF_CLANG}, libbpf ${LIBBPF_VERSION}, ${FLOWKIT_BPFTOOL})")
    set(_fk_bpf_src "${CMAKE_CURRENT_SOURCE_DIR}/bpf/owner.bpf.c")
    set(_fk_bpf_obj "${CMAKE_CURRENT_BINARY_DIR}/bpf/owner.bpf.o")
    set(_fk_bpf_skel "${CMAKE_CURRENT_BINARY_DIR}/bpf/owner.skel.h")
    set(_fk_bpf_incs "")
    foreach(dir ${LIBBPF_INCLUDE_DIRS})
        list(APPEND _fk_bpf_incs "-I${dir}")
    endforeach()
    if(CMAKE_LIBRARY_ARCHITECTURE)
        # asm/types.h lives in the multiarch directory on Debian.
        list(APPEND _fk_bpf_incs "-I/usr/include/${CMAKE_LIBRARY_ARCHITECTURE}")
    endif()
    add_custom_command(
        OUTPUT "${_fk_bpf_obj}"
        COMMAND ${CMAKE_COMMAND} -E make_directory "${CMAKE_CURRENT_BINARY_DIR}/bpf"
        COMMAND ${FLOWKIT_BPF_CLANG} -target bpf -g -O2 -Wall -Werror ${_fk_bpf_incs}
                "-I${CMAKE_CURRENT_SOURCE_DIR}/bpf" -c "${_fk_bpf_src}" -o "${_fk_bpf_obj}"
        DEPENDS "${_fk_bpf_src}" "${CMAKE_CURRENT_SOURCE_DIR}/bpf/event.h"
        COMMENT "Compiling the BPF attribution programs"
        VERBATIM)
    add_custom_command(
        OUTPUT "${_fk_bpf_skel}"
        COMMAND sh -c "\"$1\" gen skeleton \"$2\" name fk_owner_bpf > \"$3.tmp\" && mv \"$3.tmp\" \"$3\""
                sh "${FLOWKIT_BPFTOOL}" "${_fk_bpf_obj}" "${_fk_bpf_skel}"
        DEPENDS "${_fk_bpf_obj}"
        COMMENT "Generating the BPF skeleton"
        VERBATIM)
    list(APPEND FLOWKIT_GENERATED_SOURCES "${_fk_bpf_skel}")
    # The skeleton embeds the object as one long string literal.
    set_source_files_properties("${CMAKE_CURRENT_SOURCE_DIR}/bpf/loader.c"
        PROPERTIES COMPILE_OPTIONS "-Wno-overlength-strings" OBJECT_DEPENDS "${_fk_bpf_skel}")

    # The eBPF capture backend (flow.bpf.c): tc/xdp programs counting flows.
    # -mcpu=v3 for the atomic fetch-or of the TCP flags (kernel 5.12+).
    set(_fk_flow_src "${CMAKE_CURRENT_SOURCE_DIR}/bpf/flow.bpf.c")
    set(_fk_flow_obj "${CMAKE_CURRENT_BINARY_DIR}/bpf/flow.bpf.o")
    set(_fk_flow_skel "${CMAKE_CURRENT_BINARY_DIR}/bpf/flow.skel.h")
    add_custom_command(
        OUTPUT "${_fk_flow_obj}"
        COMMAND ${CMAKE_COMMAND} -E make_directory "${CMAKE_CURRENT_BINARY_DIR}/bpf"
        COMMAND ${FLOWKIT_BPF_CLANG} -target bpf -mcpu=v3 -g -O2 -Wall -Werror ${_fk_bpf_incs}
                "-I${CMAKE_CURRENT_SOURCE_DIR}/bpf" -c "${_fk_flow_src}" -o "${_fk_flow_obj}"
        DEPENDS "${_fk_flow_src}" "${CMAKE_CURRENT_SOURCE_DIR}/bpf/flow_inner.bpf.h"
                "${CMAKE_CURRENT_SOURCE_DIR}/bpf/flow_parse.bpf.h"
                "${CMAKE_CURRENT_SOURCE_DIR}/bpf/flow_cache.bpf.h"
                "${CMAKE_CURRENT_SOURCE_DIR}/bpf/flow_fast.bpf.h"
                "${CMAKE_CURRENT_SOURCE_DIR}/bpf/flow_event.h"
        COMMENT "Compiling the BPF flow-counting programs"
        VERBATIM)
    add_custom_command(
        OUTPUT "${_fk_flow_skel}"
        COMMAND sh -c "\"$1\" gen skeleton \"$2\" name fk_flow_bpf > \"$3.tmp\" && mv \"$3.tmp\" \"$3\""
                sh "${FLOWKIT_BPFTOOL}" "${_fk_flow_obj}" "${_fk_flow_skel}"
        DEPENDS "${_fk_flow_obj}"
        COMMENT "Generating the BPF flow skeleton"
        VERBATIM)
    list(APPEND FLOWKIT_GENERATED_SOURCES "${_fk_flow_skel}")
    set_source_files_properties("${CMAKE_CURRENT_SOURCE_DIR}/bpf/flows.c"
        PROPERTIES COMPILE_OPTIONS "-Wno-overlength-strings" OBJECT_DEPENDS "${_fk_flow_skel}")
else()
    message(STATUS "BPF attribution backend: unavailable (${FLOWKIT_BPF_WHY}); attribution uses sock_diag")
endif()
