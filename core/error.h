/* Status codes and the one error path of the core: a failing function records a
 * message with nd_fail() and returns the negative code; the caller that reports it
 * reads nd_errmsg(). The message is per thread, so workers never clobber each other. */
#ifndef ND_ERROR_H
#define ND_ERROR_H

/* X(name, value, text) */
#define ND_ERRORS(X)                                   \
    X(ND_OK, 0, "success")                             \
    X(ND_ENOMEM, -1, "out of memory")                  \
    X(ND_EIO, -2, "input/output error")                \
    X(ND_EFORMAT, -3, "malformed input")               \
    X(ND_EUSAGE, -4, "usage error")                    \
    X(ND_EPLUGIN, -5, "plugin error")                  \
    X(ND_ELIMIT, -6, "limit exceeded")                 \
    X(ND_EEXIST, -7, "refused to overwrite")           \
    X(ND_EINTR, -8, "interrupted")                     \
    X(ND_EINTERNAL, -9, "internal error")

enum nd_status {
#define ND_X_ENUM(name, value, text) name = value,
    ND_ERRORS(ND_X_ENUM)
#undef ND_X_ENUM
};

#if defined(__GNUC__)
#define ND_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ND_PRINTF(f, a)
#endif

/* Record "message" for this thread and return code (always negative for failures). */
int nd_fail(int code, const char *fmt, ...) ND_PRINTF(2, 3);
/* The last message recorded on this thread, or the code's text if none. */
const char *nd_errmsg(void);
/* Clear this thread's message. */
void nd_errclear(void);
/* Fixed text of a code, never NULL. */
const char *nd_strerror(int code);

#endif
