// C11 threads (<threads.h>) over POSIX threads, linked only into ThreadSanitizer builds
// (CMake option KA_TSAN). Debian's librdkafka creates its threads and takes its locks with C11
// thrd_create/mtx_lock/cnd_wait; glibc implements those without going through the pthread
// functions ThreadSanitizer intercepts, so TSan never learns of librdkafka's threads (the first
// allocation on one crashes inside the TSan runtime) nor of its locks (the hand-over of data
// between librdkafka's threads and ours would look like races). Each binary of the TSan build
// defines these functions itself, ahead of libc in symbol lookup, in terms of the intercepted
// pthread calls. glibc's C11 types wrap the pthread ones (same size and layout).
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "glibc mtx_t wraps pthread_mutex_t");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "glibc cnd_t wraps pthread_cond_t");
_Static_assert(sizeof(once_flag) == sizeof(pthread_once_t), "glibc once_flag wraps pthread_once_t");

static int FromErrno(int err) {
  switch (err) {
    case 0: return thrd_success;
    case ETIMEDOUT: return thrd_timedout;
    case EBUSY: return thrd_busy;
    case ENOMEM: return thrd_nomem;
    default: return thrd_error;
  }
}

struct Start {
  thrd_start_t func;
  void* arg;
};

static void* Trampoline(void* p) {
  struct Start s = *(struct Start*)p;
  free(p);
  return (void*)(intptr_t)s.func(s.arg);
}

int thrd_create(thrd_t* thr, thrd_start_t func, void* arg) {
  struct Start* s = malloc(sizeof *s);
  if (s == NULL) return thrd_nomem;
  s->func = func;
  s->arg = arg;
  const int err = pthread_create((pthread_t*)thr, NULL, Trampoline, s);
  if (err != 0) free(s);
  return FromErrno(err);
}

int thrd_join(thrd_t thr, int* res) {
  void* ret = NULL;
  const int err = pthread_join((pthread_t)thr, &ret);
  if (err == 0 && res != NULL) *res = (int)(intptr_t)ret;
  return FromErrno(err);
}

int thrd_detach(thrd_t thr) { return FromErrno(pthread_detach((pthread_t)thr)); }

int mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (type & mtx_recursive) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  const int err = pthread_mutex_init((pthread_mutex_t*)m, &attr);
  pthread_mutexattr_destroy(&attr);
  return FromErrno(err);
}
void mtx_destroy(mtx_t* m) { pthread_mutex_destroy((pthread_mutex_t*)m); }
int mtx_lock(mtx_t* m) { return FromErrno(pthread_mutex_lock((pthread_mutex_t*)m)); }
int mtx_trylock(mtx_t* m) { return FromErrno(pthread_mutex_trylock((pthread_mutex_t*)m)); }
int mtx_unlock(mtx_t* m) { return FromErrno(pthread_mutex_unlock((pthread_mutex_t*)m)); }

int cnd_init(cnd_t* c) { return FromErrno(pthread_cond_init((pthread_cond_t*)c, NULL)); }
void cnd_destroy(cnd_t* c) { pthread_cond_destroy((pthread_cond_t*)c); }
int cnd_signal(cnd_t* c) { return FromErrno(pthread_cond_signal((pthread_cond_t*)c)); }
int cnd_broadcast(cnd_t* c) { return FromErrno(pthread_cond_broadcast((pthread_cond_t*)c)); }
int cnd_wait(cnd_t* c, mtx_t* m) {
  return FromErrno(pthread_cond_wait((pthread_cond_t*)c, (pthread_mutex_t*)m));
}
int cnd_timedwait(cnd_t* restrict c, mtx_t* restrict m, const struct timespec* restrict until) {
  return FromErrno(pthread_cond_timedwait((pthread_cond_t*)c, (pthread_mutex_t*)m, until));
}

void call_once(once_flag* flag, void (*func)(void)) { pthread_once((pthread_once_t*)flag, func); }
