// SPDX-License-Identifier: GPL-2.0
/*
 * bpf/account.bpf.c against the kernel's own numbers: a forked child (the
 * fork hook makes it traced) maps and touches CHILD_MIB of anonymous memory and
 * holds it, blocked on a pipe, while the test reads its /proc/PID/status and
 * the programs' state: its `mms` entry, the `tree` totals, and at its exit the
 * row on the ring buffer (`records`).
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpftest.h"

#define CHILD_MIB 32

/* While the child holds its memory: its `mms` entry is what /proc shows. */
static void child_counters_in_mms_equal_proc(struct tracer *t)
{
	struct held_child c;
	struct mm_state st;
	long long anon_kb, file_kb, shmem_kb, swap_kb;
	int status;

	if (!ASSERT_OK(hold_child_start(&c, CHILD_MIB, 0), "fork a child holding 32 MiB"))
		return;
	anon_kb = proc_status_kb(c.pid, "RssAnon");
	file_kb = proc_status_kb(c.pid, "RssFile");
	shmem_kb = proc_status_kb(c.pid, "RssShmem");
	swap_kb = proc_status_kb(c.pid, "VmSwap");
	if (!ASSERT_EQ(live_mms_of(t, c.pid, &st), 1, "mms entries of the child"))
		goto cleanup;
	/* nothing moved while the test read: the child is blocked */
	if (!ASSERT_EQ(proc_status_kb(c.pid, "RssAnon"), anon_kb, "RssAnon (kB) read again"))
		goto cleanup;
	/* up to 6.1 /proc lags the child's own faults by its per-task cache (at most
	 * 64 events a counter); the programs see what /proc sees */
	ASSERT_GE(kb_to_pages(anon_kb), mib_to_pages(CHILD_MIB) - 64, "the child's RssAnon (pages)");
	ASSERT_EQ(st.cur[RSS_ANON], kb_to_pages(anon_kb), "mms cur[RSS_ANON] vs /proc RssAnon (pages)");
	ASSERT_EQ(st.cur[RSS_FILE], kb_to_pages(file_kb), "mms cur[RSS_FILE] vs /proc RssFile (pages)");
	ASSERT_EQ(st.cur[RSS_SHMEM], kb_to_pages(shmem_kb), "mms cur[RSS_SHMEM] vs /proc RssShmem (pages)");
	ASSERT_EQ(st.cur[RSS_SWAP], kb_to_pages(swap_kb), "mms cur[RSS_SWAP] vs /proc VmSwap (pages)");
	ASSERT_EQ(st.ppid, getpid(), "mms ppid");
	ASSERT_EQ(st.exec_seq, 0, "mms exec_seq");
	ASSERT_EQ(st.seeded, 0, "mms seeded (it came from the fork hook)");
cleanup:
	ASSERT_OK(hold_child_release(&c, &status), "release and reap the child");
}

/* The `tree` globals count the child while it lives, and no longer after. */
static void tree_live_counts_rise_and_fall(struct tracer *t)
{
	struct tree_state before, during, after;
	struct held_child c;
	struct mm_state st;
	int status;

	tracer_tree(t, &before);
	/* this process only: every earlier case's child is gone */
	ASSERT_EQ(before.live_mms, 1, "tree.live_mms before the fork");
	ASSERT_EQ(before.live_tgids, 1, "tree.live_tgids before the fork");
	if (!ASSERT_OK(hold_child_start(&c, CHILD_MIB, 0), "fork a child holding 32 MiB"))
		return;
	tracer_tree(t, &during);
	ASSERT_EQ(during.live_mms, before.live_mms + 1, "tree.live_mms while the child lives");
	ASSERT_EQ(during.live_tgids, before.live_tgids + 1, "tree.live_tgids while the child lives");
	ASSERT_EQ(during.tgids_seen, before.tgids_seen + 1, "tree.tgids_seen after the fork");
	if (ASSERT_EQ(live_mms_of(t, c.pid, &st), 1, "mms entries of the child"))
		ASSERT_GE(during.cur[RSS_ANON], st.cur[RSS_ANON], "tree.cur[RSS_ANON] vs the child's own");
	if (!ASSERT_OK(hold_child_release(&c, &status), "release and reap the child"))
		return;
	/* the exit and the address space's teardown ran before waitpid() returned */
	tracer_tree(t, &after);
	ASSERT_EQ(after.live_mms, before.live_mms, "tree.live_mms after the child was reaped");
	ASSERT_EQ(after.live_tgids, before.live_tgids, "tree.live_tgids after the child was reaped");
	ASSERT_EQ(after.tgids_seen, before.tgids_seen + 1, "tree.tgids_seen after the child was reaped");
}

/* At its exit the child's row comes on the ring buffer, with its peak. */
static void exit_row_on_the_ring_buffer_has_the_peak(struct tracer *t)
{
	struct held_child c;
	struct records_of r;
	struct mm_state st;
	long long anon_kb;
	int status;

	if (!ASSERT_OK(hold_child_start(&c, CHILD_MIB, 7), "fork a child holding 32 MiB"))
		return;
	anon_kb = proc_status_kb(c.pid, "RssAnon");
	if (!ASSERT_OK(hold_child_release(&c, &status), "release and reap the child"))
		return;
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7, "the child exited with 7");
	if (!ASSERT_OK(records_of(t, c.pid, &r), "read the ring buffer"))
		return;
	if (!ASSERT_EQ(r.nend, 1, "mm-end rows of the child"))
		return;
	ASSERT_EQ(r.end.st.end_reason, END_EXIT, "end_reason");
	ASSERT_EQ(r.end.st.ppid, getpid(), "ppid");
	ASSERT_GE(r.end.st.peak_rss, mib_to_pages(CHILD_MIB), "peak_rss (pages) vs the 32 MiB it held");
	/* nothing changed between the reading and the exit: the row's end values
	 * are what /proc showed (up to 6.1 too, where the exit folds the per-task
	 * cache in: the row keeps /proc's view from before) */
	ASSERT_EQ(r.end.st.cur[RSS_ANON], kb_to_pages(anon_kb), "row's RssAnon vs /proc's while held (pages)");
	if (ASSERT_EQ(r.nexit, 1, "exit records of the child"))
		ASSERT_EQ(r.exit.exit_code, status, "exit record's exit_code vs waitpid()'s status");
	ASSERT_EQ(live_mms_of(t, c.pid, &st), 0, "mms entries of the child after its exit");
}

int main(int argc, char **argv)
{
	static const struct bpftest_case cases[] = {
		BPFTEST_CASE(child_counters_in_mms_equal_proc),
		BPFTEST_CASE(tree_live_counts_rise_and_fall),
		BPFTEST_CASE(exit_row_on_the_ring_buffer_has_the_peak),
	};

	return bpftest_main(argc, argv, cases, ARRAY_SIZE(cases));
}
