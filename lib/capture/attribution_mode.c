/* The values of the capture's `attribution` parameter. */
#include <string.h>
#include <strings.h>

#include "capture/capture_int.h"

static const struct {
    const char *text;
    fk__attribution_mode mode;
} names[] = {
    {"off", FK__ATTRIBUTION_OFF},
    {"auto", FK__ATTRIBUTION_AUTO},
    {"bpf", FK__ATTRIBUTION_BPF},
    {"sockdiag", FK__ATTRIBUTION_SOCKDIAG},
    /* the parameter was a bool */
    {"0", FK__ATTRIBUTION_OFF},
    {"false", FK__ATTRIBUTION_OFF},
    {"no", FK__ATTRIBUTION_OFF},
    {"1", FK__ATTRIBUTION_AUTO},
    {"true", FK__ATTRIBUTION_AUTO},
    {"yes", FK__ATTRIBUTION_AUTO},
    {"on", FK__ATTRIBUTION_AUTO},
};

fk__attribution_mode fk__attribution_mode_parse(const char *text)
{
    if (!text)
        return FK__ATTRIBUTION_INVALID;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(text, names[i].text) == 0)
            return names[i].mode;
    return FK__ATTRIBUTION_INVALID;
}

const char *fk__attribution_mode_name(fk__attribution_mode m)
{
    for (size_t i = 0; i < 4; i++)
        if (names[i].mode == m)
            return names[i].text;
    return NULL;
}

fk__attribution_mode fk__capture_attribution(const fk_capture *h)
{
    return fk__attribution_mode_parse(fk__params_str(&h->params, FK_CAP_ATTRIBUTION));
}
