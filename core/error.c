/* The core's single error path: a thread-local message set by nd_fail(). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char nd_msg[512];
static _Thread_local int nd_msg_code;

int nd_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(nd_msg, sizeof nd_msg, fmt, ap);
    va_end(ap);
    nd_msg_code = code;
    return code;
}

const char *nd_errmsg(void)
{
    return nd_msg[0] ? nd_msg : nd_strerror(nd_msg_code);
}

void nd_errclear(void)
{
    nd_msg[0] = '\0';
    nd_msg_code = ND_OK;
}

const char *nd_strerror(int code)
{
    switch (code) {
#define ND_X_CASE(name, value, text) \
    case value:                      \
        return text;
        ND_ERRORS(ND_X_CASE)
#undef ND_X_CASE
    }
    return "unknown error";
}
