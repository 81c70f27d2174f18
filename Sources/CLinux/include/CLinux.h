// Linux interfaces Swift's Glibc module leaves out (epoll, for the lab's latency relay).
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <stddef.h>
// glibc's memmem (a GNU extension the Glibc module hides): configuration search finds literals with it.
extern void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen);
