# Fuzz builds: give libFuzzer coverage feedback from the decoder and the flow
# table (the fuzz target alone is instrumented by -fsanitize=fuzzer).
if(FLOWKIT_FUZZ)
    file(GLOB FK_PACKET_FLOW_SOURCES "${CMAKE_CURRENT_LIST_DIR}/*.c"
         "${CMAKE_CURRENT_LIST_DIR}/../flow/*.c")
    set_source_files_properties(${FK_PACKET_FLOW_SOURCES} PROPERTIES
        COMPILE_OPTIONS "-fsanitize=fuzzer-no-link")
endif()
