#include <flowkit/version.h>

const char *fk_version_string(void)
{
    return FK_VERSION_STRING;
}

int fk_version_number(void)
{
    return FK_VERSION_NUMBER;
}
