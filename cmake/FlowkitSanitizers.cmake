# ASan + UBSan for the whole build when FLOWKIT_SANITIZE is on.
if(FLOWKIT_SANITIZE)
    set(FLOWKIT_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
        -fno-omit-frame-pointer)
    add_compile_options(${FLOWKIT_SAN_FLAGS})
    add_link_options(${FLOWKIT_SAN_FLAGS})
endif()

# libFuzzer builds: instrument the library too (not only the fuzz targets),
# or the fuzzers cannot see coverage inside the decoders they drive.
if(FLOWKIT_FUZZ)
    add_compile_options(-fsanitize=fuzzer-no-link)
endif()
