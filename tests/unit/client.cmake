# SPDX-License-Identifier: GPL-3.0-or-later
# Unit tests of the helper client and porticoctl's command line (no root, no helper).
set(PORTICO_TEST_LIBS portico_ctl_lib)
portico_unit_test(test_client_command_line ${CMAKE_CURRENT_LIST_DIR}/test_client_command_line.cpp)
portico_unit_test(test_client_errors ${CMAKE_CURRENT_LIST_DIR}/test_client_errors.cpp)

target_compile_definitions(test_client_errors PRIVATE PORTICOCTL_PATH="$<TARGET_FILE:porticoctl>")
add_dependencies(test_client_errors porticoctl)

# Issue 4: the conntrack stream reader, fed real frames through a real pipe.
portico_unit_test(test_client_conntrack_stream ${CMAKE_CURRENT_LIST_DIR}/test_client_conntrack_stream.cpp)

# issue 5
portico_unit_test(test_client_trace_reader ${CMAKE_CURRENT_LIST_DIR}/test_client_trace_reader.cpp)
