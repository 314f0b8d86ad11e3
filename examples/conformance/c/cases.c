/* Conformance cases in C on wasi-libc: `cases CASE`. Each prints what it
 * sees (errors as strerror), nothing that depends on timestamps, inode
 * numbers or the order a host lists a directory in. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

extern char **environ;

static void result(const char *what, int r) {
    if (r < 0)
        printf("%s: %s\n", what, strerror(errno));
    else
        printf("%s: ok %d\n", what, r);
}

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void listing(const char *path) {
    DIR *d = opendir(path);
    if (!d) {
        printf("opendir %s: %s\n", path, strerror(errno));
        return;
    }
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        char buf[300];
        const char *t = e->d_type == DT_DIR ? "dir" : e->d_type == DT_LNK ? "symlink" : "file";
        snprintf(buf, sizeof buf, "%s:%s", e->d_name, t);
        names[n++] = strdup(buf);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    printf("%s:", path);
    for (int i = 0; i < n; i++)
        printf(" %s", names[i]);
    printf("\n");
}

static void stdio_case(void) {
    FILE *f = fopen("/c.txt", "w");
    printf("fopen w: %s\n", f ? "ok" : strerror(errno));
    fprintf(f, "line %d\nline %d\n", 1, 2);
    fclose(f);
    f = fopen("/c.txt", "a+");
    fputs("line 3\n", f);
    fseek(f, 0, SEEK_SET);
    char buf[64];
    while (fgets(buf, sizeof buf, f))
        printf("read: %s", buf);
    printf("ftell: %ld\n", ftell(f));
    fclose(f);
    struct stat st;
    result("stat /c.txt", stat("/c.txt", &st));
    printf("size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    int fd = open("/digits.txt", O_RDWR);
    result("lseek end", (int)lseek(fd, -4, SEEK_END));
    result("read", (int)read(fd, buf, sizeof buf));
    result("ftruncate", ftruncate(fd, 10));
    result("pwrite", (int)pwrite(fd, "PW", 2, 20));
    result("fstat", fstat(fd, &st));
    printf("size %lld\n", (long long)st.st_size);
    close(fd);
    result("open O_CREAT|O_EXCL existing", open("/hello.txt", O_CREAT | O_EXCL | O_WRONLY, 0644));
    result("open missing", open("/missing", O_RDONLY));
    result("open a dir for writing", open("/dir", O_WRONLY));
    result("access hello.txt", access("/hello.txt", R_OK));
    result("access missing", access("/missing", F_OK));
}

static void dirs_case(void) {
    listing("/");
    listing("/dir");
    result("mkdir /new", mkdir("/new", 0755));
    result("mkdir /new again", mkdir("/new", 0755));
    result("rmdir /notempty", rmdir("/notempty"));
    result("unlink /dir", unlink("/dir"));
    result("rename /dir /new", rename("/dir", "/new"));
    listing("/new");
    result("rename /hello.txt /tmp/h.txt", rename("/hello.txt", "/tmp/h.txt"));
    listing("/tmp");
    result("unlink /notempty/x.txt", unlink("/notempty/x.txt"));
    result("rmdir /notempty", rmdir("/notempty"));
    result("chdir /new/sub", chdir("/new/sub"));
    char cwd[256];
    printf("getcwd: %s\n", getcwd(cwd, sizeof cwd) ? cwd : strerror(errno));
    FILE *f = fopen("relative.txt", "w");
    printf("relative fopen: %s\n", f ? "ok" : strerror(errno));
    if (f)
        fclose(f);
    listing(".");
}

static void links_case(void) {
    char buf[64];
    ssize_t n = readlink("/link-file", buf, sizeof buf);
    printf("readlink: %.*s\n", (int)(n < 0 ? 0 : n), buf);
    result("symlink", symlink("dir/a.txt", "/to-a"));
    struct stat st;
    result("lstat", lstat("/to-a", &st));
    printf("is link %d\n", S_ISLNK(st.st_mode));
    result("stat", stat("/to-a", &st));
    printf("size %lld\n", (long long)st.st_size);
    result("link", link("/dir/b.txt", "/b-link"));
    result("stat", stat("/b-link", &st));
    printf("nlink %lld\n", (long long)st.st_nlink);
    result("stat loop", stat("/loop", &st));
    result("stat dangling", stat("/dangling", &st));
    result("unlink link-dir", unlink("/link-dir"));
}

static void env_case(int argc, char **argv) {
    for (int i = 2; i < argc; i++)
        printf("argv[%d] = %s\n", i, argv[i]);
    int n = 0;
    for (char **e = environ; *e; e++)
        n++;
    printf("environ: %d\n", n);
    const char *g = getenv("GREETING");
    printf("GREETING: %s\n", g ? g : "(unset)");
    printf("MISSING: %s\n", getenv("MISSING") ? "set" : "(unset)");
}

static void time_case(void) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct timespec d = {0, 2000000};
    result("nanosleep 2ms", nanosleep(&d, NULL));
    clock_gettime(CLOCK_MONOTONIC, &b);
    long long ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
    printf("slept 2ms: %d\n", ns >= 2000000);
    printf("after 2000: %d\n", time(NULL) >= 946684800);
    result("usleep", usleep(1000));
}

static void poll_case(void) {
    int fd = open("/digits.txt", O_RDONLY);
    /* One fd per call: wasmtime answers a file's read readiness a moment
     * later than stdout's, so a call with both may report either. */
    struct pollfd p = {fd, POLLIN, 0};
    result("poll file", poll(&p, 1, 1000));
    printf("revents %d\n", p.revents);
    struct pollfd q = {1, POLLOUT, 0};
    result("poll stdout", poll(&q, 1, 1000));
    printf("revents %d\n", q.revents);
    result("poll timeout only", poll(NULL, 0, 3));
}

static void tty_case(void) {
    for (int fd = 0; fd < 3; fd++) {
        __wasi_fdstat_t st;
        int e = __wasi_fd_fdstat_get(fd, &st);
        printf("fd %d: errno %d filetype %d isatty %d rights %#llx inheriting %#llx\n", fd, e,
               st.fs_filetype, isatty(fd), (unsigned long long)st.fs_rights_base,
               (unsigned long long)st.fs_rights_inheriting);
    }
}

static void escape_case(void) {
    result("open ../x", open("/../x", O_RDONLY));
    result("open /dir/../../x", open("/dir/../../x", O_RDONLY));
}

int main(int argc, char **argv) {
    const char *c = argc > 1 ? argv[1] : "";
    if (!strcmp(c, "stdio"))
        stdio_case();
    else if (!strcmp(c, "dirs"))
        dirs_case();
    else if (!strcmp(c, "links"))
        links_case();
    else if (!strcmp(c, "env"))
        env_case(argc, argv);
    else if (!strcmp(c, "time"))
        time_case();
    else if (!strcmp(c, "poll"))
        poll_case();
    else if (!strcmp(c, "tty"))
        tty_case();
    else if (!strcmp(c, "escape"))
        escape_case();
    else if (!strcmp(c, "exit")) {
        printf("exiting with 5\n");
        exit(5);
    } else {
        fprintf(stderr, "unknown case %s\n", c);
        return 2;
    }
    return 0;
}
