/* nodelay_preload.c: an LD_PRELOAD shim that sets TCP_NODELAY on every accepted socket.
 *
 * bench/compare runs the test API server under it. cpp-httplib writes a response's headers and
 * body in two segments without TCP_NODELAY, so Nagle holds the body until the client's delayed
 * ACK: ~40 ms per request on loopback, for any client. A real kube-apiserver (Go) sets
 * TCP_NODELAY on every connection, so with the shim the test server behaves like it in this
 * respect and the "first decision" figures measure the autoscalers, not the server.
 * Build: cc -shared -fPIC -O2 -o nodelay_preload.so nodelay_preload.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/socket.h>

static int NoDelay(int fd) {
  const int one = 1;
  if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int accept(int s, struct sockaddr* addr, socklen_t* len) {
  static int (*real)(int, struct sockaddr*, socklen_t*);
  if (real == NULL) real = (int (*)(int, struct sockaddr*, socklen_t*))dlsym(RTLD_NEXT, "accept");
  return NoDelay(real(s, addr, len));
}

int accept4(int s, struct sockaddr* addr, socklen_t* len, int flags) {
  static int (*real)(int, struct sockaddr*, socklen_t*, int);
  if (real == NULL) {
    real = (int (*)(int, struct sockaddr*, socklen_t*, int))dlsym(RTLD_NEXT, "accept4");
  }
  return NoDelay(real(s, addr, len, flags));
}
