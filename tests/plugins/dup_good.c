/* Valid, but named like good.c: the loader must refuse the second "testgood". */
#include "broken_common.h"
static const nd_plugin desc = {ND_TEST_PLUGIN("testgood")};
ND_TEST_ENTRY(desc)
