/* files.h - directories for state files, sockets and pins. */
#ifndef XLB_FILES_H
#define XLB_FILES_H

#include <sys/types.h>

/* Creates dir and its missing parents with mode; 0 (also when it exists) or -errno. */
int xlb_mkdir_p(const char *dir, mode_t mode);
/* Creates the directory path is in (and its missing parents); 0 or -errno. */
int xlb_mkdir_parent(const char *path, mode_t mode);

#endif /* XLB_FILES_H */
