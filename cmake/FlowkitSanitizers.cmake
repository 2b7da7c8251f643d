# ASan + UBSan for the whole build when FLOWKIT_SANITIZE is on.
if(FLOWKIT_SANITIZE)
    set(FLOWKIT_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
        -fno-omit-frame-pointer)
    add_compile_options(${FLOWKIT_SAN_FLAGS})
    add_link_options(${FLOWKIT_SAN_FLAGS})
endif()

# ThreadSanitizer when FLOWKIT_TSAN is on (clang; not with FLOWKIT_SANITIZE:
# the two runtimes cannot share a process).
if(FLOWKIT_TSAN)
    if(FLOWKIT_SANITIZE)
        message(FATAL_ERROR "FLOWKIT_TSAN and FLOWKIT_SANITIZE cannot be combined")
    endif()
    set(FLOWKIT_TSAN_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
    add_compile_options(${FLOWKIT_TSAN_FLAGS})
    add_link_options(${FLOWKIT_TSAN_FLAGS})
endif()

# libFuzzer builds: instrument the library too (not only the fuzz targets),
# or the fuzzers cannot see coverage inside the decoders they drive.
if(FLOWKIT_FUZZ)
    add_compile_options(-fsanitize=fuzzer-no-link)
endif()
