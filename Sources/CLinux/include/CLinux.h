// Linux interfaces Swift's Glibc module leaves out (epoll, for the lab's latency relay).
#include <sys/epoll.h>
#include <sys/inotify.h>
