/* Test helper for end-to-end tests of the neardup binary: run it with arguments (and
 * optionally one environment variable), capture exit code, stdout and stderr; write
 * crawl files; read files back. Include after <cmocka.h>; call cli_init() in main. */
#ifndef ND_CLI_HARNESS_H
#define ND_CLI_HARNESS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char cli_build_dir[1024], cli_bin[1040];

struct result {
    int code;
    char *out, *err;
};

/* build/neardup of the build under test (ND_BUILD_DIR, else build). */
static inline void cli_init(void)
{
    const char *b = getenv("ND_BUILD_DIR");
    snprintf(cli_build_dir, sizeof cli_build_dir, "%s/%s", ND_SOURCE_DIR, b ? b : "build");
    snprintf(cli_bin, sizeof cli_bin, "%s/neardup", cli_build_dir);
}

/* The whole file, NUL-terminated; "" when it cannot be read. */
static inline char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)(n > 0 ? n : 0) + 1);
    size_t got = n > 0 ? fread(p, 1, (size_t)n, f) : 0;
    p[got] = '\0';
    fclose(f);
    return p;
}

/* Start neardup with args (NULL-terminated); env is NULL or "NAME=VALUE", several
 * separated by spaces. */
static inline pid_t spawn_nd(const char *env, const char *const *args, int fo, int fe)
{
    const char *argv[64];
    size_t n = 0;
    argv[n++] = cli_bin;
    for (; args[n - 1] && n < 63; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *e = env ? strdup(env) : NULL; /* the child execs or exits: not freed */
        for (char *t = e ? strtok(e, " ") : NULL; t; t = strtok(NULL, " "))
            putenv(t);
        dup2(fo, 1);
        dup2(fe, 2);
        execv(cli_bin, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static inline struct result run_env(const char *env, const char *const *args)
{
    char outp[] = "/tmp/nd-test-out-XXXXXX", errp[] = "/tmp/nd-test-err-XXXXXX";
    int fo = mkstemp(outp), fe = mkstemp(errp);
    assert_true(fo >= 0 && fe >= 0);
    pid_t pid = spawn_nd(env, args, fo, fe);
    int st;
    waitpid(pid, &st, 0);
    close(fo);
    close(fe);
    struct result r = {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), slurp(outp),
                       slurp(errp)};
    unlink(outp);
    unlink(errp);
    return r;
}

static inline struct result run_nd(const char *const *args)
{
    return run_env(NULL, args);
}

static inline void result_free(struct result *r)
{
    free(r->out);
    free(r->err);
}

/* dir/name (one level of folder created as needed) holding len bytes of text. */
static inline void write_bytes(const char *dir, const char *name, const char *text, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0755);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static inline void write_file(const char *dir, const char *name, const char *text)
{
    write_bytes(dir, name, text, strlen(text));
}

/* A shell command that must succeed. */
static inline void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static inline void rm_rf(const char *dir)
{
    sh("rm -rf '%s'", dir);
}

#endif
