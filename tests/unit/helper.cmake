# SPDX-License-Identifier: GPL-3.0-or-later
# Unit tests of the ruleset compiler and its nft text: no kernel needed.
set(PORTICO_TEST_LIBS portico_ruleset)
portico_unit_test(test_ruleset_compiler test_ruleset_compiler.cpp)
portico_unit_test(test_ruleset_netlink test_ruleset_netlink.cpp)
