// SPDX-License-Identifier: GPL-2.0
/* The BPF tier's runner and helpers: see bpftest.h. */
#define _GNU_SOURCE /* pipe2 */
#include "bpftest.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/hooks.h"
#include "core/log.h"

static bool case_failed;

bool bpftest_check(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	case_failed = true;
	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return false;
}

/* Every record the ring buffer delivered, in order. */
union record {
	uint32_t type;
	struct mm_end_record end;
	struct exit_record exit;
};

#define MAX_RECORDS 4096
static union record records[MAX_RECORDS];
static int nrecords, records_dropped;

static void on_record(void *ctx, const void *data, size_t len)
{
	union record *r;

	if (nrecords == MAX_RECORDS) {
		records_dropped++;
		return;
	}
	r = &records[nrecords++];
	memset(r, 0, sizeof(*r));
	memcpy(r, data, len < sizeof(*r) ? len : sizeof(*r));
}

/* As rsstrace does: libbpf's warnings always (on stderr, which the pytest
 * wrapper shows when a case fails), its info with -v. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG || (level == LIBBPF_INFO && !log_verbose))
		return 0;
	return vfprintf(stderr, fmt, args);
}

int bpftest_main(int argc, char **argv, const struct bpftest_case *cases, size_t n)
{
	struct tracer t = { 0 };
	struct tracer_config cfg;
	struct hooks hk;
	const char *what = "";
	int err, failed = 0;

	/* line by line: nothing lost if a case crashes, nothing doubled by fork() */
	setvbuf(stdout, NULL, _IOLBF, 0);
	log_verbose = argc > 1 && !strcmp(argv[1], "-v");
	libbpf_set_print(libbpf_print);
	printf("1..%zu\n", n);
	if (hooks_choose(&hk, false, false, false, false, &what)) {
		printf("Bail out! this kernel offers no way to see the '%s' event\n", what);
		return 1;
	}
	cfg = (struct tracer_config){ .follow_children = true, .map_entries = 1024, .ringbuf_bytes = 1 << 20,
				      .hooks = &hk };
	err = tracer_start(&t, &cfg, on_record, NULL, &what);
	if (!err) {
		what = "trace this process";
		err = tracer_add_tgid(&t, getpid(), getppid());
	}
	if (!err) {
		what = "seed its address space (iter/task)";
		err = tracer_seed(&t);
	}
	if (err) {
		printf("Bail out! cannot %s: %s\n", what, strerror(-err));
		tracer_stop(&t);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		case_failed = false;
		cases[i].fn(&t);
		printf("%sok %zu - %s\n", case_failed ? "not " : "", i + 1, cases[i].name);
		failed += case_failed;
	}
	tracer_stop(&t);
	return failed ? 1 : 0;
}

long long proc_status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, flen) && line[flen] == ':') {
			if (sscanf(line + flen + 1, "%lld", &kb) != 1)
				kb = -1;
			break;
		}
	}
	fclose(f);
	return kb;
}

long long kb_to_pages(long long kb)
{
	return kb / (sysconf(_SC_PAGESIZE) / 1024);
}

long long mib_to_pages(long long mib)
{
	return kb_to_pages(mib * 1024);
}

/* The child's side: fault in mib MiB, say so on ready, hold it until told to go. */
static void __attribute__((noreturn)) hold_memory(int ready, int go, long mib, int exit_code)
{
	size_t len = (size_t)mib << 20, page = (size_t)sysconf(_SC_PAGESIZE);
	char *p, b;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(120);
	/* small pages only: khugepaged must not collapse them while the test reads */
	madvise(p, len, MADV_NOHUGEPAGE);
	for (size_t off = 0; off < len; off += page)
		p[off] = 1;
	if (write(ready, "r", 1) != 1)
		_exit(121);
	/* held until the test says go (or goes away: EOF) */
	while (read(go, &b, 1) < 0 && errno == EINTR)
		;
	_exit(exit_code);
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int hold_child_start(struct held_child *c, long mib, int exit_code)
{
	/* ready: child -> test; go: test -> child */
	int fds[4] = { -1, -1, -1, -1 }, *ready = fds, *go = fds + 2, status, err;
	char b;
	ssize_t r;

	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC) || (c->pid = fork()) < 0) {
		err = -errno;
		close_fds(fds, 4);
		return err;
	}
	if (c->pid == 0)
		hold_memory(ready[1], go[0], mib, exit_code);
	c->go_fd = go[1];
	c->exit_code = exit_code;
	go[1] = -1;
	do
		r = read(ready[0], &b, 1);
	while (r < 0 && errno == EINTR);
	close_fds(fds, 4);
	if (r != 1) { /* it died before holding its memory */
		close(c->go_fd);
		waitpid(c->pid, &status, 0);
		return -ECHILD;
	}
	return 0;
}

int hold_child_release(struct held_child *c, int *status)
{
	pid_t r;

	if (write(c->go_fd, "g", 1) != 1)
		return -errno;
	close(c->go_fd);
	do
		r = waitpid(c->pid, status, 0);
	while (r < 0 && errno == EINTR);
	return r == c->pid ? 0 : -errno;
}

struct find_mm {
	uint32_t tgid;
	struct mm_state *out;
	int n;
};

static void find_mm(void *ctx, const struct mm_state *st)
{
	struct find_mm *f = ctx;

	if (st->tgid != f->tgid)
		return;
	*f->out = *st;
	f->n++;
}

int live_mms_of(struct tracer *t, uint32_t tgid, struct mm_state *out)
{
	struct find_mm f = { .tgid = tgid, .out = out };

	memset(out, 0, sizeof(*out));
	tracer_foreach_live(t, find_mm, &f);
	return f.n;
}

int records_of(struct tracer *t, uint32_t tgid, struct records_of *out)
{
	int err = tracer_poll(t, 0);

	memset(out, 0, sizeof(*out));
	if (err < 0)
		return err;
	if (records_dropped)
		return -ENOBUFS;
	for (int i = 0; i < nrecords; i++) {
		const union record *r = &records[i];

		if (r->type == REC_MM_END && r->end.st.tgid == tgid) {
			out->end = r->end;
			out->nend++;
		} else if (r->type == REC_EXIT && r->exit.tgid == tgid) {
			out->exit = r->exit;
			out->nexit++;
		}
	}
	return 0;
}
