# Warning flags for every target built from this tree.
set(FLOWKIT_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -Wvla -Wno-unused-parameter)
if(FLOWKIT_WERROR)
    list(APPEND FLOWKIT_WARNINGS -Werror)
endif()

# flowkit_target_warnings(<target>): apply the project's C warning flags.
function(flowkit_target_warnings target)
    target_compile_options(${target} PRIVATE
        $<$<COMPILE_LANGUAGE:C>:${FLOWKIT_WARNINGS}>)
endfunction()
