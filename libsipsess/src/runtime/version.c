/* Runtime version query; the numbers come from the generated version.h. */
#include "sipsess/common.h"
#include "sipsess/version.h"

SIPSESS_API const char *sipsess_version(void)
{
    return SIPSESS_VERSION_STRING;
}

SIPSESS_API unsigned sipsess_version_number(void)
{
    return SIPSESS_VERSION_NUMBER;
}
