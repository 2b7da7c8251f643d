# ASan + UBSan for the whole build when FLOWKIT_SANITIZE is on.
if(FLOWKIT_SANITIZE)
    set(FLOWKIT_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
        -fno-omit-frame-pointer)
    add_compile_options(${FLOWKIT_SAN_FLAGS})
    add_link_options(${FLOWKIT_SAN_FLAGS})
endif()
