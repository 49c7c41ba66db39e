/* A valid test plugin, "testgood": the control case of the loader tests. */
#include "broken_common.h"
static const nd_plugin desc = {ND_TEST_PLUGIN("testgood")};
ND_TEST_ENTRY(desc)
