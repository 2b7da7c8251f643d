# Install-time script (see FlowkitPackaging.cmake): systemd units and service
# configuration from dist/, with paths for the prefix being installed to.
# Inputs: FLOWKIT_DIST_DIR, CMAKE_INSTALL_PREFIX, DESTDIR (environment).
if(CMAKE_INSTALL_PREFIX MATCHES "^/usr/?$")
    set(_etc "/etc")
else()
    set(_etc "${CMAKE_INSTALL_PREFIX}/etc")
endif()
set(_bin "${CMAKE_INSTALL_PREFIX}/bin")
set(_unitdir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
set(_dest "$ENV{DESTDIR}")

file(GLOB _units "${FLOWKIT_DIST_DIR}/systemd/*.service")
foreach(_unit ${_units})
    get_filename_component(_name "${_unit}" NAME)
    file(READ "${_unit}" _text)
    # The units in dist/ are written for a /usr/local install.
    string(REPLACE "/usr/local/bin/" "${_bin}/" _text "${_text}")
    string(REPLACE "/etc/flowkit/" "${_etc}/flowkit/" _text "${_text}")
    string(REPLACE "/etc/default/" "${_etc}/default/" _text "${_text}")
    message(STATUS "Installing: ${_dest}${_unitdir}/${_name}")
    file(WRITE "${_dest}${_unitdir}/${_name}" "${_text}")
endforeach()

if(EXISTS "${FLOWKIT_DIST_DIR}/flowkit-export.conf")
    message(STATUS "Installing: ${_dest}${_etc}/flowkit/export.conf")
    file(MAKE_DIRECTORY "${_dest}${_etc}/flowkit")
    configure_file("${FLOWKIT_DIST_DIR}/flowkit-export.conf" "${_dest}${_etc}/flowkit/export.conf"
                   COPYONLY)
endif()
if(EXISTS "${FLOWKIT_DIST_DIR}/default/flowkit-collect")
    message(STATUS "Installing: ${_dest}${_etc}/default/flowkit-collect")
    file(MAKE_DIRECTORY "${_dest}${_etc}/default")
    configure_file("${FLOWKIT_DIST_DIR}/default/flowkit-collect"
                   "${_dest}${_etc}/default/flowkit-collect" COPYONLY)
endif()
