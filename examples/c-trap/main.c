/* c-trap: a C target program (wasi-libc) that ends in the ways C programs
 * do: abort() (the default), __builtin_trap(), exit(N), or returning.
 *
 *   clang --target=wasm32-wasi --sysroot=/usr -O2 main.c -o c-trap.wasm
 *   c-trap [abort | trap | exit N | ok]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *command = argc > 1 ? argv[1] : "abort";
    printf("c-trap: %s\n", command);
    fflush(stdout);
    if (strcmp(command, "trap") == 0) {
        __builtin_trap();
    }
    if (strcmp(command, "exit") == 0) {
        exit(argc > 2 ? atoi(argv[2]) : 1);
    }
    if (strcmp(command, "ok") == 0) {
        return 0;
    }
    abort();
}
