/*
 * bench/pop3-mda: the smallest Maildir delivery agent, for fetchmail in
 * bench/pop3 (a shell script MDA costs several processes per message,
 * which would measure the shell, not fetchmail). Copies standard input
 * to DIR/tmp, fsyncs it and renames it into DIR/new.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	char		 buf[65536], tmp[4096], dst[4096];
	struct timespec	 ts;
	ssize_t		 n;
	int		 fd;

	if (argc != 2)
		return (75);
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(tmp, sizeof tmp, "%s/tmp/%lld.M%ldP%ld.bench", argv[1],
	    (long long)ts.tv_sec, ts.tv_nsec / 1000, (long)getpid());
	snprintf(dst, sizeof dst, "%s/new/%lld.M%ldP%ld.bench", argv[1],
	    (long long)ts.tv_sec, ts.tv_nsec / 1000, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		return (75);
	while ((n = read(0, buf, sizeof buf)) > 0) {
		if (write(fd, buf, (size_t)n) != n)
			return (75);
	}
	if (n < 0 || fsync(fd) != 0 || close(fd) != 0 ||
	    rename(tmp, dst) != 0)
		return (75);
	return (0);
}
