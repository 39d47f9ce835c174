# SPDX-License-Identifier: GPL-3.0-or-later
# portico_ruleset: the compiler from forwards to `table inet portico`, its nft text, and the
# libnftnl + libmnl writer that sends it as one batch. Linked by the helper and its tests.
add_library(portico_ruleset STATIC
    ${CMAKE_CURRENT_SOURCE_DIR}/ruleset_model.h
    ${CMAKE_CURRENT_SOURCE_DIR}/ruleset_compiler.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/ruleset_text.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/ruleset_writer.h
    ${CMAKE_CURRENT_SOURCE_DIR}/ruleset_writer.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/ruleset_netlink.h
    ${CMAKE_CURRENT_SOURCE_DIR}/netlink_batch.h
    ${CMAKE_CURRENT_SOURCE_DIR}/netlink_batch.cpp
    # issue 5: the read-only reader of the whole ruleset (summary, trace, diagnosis)
    ${CMAKE_CURRENT_SOURCE_DIR}/ruleset_reader.h
    ${CMAKE_CURRENT_SOURCE_DIR}/ruleset_reader.cpp
)
target_include_directories(portico_ruleset PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(portico_ruleset PUBLIC portico_common PkgConfig::NFTNL PkgConfig::MNL Qt6::Core)
