// LD_PRELOAD shim that lets libserialport open a Linux pseudo-terminal slave (/dev/pts/N).
//
// Test-only. SerialPortTests compiles it with `cc -shared -fPIC -o shim.so libserialport_pty_shim.c -ldl` and
// re-runs its own test binary with LD_PRELOAD=shim.so, so that the production SerialPort code (libserialport backend)
// reads and writes a real pty in CI, where no USB serial adapter is attached.
//
// libserialport 0.1.x refuses a pty in two places, and this shim answers exactly those:
//
// 1. sp_get_port_by_name -> get_port_details (linux.c) lstat()s "/sys/class/tty/<name without /dev/>" and readlink()s
//    it to classify the transport. Pty slaves have no /sys/class/tty entry ("pts/3" does not exist there), so it fails
//    with SP_ERR_ARG "Device not found". The shim reports "/sys/class/tty/pts/N" as a symlink to a virtual tty device
//    (no "usb"/"bluetooth" in the target, so libserialport calls it a native port described as "pts/N").
//    Older builds (Debian's 0.1.1) import lstat as the pre-glibc-2.33 `__lxstat`, newer ones as `lstat`: both are
//    wrapped.
// 2. sp_open -> get_config calls ioctl(TIOCMGET) to read the modem lines, and set_config may call TIOCMBIS/TIOCMBIC;
//    the pty driver has no modem lines and answers ENOTTY. For a pty slave fd only, and only when the kernel refused,
//    the shim emulates these requests with an in-memory set of lines (DTR, RTS, CTS, DSR, CD all asserted).
//
// Everything else (open, termios, read, write, poll, close) goes straight to the kernel.

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

static const char sysfs_pts_prefix[] = "/sys/class/tty/pts/";

static int is_sysfs_pts_path(const char *path) {
  return path != NULL && strncmp(path, sysfs_pts_prefix, sizeof(sysfs_pts_prefix) - 1) == 0;
}

static void fill_symlink_stat(struct stat *buf) {
  memset(buf, 0, sizeof(*buf));
  buf->st_mode = S_IFLNK | 0777;
  buf->st_nlink = 1;
}

// Unix98 pty slaves use majors 136-143 (Documentation/admin-guide/devices.txt).
static int is_pty_slave_fd(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode))
    return 0;
  unsigned int maj = major(st.st_rdev);
  return maj >= 136 && maj <= 143;
}

// Marks this library as loaded, so the test can tell "shim missing" from "libserialport broken".
int stedi_libserialport_pty_shim_loaded = 1;

int lstat(const char *path, struct stat *buf) {
  if (is_sysfs_pts_path(path)) {
    fill_symlink_stat(buf);
    return 0;
  }
  static int (*real_lstat)(const char *, struct stat *);
  if (!real_lstat)
    real_lstat = (int (*)(const char *, struct stat *))dlsym(RTLD_NEXT, "lstat");
  if (!real_lstat) {
    errno = ENOSYS;
    return -1;
  }
  return real_lstat(path, buf);
}

int __lxstat(int ver, const char *path, struct stat *buf) {
  if (is_sysfs_pts_path(path)) {
    fill_symlink_stat(buf);
    return 0;
  }
  static int (*real_lxstat)(int, const char *, struct stat *);
  if (!real_lxstat)
    real_lxstat = (int (*)(int, const char *, struct stat *))dlsym(RTLD_NEXT, "__lxstat");
  if (!real_lxstat) {
    errno = ENOSYS;
    return -1;
  }
  return real_lxstat(ver, path, buf);
}

ssize_t readlink(const char *path, char *buf, size_t size) {
  if (is_sysfs_pts_path(path)) {
    const char *number = path + sizeof(sysfs_pts_prefix) - 1;
    int n = snprintf(buf, size, "../../devices/virtual/tty/pts/%s", number);
    if (n < 0 || (size_t)n >= size) {
      errno = ENAMETOOLONG;
      return -1;
    }
    return n;  // readlink does not NUL-terminate; libserialport terminates it itself.
  }
  static ssize_t (*real_readlink)(const char *, char *, size_t);
  if (!real_readlink)
    real_readlink = (ssize_t (*)(const char *, char *, size_t))dlsym(RTLD_NEXT, "readlink");
  if (!real_readlink) {
    errno = ENOSYS;
    return -1;
  }
  return real_readlink(path, buf, size);
}

static int emulated_modem_lines = TIOCM_DTR | TIOCM_RTS | TIOCM_CTS | TIOCM_DSR | TIOCM_CD;

int ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void *arg = va_arg(ap, void *);
  va_end(ap);

  static int (*real_ioctl)(int, unsigned long, ...);
  if (!real_ioctl)
    real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
  if (!real_ioctl) {
    errno = ENOSYS;
    return -1;
  }

  int result = real_ioctl(fd, request, arg);
  if (result == 0 || (errno != ENOTTY && errno != EINVAL))
    return result;
  if (request != TIOCMGET && request != TIOCMSET && request != TIOCMBIS && request != TIOCMBIC)
    return result;
  int saved = errno;
  if (!is_pty_slave_fd(fd)) {
    errno = saved;
    return result;
  }
  int *bits = (int *)arg;
  switch (request) {
  case TIOCMGET:
    *bits = emulated_modem_lines;
    break;
  case TIOCMSET:
    emulated_modem_lines = *bits;
    break;
  case TIOCMBIS:
    emulated_modem_lines |= *bits;
    break;
  case TIOCMBIC:
    emulated_modem_lines &= ~*bits;
    break;
  }
  errno = 0;
  return 0;
}
