/* The few pthread declarations examples/c-threads/main.c uses.
 *
 * Debian's wasi-libc headers are those of its single-threaded build and have
 * no <pthread.h>; the library the program links is Rust's self-contained
 * wasi-libc for wasm32-wasip1-threads (musl's pthreads). Debian's
 * <bits/alltypes.h> already defines the pthread types with that library's
 * layouts, so the declarations below are all that is missing. */
#ifndef WASI_VIRT_EXAMPLE_PTHREAD_H
#define WASI_VIRT_EXAMPLE_PTHREAD_H

#define __NEED_pthread_t
#define __NEED_pthread_attr_t
#define __NEED_pthread_mutex_t
#define __NEED_pthread_mutexattr_t
#include <bits/alltypes.h>

/* A mutex of all zero bytes is an unlocked default mutex. */
#define PTHREAD_MUTEX_INITIALIZER {{{0}}}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                   void *(*start)(void *), void *arg);
int pthread_join(pthread_t thread, void **result);
int pthread_mutex_lock(pthread_mutex_t *mutex);
int pthread_mutex_unlock(pthread_mutex_t *mutex);

#endif
