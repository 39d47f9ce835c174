# SPDX-License-Identifier: GPL-3.0-or-later
# The Debian package: `cpack -G DEB` in a build dir (configure with -DCMAKE_BUILD_TYPE=Release for
# a real release). Libraries come from dpkg-shlibdeps; what it cannot see (the system bus, polkitd,
# Qt's SVG plugins loaded at run time) is named here. tests/packaging installs it into a clean
# Debian 12 root and runs it there.
set(portico_deb_dir ${CMAKE_CURRENT_LIST_DIR}/deb)

# The files Debian wants in every package, installed by any install (docdir is share/doc/portico).
set(portico_deb_changelog ${CMAKE_BINARY_DIR}/packaging/changelog.gz)
add_custom_command(OUTPUT ${portico_deb_changelog}
                   COMMAND gzip -9n -c ${portico_deb_dir}/changelog > ${portico_deb_changelog}
                   DEPENDS ${portico_deb_dir}/changelog VERBATIM)
add_custom_target(portico_deb_changelog ALL DEPENDS ${portico_deb_changelog})
install(FILES ${portico_deb_dir}/copyright ${portico_deb_changelog}
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME portico)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "The Portico developers")
set(CPACK_PACKAGE_CONTACT "The Portico developers <portico@users.noreply.github.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "port forwarding for Linux gateways, with nftables")
# The extended description: each line of it starts with a space in the control file (CPack does it).
set(CPACK_PACKAGE_DESCRIPTION
    "Portico adds, edits and removes port forwards (DNAT) on this computer. A Qt\n"
    "desktop app (portico) and a command-line tool (porticoctl) run as an ordinary\n"
    "user and talk over the D-Bus system bus to a small root helper, which checks\n"
    "every call with polkit and writes its own nftables table (inet portico) in\n"
    "one atomic step, without touching the tables of other programs.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/portico/portico")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "default-dbus-system-bus | dbus-system-bus, polkitd, libqt6svg6")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "qt6-translations-l10n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${portico_deb_dir}/postinst ${portico_deb_dir}/prerm ${portico_deb_dir}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
# Install with DESTDIR into the staging dir and the real prefix, so the files written at install
# time (packaging/install-configured.cmake) name /usr/libexec/portico-helper, not the staging dir.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
