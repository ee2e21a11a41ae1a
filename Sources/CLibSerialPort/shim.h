// The C declarations the SerialPort module needs: the system libserialport (libserialport-dev, found through
// pkg-config) and the pseudo-terminal calls for PseudoTerminal.
#ifndef STEDI_CLIBSERIALPORT_SHIM_H
#define STEDI_CLIBSERIALPORT_SHIM_H

#include <stddef.h>
#include <libserialport.h>

// glibc declares these only under _XOPEN_SOURCE / _GNU_SOURCE, which Swift's Glibc module is not built with. The
// prototypes match <stdlib.h>; the functions are in libc itself.
int posix_openpt(int flags);
int grantpt(int fd);
int unlockpt(int fd);
int ptsname_r(int fd, char *buf, size_t buflen);

#endif
