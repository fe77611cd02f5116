/* sandbox.c: dropping root and filtering system calls. See sandbox.h. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NO_SECCOMP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(undefined_behavior_sanitizer)
#define NO_SECCOMP 1
#endif
#endif

#ifndef NO_SECCOMP
#include <seccomp.h>
#endif

int
sandbox_drop_root(const char *user, const char *const *paths, char *err,
    size_t errsz)
{
	struct passwd	*pw;
	int		 i;

	if (geteuid() != 0)
		return 0;
	if (user == NULL || *user == '\0') {
		snprintf(err, errsz, "refusing to serve as root: set `user`"
		    " (e.g. user = www-data) and the server drops to it once"
		    " its sockets and database are open");
		return -1;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errsz, "user %s: %s", user,
		    errno ? strerror(errno) : "no such user");
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errsz, "user %s is root: name an unprivileged"
		    " user", user);
		return -1;
	}
	/* The log (and its -wal, -shm) and the sockets become the user's,
	 * so that the server keeps working with them and `ssereplay
	 * publish` run as that user can write the log. */
	for (i = 0; paths != NULL && paths[i] != NULL; i++)
		if (chown(paths[i], pw->pw_uid, pw->pw_gid) == -1 &&
		    errno != ENOENT) {
			snprintf(err, errsz, "chown %s: %s", paths[i],
			    strerror(errno));
			return -1;
		}
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		snprintf(err, errsz, "dropping to %s: %s", user,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) != -1 || geteuid() == 0) {
		snprintf(err, errsz, "dropping to %s: root could be regained",
		    user);
		return -1;
	}
	return 0;
}

int
sandbox_seccomp_available(void)
{
#ifdef NO_SECCOMP
	return 0;
#else
	return 1;
#endif
}

#ifndef NO_SECCOMP
/*
 * What the threads do after start-up: socket I/O (FastCGI, WebSocket,
 * accept), epoll, SQLite on files it has open (read, write, sync,
 * truncate, lock, map the -shm), memory, time, threads waiting and waking
 * (futex; libfcgi's workers are woken with a signal), the signal thread,
 * the log on stderr, and the exit path (unlinking the Unix sockets).
 * SQLite may still open and delete files (a -wal after a checkpoint, a
 * temporary file), so openat, unlink and fchown stay.
 */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(lseek),
	SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(sendto),
	SCMP_SYS(sendmsg), SCMP_SYS(accept), SCMP_SYS(accept4),
	SCMP_SYS(shutdown), SCMP_SYS(close), SCMP_SYS(getsockname),
	SCMP_SYS(getpeername), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select),
	SCMP_SYS(pselect6), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_ctl), SCMP_SYS(ioctl), SCMP_SYS(fcntl),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(stat),
	SCMP_SYS(lstat), SCMP_SYS(statx), SCMP_SYS(access),
	SCMP_SYS(faccessat), SCMP_SYS(openat), SCMP_SYS(unlink),
	SCMP_SYS(unlinkat), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	SCMP_SYS(ftruncate), SCMP_SYS(fallocate), SCMP_SYS(fchown),
	SCMP_SYS(fchmod), SCMP_SYS(flock), SCMP_SYS(getcwd),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(brk),
	SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(getrandom),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(tgkill), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigtimedwait),
	SCMP_SYS(sigaltstack), SCMP_SYS(restart_syscall),
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(exit),
	SCMP_SYS(exit_group), SCMP_SYS(eventfd2),
};

/*
 * With log = jetstream, nats.c reconnects (a new socket, a name lookup
 * through /etc/hosts or DNS) and starts threads (a reconnect thread, a
 * new reader after a reconnect) whenever the connection drops.
 */
static const int allowed_net[] = {
	SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(bind),
	SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(uname),
	SCMP_SYS(pipe2), SCMP_SYS(sched_getaffinity),
};
#endif

int
sandbox_seccomp(int network_client, char *err, size_t errsz)
{
#ifdef NO_SECCOMP
	(void)network_client;
	(void)err;
	(void)errsz;
	return 0;
#else
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 rc;

	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL) {
		snprintf(err, errsz, "seccomp_init failed");
		return -1;
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i],
		    0)) != 0)
			goto fail;
	for (i = 0; network_client &&
	    i < sizeof(allowed_net) / sizeof(allowed_net[0]); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed_net[i],
		    0)) != 0)
			goto fail;
	/* Every thread, now: they all run already. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0 ||
	    (rc = seccomp_load(ctx)) != 0)
		goto fail;
	seccomp_release(ctx);
	return 0;
fail:
	snprintf(err, errsz, "seccomp: %s", strerror(-rc));
	seccomp_release(ctx);
	return -1;
#endif
}
