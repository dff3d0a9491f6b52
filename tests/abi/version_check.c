/* The version compiled into the shared library, the one in the generated
 * <sipsess/version.h> and the one the Makefile builds (EXPECT_VERSION) must
 * be the same. Prints one line; exit status 0 when they agree. */
#include <stdio.h>
#include <string.h>

#include <sipsess/sipsess.h>

#ifndef EXPECT_VERSION
#error "build with -DEXPECT_VERSION=\"x.y.z\""
#endif

int main(void)
{
    const char *rt = sipsess_version();
    unsigned rtnum = sipsess_version_number();
    unsigned hdrnum = SIPSESS_VERSION_MAJOR * 10000u + SIPSESS_VERSION_MINOR * 100u +
                      SIPSESS_VERSION_PATCH;
    char fromparts[32];

    snprintf(fromparts, sizeof fromparts, "%d.%d.%d", SIPSESS_VERSION_MAJOR,
             SIPSESS_VERSION_MINOR, SIPSESS_VERSION_PATCH);
    if (rt == NULL || strcmp(rt, SIPSESS_VERSION_STRING) != 0 ||
        strcmp(rt, EXPECT_VERSION) != 0 || strcmp(fromparts, EXPECT_VERSION) != 0 ||
        rtnum != SIPSESS_VERSION_NUMBER || rtnum != hdrnum) {
        printf("version mismatch: sipsess_version()=%s (%u), version.h=%s (%u), "
               "Makefile=%s\n", rt ? rt : "(null)", rtnum, SIPSESS_VERSION_STRING,
               (unsigned)SIPSESS_VERSION_NUMBER, EXPECT_VERSION);
        return 1;
    }
    printf("sipsess_version() %s = version.h = Makefile, number %u\n", rt, rtnum);
    return 0;
}
