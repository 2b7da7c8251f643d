# lib/ipfix: the information element table is generated at build time from
# the IANA registry XML by a small stdlib-only Python script.
find_program(FLOWKIT_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT FLOWKIT_PYTHON3)
    find_program(FLOWKIT_PYTHON3 NAMES python3 REQUIRED)
endif()
set(_fk_ie_xml "${CMAKE_CURRENT_SOURCE_DIR}/ipfix/iana-ipfix-registry.xml")
set(_fk_ie_gen "${CMAKE_CURRENT_SOURCE_DIR}/ipfix/gen_ie_table.py")
set(_fk_ie_out "${CMAKE_CURRENT_BINARY_DIR}/ipfix/ie_table.c")
add_custom_command(
    OUTPUT "${_fk_ie_out}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${CMAKE_CURRENT_BINARY_DIR}/ipfix"
    COMMAND ${FLOWKIT_PYTHON3} "${_fk_ie_gen}" "${_fk_ie_xml}" "${_fk_ie_out}"
    DEPENDS "${_fk_ie_xml}" "${_fk_ie_gen}"
    COMMENT "Generating the IPFIX information element table"
    VERBATIM)
list(APPEND FLOWKIT_GENERATED_SOURCES "${_fk_ie_out}")
