/*
 * Parse benchmark: parse every message of a corpus directory into its typed
 * form (every header, through msg_walk), free it, and repeat for about two
 * seconds. Prints one line:
 *
 *   parse ns_per_msg X msgs_per_s Y allocs_per_msg Z
 *
 * Usage: parse_bench [DIR]   (default: the bench corpus of $(SHARED))
 * BENCH_SECONDS in the environment changes the measuring time.
 * BENCH_PASSES=N runs exactly N passes instead, with no calibration: a
 * fixed amount of work for instruction counts, e.g.
 *   BENCH_PASSES=20 valgrind --tool=callgrind '--toggle-collect=run_pass*' \
 *       build/bench/parse_bench
 * (the pattern: the compiler may rename the static function, run_pass.isra.0)
 * gives the instructions of 20 passes (divide by 20 x the message count).
 *
 * Files are read as raw bytes; README.md and dot files are skipped.
 * Allocations are counted through sipsess_set_allocator, installed before
 * the library does anything else. Only the timed loop is counted.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sipsess/sipsess.h>

#include "msg_walk.h"

#ifndef BENCH_DEFAULT_DIR
#define BENCH_DEFAULT_DIR "../shared/bench-corpus"
#endif

struct counts {
    unsigned long long mallocs, reallocs, frees;
};
static struct counts g_counts;

static void *count_malloc(size_t size, void *ud)
{
    ((struct counts *)ud)->mallocs++;
    return malloc(size);
}

static void *count_realloc(void *ptr, size_t size, void *ud)
{
    ((struct counts *)ud)->reallocs++;
    return realloc(ptr, size);
}

static void count_free(void *ptr, void *ud)
{
    ((struct counts *)ud)->frees++;
    free(ptr);
}

struct file {
    char *name;
    unsigned char *data;
    size_t len;
};

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct file *)a)->name, ((const struct file *)b)->name);
}

static int read_file(const char *path, struct file *f)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return -1;
    size_t cap = 4096, len = 0;
    unsigned char *buf = malloc(cap);
    while (buf != NULL) {
        len += fread(buf + len, 1, cap - len, fp);
        if (len < cap)
            break;
        unsigned char *nb = realloc(buf, cap * 2);
        if (nb == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (buf == NULL || bad) {
        free(buf);
        return -1;
    }
    f->data = buf;
    f->len = len;
    return 0;
}

/* Every regular, non-hidden file of `dir` except README.md, sorted by name. */
static struct file *load_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "parse_bench: %s: %s\n", dir, strerror(errno));
        return NULL;
    }
    struct file *files = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
            continue;
        size_t plen = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(plen);
        struct stat st;
        if (path == NULL)
            break;
        snprintf(path, plen, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct file *nf = realloc(files, cap * sizeof *files);
            if (nf == NULL) {
                free(path);
                break;
            }
            files = nf;
        }
        if (read_file(path, &files[n]) != 0) {
            fprintf(stderr, "parse_bench: cannot read %s\n", path);
            free(path);
            continue;
        }
        files[n++].name = path;
    }
    closedir(d);
    qsort(files, n, sizeof *files, cmp_file);
    *count = n;
    return files;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile uint64_t g_sink;

/* One pass over the corpus: parse, read every header, free. Returns the
 * number of messages that failed (0 expected). Never inlined, so a
 * profiler can count exactly its cost by name. */
__attribute__((noinline)) static size_t run_pass(const struct file *files, size_t n)
{
    size_t failed = 0;
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        sipsess_msg *m = NULL;
        if (sipsess_msg_parse(files[i].data, files[i].len, NULL, &m, NULL) != SIPSESS_OK) {
            failed++;
            continue;
        }
        acc += msg_walk(m);
        sipsess_msg_free(m);
    }
    g_sink += acc;
    return failed;
}

int main(int argc, char **argv)
{
    /* Before anything else, so every allocation of the library is seen. */
    int err = sipsess_set_allocator(count_malloc, count_realloc, count_free, &g_counts);
    if (err != SIPSESS_OK) {
        fprintf(stderr, "parse_bench: sipsess_set_allocator: %s\n", sipsess_strerror(err));
        return 1;
    }
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: %s [CORPUS_DIR]\n", argv[0]);
        return 2;
    }
    const char *dir = argc == 2 ? argv[1] : BENCH_DEFAULT_DIR;
    double seconds = 2.0;
    const char *env = getenv("BENCH_SECONDS");
    if (env != NULL && atof(env) > 0)
        seconds = atof(env);

    size_t n = 0;
    struct file *files = load_dir(dir, &n);
    if (files == NULL || n == 0) {
        fprintf(stderr, "parse_bench: no message files in %s\n", dir);
        free(files);
        return 1;
    }

    /* Every message must parse, or the figure would measure error paths. */
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        sipsess_msg *m = NULL;
        size_t off = 0;
        err = sipsess_msg_parse(files[i].data, files[i].len, NULL, &m, &off);
        if (err != SIPSESS_OK) {
            fprintf(stderr, "parse_bench: %s: %s (%s) at offset %zu\n", files[i].name,
                    sipsess_errname(err), sipsess_strerror(err), off);
            bad = 1;
        }
        sipsess_msg_free(m);
    }
    if (bad)
        return 1;

    size_t passes = 0;
    double t0, t1;
    env = getenv("BENCH_PASSES");
    if (env != NULL && atol(env) > 0) {
        passes = (size_t)atol(env);
    } else {
        /* Calibrate: warm up for ~10% of the time, then size the run. */
        size_t iters = 0;
        t0 = now_ns();
        t1 = t0;
        while (t1 - t0 < seconds * 1e8) {
            run_pass(files, n);
            iters++;
            t1 = now_ns();
        }
        double per_pass = (t1 - t0) / (double)iters;
        passes = (size_t)(seconds * 1e9 / per_pass);
        if (passes < 1)
            passes = 1;
    }

    struct counts before = g_counts;
    t0 = now_ns();
    for (size_t p = 0; p < passes; p++)
        run_pass(files, n);
    t1 = now_ns();
    struct counts after = g_counts;

    double msgs = (double)passes * (double)n;
    double ns_per_msg = (t1 - t0) / msgs;
    double allocs = (double)(after.mallocs - before.mallocs) +
                    (double)(after.reallocs - before.reallocs);
    if (after.mallocs - before.mallocs != after.frees - before.frees)
        fprintf(stderr, "parse_bench: warning: %llu allocations but %llu frees\n",
                after.mallocs - before.mallocs, after.frees - before.frees);

    printf("parse ns_per_msg %.1f msgs_per_s %.0f allocs_per_msg %.2f\n", ns_per_msg,
           1e9 / ns_per_msg, allocs / msgs);

    for (size_t i = 0; i < n; i++) {
        free(files[i].name);
        free(files[i].data);
    }
    free(files);
    return 0;
}
