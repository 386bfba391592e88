/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The BPF tier (tests/bpf/), in the kernel selftests' style
 * (tools/testing/selftests/bpf/test_progs.h): load the real programs, trigger
 * the events they hook, assert on their maps and globals with the kernel's own
 * numbers (/proc) as ground truth.
 *
 * The programs are loaded through the tracer API (src/core/tracer.h), as
 * rsstrace loads them: the same skeleton, flavour choice, probed hooks, sizes.
 *
 * Each ASSERT_*() prints where it is, what it checked, what was expected and
 * what came, marks the running case failed, and is false if it did not hold:
 *
 *	if (!ASSERT_EQ(got, want, "what it is"))
 *		goto cleanup;
 *
 * A test program lists its cases with BPFTEST_CASE() and hands them to
 * bpftest_main(), which runs them in order and prints TAP ("ok 1 - name",
 * diagnostics as "# ..."); tests/test_bpf.py makes each case a pytest item.
 */
#ifndef BPFTEST_H
#define BPFTEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "core/tracer.h"

/* Prints "# file:line: message" and marks the running case failed unless ok.
 * Returns ok. */
bool bpftest_check(bool ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define ASSERT_OP(got, op, want, name) ({					\
	long long ___got = (long long)(got), ___want = (long long)(want);	\
	bpftest_check(___got op ___want, __FILE__, __LINE__,			\
		      "%s: expected %s %lld, got %lld (%s)", (name), #op, ___want, ___got, #got); \
})
#define ASSERT_EQ(got, want, name) ASSERT_OP(got, ==, want, name)
#define ASSERT_NEQ(got, want, name) ASSERT_OP(got, !=, want, name)
#define ASSERT_GE(got, want, name) ASSERT_OP(got, >=, want, name)
#define ASSERT_GT(got, want, name) ASSERT_OP(got, >, want, name)
#define ASSERT_LE(got, want, name) ASSERT_OP(got, <=, want, name)

/* err: 0, or -errno (every helper here returns that). */
#define ASSERT_OK(err, name) ({							\
	long long ___err = (long long)(err);					\
	bpftest_check(!___err, __FILE__, __LINE__, "%s: expected success, got %lld (%s)", \
		      (name), ___err, strerror(___err < 0 ? (int)-___err : 0));	\
})

#define ASSERT_TRUE(cond, name) \
	bpftest_check(!!(cond), __FILE__, __LINE__, "%s: expected true: %s", (name), #cond)

struct bpftest_case {
	const char *name;
	void (*fn)(struct tracer *t);
};
#define BPFTEST_CASE(fn) { #fn, fn }
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Loads and attaches the programs as `rsstrace -p` would, with this process
 * as the traced one (so every child it forks is traced, through the fork
 * hook), then runs the cases in order. -v: libbpf's info messages too.
 * Returns the exit status: 0 if every case passed.
 */
int bpftest_main(int argc, char **argv, const struct bpftest_case *cases, size_t n);

/* ---- the kernel's own numbers ----------------------------------------------- */

/* A field of /proc/PID/status in kB ("RssAnon"), or -1 if absent. */
long long proc_status_kb(pid_t pid, const char *field);
/* kB -> pages of this machine. */
long long kb_to_pages(long long kb);
long long mib_to_pages(long long mib);

/* ---- a child that holds memory, synchronised over pipes (no sleeps) ---------- */

struct held_child {
	pid_t pid;
	int go_fd;	/* write end: release the child */
	int exit_code;	/* what it exits with */
};

/* Forks a child that maps and touches mib MiB of anonymous memory, says so,
 * and holds it until released. Returns 0 once the memory is in place. */
int hold_child_start(struct held_child *c, long mib, int exit_code);
/* Lets it exit and reaps it; *status: its wait status. Returns 0 or -errno. */
int hold_child_release(struct held_child *c, int *status);

/* ---- what the programs report ----------------------------------------------- */

/* How many live `mms` entries belong to tgid; the last one found in *out. */
int live_mms_of(struct tracer *t, uint32_t tgid, struct mm_state *out);

/* The ring buffer records of one process: how many mm-end rows (the last
 * one in end) and exit records (the last one in exit) arrived. */
struct records_of {
	int nend, nexit;
	struct mm_end_record end;
	struct exit_record exit;
};

/* Delivers what the ring buffer holds now, then gathers tgid's records so far.
 * Returns 0 or -errno. */
int records_of(struct tracer *t, uint32_t tgid, struct records_of *out);

#endif
