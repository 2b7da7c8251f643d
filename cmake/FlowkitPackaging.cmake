# Packaging: systemd units, service configuration and a Debian package.
#
#   cmake --build build/gcc && (cd build/gcc && cpack -G DEB)
#
# gives flowkit_<version>_<arch>.deb with the shared library, the headers,
# flowkit.pc and the CMake package files, the CLIs and their man pages, the
# systemd units with their configuration, the examples and the Python
# binding. tests/integration/package_deb.sh builds and checks it.
#
# Unit files and configuration are placed at *install* time, from the prefix
# actually installed to (cmake --install --prefix, or CPack's /usr), so one
# build serves both: ExecStart names <prefix>/bin, and with the /usr prefix
# configuration goes to /etc (else <prefix>/etc).

install(CODE "set(FLOWKIT_DIST_DIR \"${PROJECT_SOURCE_DIR}/dist\")")
install(SCRIPT "${CMAKE_CURRENT_LIST_DIR}/FlowkitInstallDist.cmake")

# The Python binding as plain source; it finds the library through the
# dynamic linker (soname), so PYTHONPATH=<prefix>/share/flowkit/python works.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/bindings/python/flowkit"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/flowkit/python"
        PATTERN "__pycache__" EXCLUDE)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/examples/"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples"
        FILES_MATCHING PATTERN "*.c" PATTERN "Makefile" PATTERN "CMakeLists.txt")

# ---- CPack: one Debian package -------------------------------------------
set(CPACK_GENERATOR "DEB" CACHE STRING "CPack generators")
set(CPACK_PACKAGE_NAME "flowkit")
set(CPACK_PACKAGE_VENDOR "flowkit")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "flowkit maintainers <flowkit@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "${PROJECT_DESCRIPTION}\n libflowkit (C11 library, headers, pkg-config and CMake files), the flowkit command-line tools with man pages, systemd units for flowkit-export and flowkit-collect, examples, and the ctypes Python binding under /usr/share/flowkit/python.")
# Runtime dependencies (libpcap, libnl) from the ELF files via dpkg-shlibdeps;
# shlibs and the ldconfig trigger for the shared library.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS
    "libpcap-dev, libnl-3-dev, libnl-route-3-dev, pkg-config, python3")
# Marks /etc files as conffiles when packaging for /usr (decided at cpack time).
configure_file("${CMAKE_CURRENT_LIST_DIR}/FlowkitCPackOptions.cmake.in"
               "${PROJECT_BINARY_DIR}/FlowkitCPackOptions.cmake" @ONLY)
set(CPACK_PROJECT_CONFIG_FILE "${PROJECT_BINARY_DIR}/FlowkitCPackOptions.cmake")
include(CPack)
