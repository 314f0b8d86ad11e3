#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTHREADS 4

/* ---- spawn ---- */
struct sum_arg { int idx; unsigned long long result; };

static void *sum_worker(void *p) {
    struct sum_arg *a = p;
    unsigned long long s = 0;
    for (unsigned long long k = 1; k <= (unsigned long long)a->idx * 1000; k++) s += k;
    a->result = s;
    return NULL;
}

static int case_spawn(void) {
    pthread_t th[NTHREADS];
    struct sum_arg args[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        args[i].idx = i + 1;
        args[i].result = 0;
        int rc = pthread_create(&th[i], NULL, sum_worker, &args[i]);
        if (rc != 0) { fprintf(stderr, "pthread_create failed: %d (%s)\n", rc, strerror(rc)); return 1; }
    }
    for (int i = 0; i < NTHREADS; i++) {
        int rc = pthread_join(th[i], NULL);
        if (rc != 0) { fprintf(stderr, "pthread_join failed: %d\n", rc); return 1; }
    }
    for (int i = 0; i < NTHREADS; i++)
        printf("thread %d: %llu\n", args[i].idx, args[i].result);
    return 0;
}

/* ---- mutex ---- */
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter = 0;

static void *inc_worker(void *p) {
    (void)p;
    for (int k = 0; k < 1000; k++) {
        pthread_mutex_lock(&counter_lock);
        long c = counter;
        counter = c + 1;
        pthread_mutex_unlock(&counter_lock);
    }
    return NULL;
}

static int case_mutex(void) {
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        int rc = pthread_create(&th[i], NULL, inc_worker, NULL);
        if (rc != 0) { fprintf(stderr, "pthread_create failed: %d (%s)\n", rc, strerror(rc)); return 1; }
    }
    for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
    printf("counter: %ld\n", counter);
    return counter == NTHREADS * 1000 ? 0 : 1;
}

/* ---- files ---- */
struct file_arg { int idx; int ok; };

static void *file_worker(void *p) {
    struct file_arg *a = p;
    char path[64];
    snprintf(path, sizeof path, "/tmp/t%d.txt", a->idx);
    FILE *f = fopen(path, "w");
    if (!f) { a->ok = 0; return NULL; }
    fprintf(f, "hello from thread %d\n", a->idx);
    a->ok = fclose(f) == 0;
    return NULL;
}

static int case_files(void) {
    pthread_t th[NTHREADS];
    struct file_arg args[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        args[i].idx = i + 1;
        args[i].ok = 0;
        int rc = pthread_create(&th[i], NULL, file_worker, &args[i]);
        if (rc != 0) { fprintf(stderr, "pthread_create failed: %d (%s)\n", rc, strerror(rc)); return 1; }
    }
    for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
    int status = 0;
    for (int i = 0; i < NTHREADS; i++) {
        char path[64], buf[256];
        snprintf(path, sizeof path, "/tmp/t%d.txt", args[i].idx);
        if (!args[i].ok) { fprintf(stderr, "thread %d failed to write %s\n", args[i].idx, path); status = 1; continue; }
        FILE *f = fopen(path, "r");
        if (!f) { perror(path); status = 1; continue; }
        printf("%s: ", path);
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
        fclose(f);
    }
    return status;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s spawn|mutex|files\n", argv[0]); return 2; }
    if (!strcmp(argv[1], "spawn")) return case_spawn();
    if (!strcmp(argv[1], "mutex")) return case_mutex();
    if (!strcmp(argv[1], "files")) return case_files();
    fprintf(stderr, "unknown case: %s\n", argv[1]);
    return 2;
}
