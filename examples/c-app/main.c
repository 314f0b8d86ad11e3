/*
 * c-app: a WASI preview1 target program in C (wasi-libc), for `wasi-virt
 * pack`'s tests: it reads, writes, lists and stats files in two mounted
 * folders, /site and /data, and prints what it sees in a stable order
 * (sorted listings, no times, no inode numbers), so that a run under
 * wasmtime's host WASI and a run of the packed module compare byte for byte.
 *
 *   clang --target=wasm32-wasi --sysroot=/usr -O2 -o c-app.wasm main.c
 *   wasmtime run --dir ./site::/site --dir ./data::/data c-app.wasm a b
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENTRIES 256

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints every entry under `dir`, depth first, sorted by name. */
static void tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        printf("%s: error: %s\n", dir, strerror(errno));
        return;
    }
    char *names[MAX_ENTRIES];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < MAX_ENTRIES) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (int i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (lstat(path, &st) != 0) {
            printf("%s: error: %s\n", path, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            printf("%s/\n", path);
            tree(path);
        } else if (S_ISLNK(st.st_mode)) {
            char target[256];
            ssize_t len = readlink(path, target, sizeof target - 1);
            target[len > 0 ? len : 0] = '\0';
            printf("%s -> %s\n", path, target);
        } else {
            printf("%s (%lld bytes)\n", path, (long long)st.st_size);
        }
        free(names[i]);
    }
}

/* Prints a file's contents, or the error. */
static void cat(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("%s: error: %s\n", path, strerror(errno));
        return;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        fwrite(buf, 1, n, stdout);
    }
    fclose(f);
}

int main(int argc, char **argv) {
    printf("== args\n");
    for (int i = 1; i < argc; i++) {
        printf("%s\n", argv[i]);
    }
    const char *greeting = getenv("GREETING");
    printf("== env\nGREETING=%s\n", greeting ? greeting : "(unset)");

    printf("== tree /site\n");
    tree("/site");
    printf("== read /site/hello.txt\n");
    cat("/site/hello.txt");
    printf("== read /data/link (a symlink)\n");
    cat("/data/link");

    printf("== write /data\n");
    if (mkdir("/data/new", 0755) != 0) {
        printf("mkdir: error: %s\n", strerror(errno));
    }
    FILE *log = fopen("/data/new/log.txt", "w");
    if (log) {
        fputs("first\n", log);
        fclose(log);
    }
    log = fopen("/data/new/log.txt", "a");
    if (log) {
        fputs("second\n", log);
        fclose(log);
    }
    cat("/data/new/log.txt");
    if (rename("/data/new/log.txt", "/data/new/renamed.txt") != 0) {
        printf("rename: error: %s\n", strerror(errno));
    }
    if (unlink("/data/remove-me.txt") != 0) {
        printf("unlink: error: %s\n", strerror(errno));
    }
    int fd = open("/data/input.txt", O_RDWR);
    if (fd >= 0) {
        pwrite(fd, "XY", 2, 3);
        close(fd);
    }
    cat("/data/input.txt");

    printf("== stat\n");
    const char *paths[] = {"/site/docs/guide.txt", "/site/docs", "/data/new/renamed.txt",
                           "/data/remove-me.txt", "/nowhere/x"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            printf("%s: error: %s\n", paths[i], strerror(errno));
        } else {
            printf("%s: %s, %lld bytes\n", paths[i], S_ISDIR(st.st_mode) ? "dir" : "file",
                   S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
        }
    }
    printf("== tree /data\n");
    tree("/data");

    fprintf(stderr, "c-app: exiting with code 5\n");
    return 5;
}
