/* check.h - minimal assertions for unit tests. Each CHECK* is an expression that
 * evaluates to true when it held; a failure prints file:line and what differed, is
 * counted, and the test goes on. End main() with `return check_summary("name");`,
 * which returns non-zero when any check failed (CTest then reports the test failed).
 *
 *   CHECK(cond)               any condition
 *   CHECK_EQ_INT(a, b)        integers (compared as long long, printed on failure)
 *   CHECK_MEM(a, b, n)        n bytes equal (first difference shown in hex)
 *   CHECK_STR(a, b)           C strings equal (NULL allowed)
 *   CHECK_CONTAINS(s, sub)    s contains sub
 * One test program = one translation unit: the counters live in this header. */
#ifndef TEST_CHECK_H
#define TEST_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct check_state {
    int checks, failures;
};

static inline struct check_state *check_state_(void)
{
    static struct check_state s;
    return &s;
}

static inline bool check_result_(bool ok)
{
    check_state_()->checks++;
    if (!ok)
        check_state_()->failures++;
    return ok;
}

static inline bool check_true_(bool ok, const char *expr, const char *file, int line)
{
    if (!ok)
        fprintf(stderr, "%s:%d: CHECK(%s) failed\n", file, line, expr);
    return check_result_(ok);
}

static inline bool check_eq_int_(long long a, long long b, const char *ea, const char *eb,
                                 const char *file, int line)
{
    if (a != b)
        fprintf(stderr, "%s:%d: CHECK_EQ_INT(%s, %s) failed: %lld (0x%llx) != %lld (0x%llx)\n",
                file, line, ea, eb, a, (unsigned long long)a, b, (unsigned long long)b);
    return check_result_(a == b);
}

static inline bool check_mem_(const void *a, const void *b, size_t n, const char *ea,
                              const char *eb, const char *file, int line)
{
    if (!a || !b) {
        fprintf(stderr, "%s:%d: CHECK_MEM(%s, %s) failed: NULL pointer\n", file, line, ea, eb);
        return check_result_(false);
    }
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i]) {
            fprintf(stderr, "%s:%d: CHECK_MEM(%s, %s, %zu) failed: first difference at offset "
                            "%zu: %02x != %02x\n", file, line, ea, eb, n, i, x[i], y[i]);
            return check_result_(false);
        }
    }
    return check_result_(true);
}

static inline bool check_str_(const char *a, const char *b, const char *ea, const char *eb,
                              const char *file, int line)
{
    bool ok = (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
    if (!ok)
        fprintf(stderr, "%s:%d: CHECK_STR(%s, %s) failed: \"%s\" != \"%s\"\n", file, line, ea, eb,
                a ? a : "(null)", b ? b : "(null)");
    return check_result_(ok);
}

static inline bool check_contains_(const char *s, const char *sub, const char *es, const char *esub,
                                   const char *file, int line)
{
    bool ok = s && sub && strstr(s, sub) != NULL;
    if (!ok)
        fprintf(stderr, "%s:%d: CHECK_CONTAINS(%s, %s) failed: \"%s\" does not contain \"%s\"\n",
                file, line, es, esub, s ? s : "(null)", sub ? sub : "(null)");
    return check_result_(ok);
}

#define CHECK(cond) check_true_(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ_INT(a, b) \
    check_eq_int_((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_MEM(a, b, n) check_mem_((a), (b), (n), #a, #b, __FILE__, __LINE__)
#define CHECK_STR(a, b) check_str_((a), (b), #a, #b, __FILE__, __LINE__)
#define CHECK_CONTAINS(s, sub) check_contains_((s), (sub), #s, #sub, __FILE__, __LINE__)

/* Print "name: N checks, M failed" and return the process exit status (0 = all held). */
static inline int check_summary(const char *name)
{
    struct check_state *s = check_state_();
    if (s->checks == 0) { /* a test that checked nothing proves nothing */
        fprintf(stderr, "%s: no checks ran\n", name);
        return 1;
    }
    printf("%s: %d checks, %d failed\n", name, s->checks, s->failures);
    return s->failures ? 1 : 0;
}

/* A test program made of named cases, run one at a time by CTest: `PROG CASE ARG...`.
 *
 *   static const check_case cases[] = {{"unchanged", case_unchanged}, {"all", case_all}};
 *   int main(int argc, char **argv)
 *   {
 *       if (!CHECK_ARGS(argc, argv, "ESP32SIM PROFILE_DIR", &g_sim, &g_dir))
 *           return 2;
 *       return CHECK_RUN_CASE(argv[1], cases);
 *   }
 */
typedef struct check_case {
    const char *name;
    void (*run)(void);
} check_case;

/* argv is PROG CASE and then exactly one argument per out[] entry (NULL-terminated), each
 * stored there in order; otherwise the usage ("CASE " + usage) is printed and false returned. */
static inline bool check_args(int argc, char **argv, const char *usage, const char **const *out)
{
    int n = 0;
    while (out[n])
        n++;
    if (argc != n + 2) {
        fprintf(stderr, "usage: %s CASE %s\n", argv[0], usage);
        return false;
    }
    for (int i = 0; i < n; i++)
        *out[i] = argv[i + 2];
    return true;
}
#define CHECK_ARGS(argc, argv, usage, ...) \
    check_args((argc), (argv), (usage), (const char **const[]){__VA_ARGS__, NULL})

/* The case called name, or NULL (said on stderr) when cases[] has none of that name. For
 * a program that has something to do between the case and check_summary. */
static inline const check_case *check_find_case(const char *name, const check_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(cases[i].name, name))
            return &cases[i];
    fprintf(stderr, "unknown case %s\n", name);
    return NULL;
}
#define CHECK_FIND_CASE(name, cases) check_find_case((name), (cases), sizeof(cases) / sizeof((cases)[0]))

/* Run the case called name and return check_summary(name); 2 (a usage error, said on
 * stderr) when cases[] has no case of that name. */
static inline int check_run_case(const char *name, const check_case *cases, size_t n)
{
    const check_case *k = check_find_case(name, cases, n);
    if (!k)
        return 2;
    k->run();
    return check_summary(name);
}
#define CHECK_RUN_CASE(name, cases) check_run_case((name), (cases), sizeof(cases) / sizeof((cases)[0]))

#endif
