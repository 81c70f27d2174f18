#ifndef SWITCHBOARD_CLIBSSH2_H
#define SWITCHBOARD_CLIBSSH2_H
#include <libssh2.h>
#include <libssh2_publickey.h>
#endif
