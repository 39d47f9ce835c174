# SPDX-License-Identifier: GPL-3.0-or-later
# Unit tests of common/: validation rules and the JSON and a{sv} forms.
set(PORTICO_TEST_LIBS portico_common)
portico_unit_test(test_common_validation test_common_validation.cpp)
portico_unit_test(test_common_serialization test_common_serialization.cpp)
portico_unit_test(test_common_sealed_file test_common_sealed_file.cpp)
