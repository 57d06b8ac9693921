/*
 * libzmq_probe.c - zguard-libzmq-probe LIBZMQ.so: what a libzmq is, asked
 * from a process in which it is the only libzmq.
 *
 * `zguard doctor --compare PREFIX` runs this to describe a staged libzmq
 * next to the one zguard itself runs on. It cannot dlopen the staged
 * library into its own process: that process already has a libzmq with
 * the same exported symbols in its global scope, and calls between the
 * second copy's public functions could bind to the first one's, so the
 * answers could mix the two. Here nothing links libzmq (or libzguard): the
 * library is dlopen()ed by path, RTLD_LOCAL, and asked through dlsym. A
 * crash in it costs only this process.
 *
 * Output, one `key=value` a line: version, path, needs_sodium, pipes_stats
 * and has.NAME for each zmq_has capability doctor knows. Exit 0, or 1
 * with the loader's message on standard error.
 */
#include "libzmq_object.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static const char *const caps[] = {"curve", "gssapi", "ipc",  "tipc", "pgm",
                                   "norm",  "ws",     "wss",  "vmci", "draft"};

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] != '/') {
        fprintf(stderr, "usage: zguard-libzmq-probe /PATH/TO/libzmq.so.5 "
                        "(run by zguard doctor --compare)\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "zguard-libzmq-probe: %s\n", dlerror());
        return 1;
    }
    void (*version)(int *, int *, int *);
    int (*has)(const char *);
    *(void **)&version = dlsym(lib, "zmq_version");
    *(void **)&has = dlsym(lib, "zmq_has");
    if (!version || !has) {
        fprintf(stderr, "zguard-libzmq-probe: %s exports no zmq_version or "
                        "zmq_has: not a libzmq 4.1 or later\n", argv[1]);
        return 1;
    }
    int major = 0, minor = 0, patch = 0;
    version(&major, &minor, &patch);
    zg_libzmq_object_t obj;
    zg_libzmq_object_find(&obj);
    printf("version=%d.%d.%d\n", major, minor, patch);
    printf("path=%s\n", obj.found ? obj.path : argv[1]);
    printf("needs_sodium=%d\n", obj.needs_sodium);
    printf("pipes_stats=%d\n",
           dlsym(lib, "zmq_socket_monitor_pipes_stats") != NULL);
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        printf("has.%s=%d\n", caps[i], has(caps[i]) != 0);
    return fflush(stdout) == 0 ? 0 : 1;
}
