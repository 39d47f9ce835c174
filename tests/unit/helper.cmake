# SPDX-License-Identifier: GPL-3.0-or-later
# Unit tests of the ruleset compiler and its nft text: no kernel needed.
set(PORTICO_TEST_LIBS portico_ruleset)
portico_unit_test(test_ruleset_compiler test_ruleset_compiler.cpp)
portico_unit_test(test_ruleset_netlink test_ruleset_netlink.cpp)
# issue 5: the ruleset reader's and the trace's parsers, fed with recorded kernel messages.
set(PORTICO_TEST_LIBS portico_trace)
portico_unit_test(test_ruleset_reader test_ruleset_reader.cpp)
