# SPDX-License-Identifier: GPL-3.0-or-later
# Runs at install time (from packaging/CMakeLists.txt): writes the files that name installed
# paths from this install's own prefix and installs them, plus the man pages (gzip -9n, as
# Debian wants them). CMAKE_INSTALL_PREFIX and DESTDIR are those of the running install.
function(portico_install_file file dir)
    if(IS_ABSOLUTE "${dir}")
        set(dest "${dir}")  # file(INSTALL) adds DESTDIR to absolute paths itself
    else()
        set(dest "${CMAKE_INSTALL_PREFIX}/${dir}")
    endif()
    file(INSTALL DESTINATION "${dest}" TYPE FILE FILES "${file}")
endfunction()

function(portico_install_man page section)
    configure_file("${PORTICO_SOURCE_DIR}/man/${page}.${section}" "${PORTICO_WORK_DIR}/${page}.${section}" @ONLY)
    file(REMOVE "${PORTICO_WORK_DIR}/${page}.${section}.gz")
    execute_process(COMMAND gzip -9n "${PORTICO_WORK_DIR}/${page}.${section}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "gzip failed on ${page}.${section}")
    endif()
    portico_install_file("${PORTICO_WORK_DIR}/${page}.${section}.gz" "${PORTICO_MANDIR}/man${section}")
endfunction()

file(MAKE_DIRECTORY "${PORTICO_WORK_DIR}")
portico_install_man(portico 1)
if(PORTICO_GUI_ONLY)
    return()
endif()

if(IS_ABSOLUTE "${PORTICO_LIBEXECDIR}")
    set(PORTICO_HELPER_PATH "${PORTICO_LIBEXECDIR}/portico-helper")
else()
    set(PORTICO_HELPER_PATH "${CMAKE_INSTALL_PREFIX}/${PORTICO_LIBEXECDIR}/portico-helper")
endif()
if(IS_ABSOLUTE "${PORTICO_DATADIR}")
    set(PORTICO_FULL_DATADIR "${PORTICO_DATADIR}")
else()
    set(PORTICO_FULL_DATADIR "${CMAKE_INSTALL_PREFIX}/${PORTICO_DATADIR}")
endif()
set(unit_dir "${PORTICO_SYSTEMD_UNIT_DIR}")
if(NOT unit_dir)
    if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
        set(unit_dir /lib/systemd/system)
    else()
        set(unit_dir lib/systemd/system)
    endif()
endif()

configure_file("${PORTICO_SOURCE_DIR}/dbus/io.github.portico.Helper1.service.in"
               "${PORTICO_WORK_DIR}/io.github.portico.Helper1.service" @ONLY)
configure_file("${PORTICO_SOURCE_DIR}/systemd/portico-helper.service.in"
               "${PORTICO_WORK_DIR}/portico-helper.service" @ONLY)
configure_file("${PORTICO_SOURCE_DIR}/systemd/portico-restore.service.in"
               "${PORTICO_WORK_DIR}/portico-restore.service" @ONLY)
portico_install_file("${PORTICO_WORK_DIR}/io.github.portico.Helper1.service"
                     "${PORTICO_DATADIR}/dbus-1/system-services")
portico_install_file("${PORTICO_WORK_DIR}/portico-helper.service" "${unit_dir}")
portico_install_file("${PORTICO_WORK_DIR}/portico-restore.service" "${unit_dir}")

set(PORTICO_DATADIR "${PORTICO_FULL_DATADIR}")
portico_install_man(porticoctl 1)
portico_install_man(portico-helper 8)
