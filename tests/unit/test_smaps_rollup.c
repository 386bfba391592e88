// SPDX-License-Identifier: GPL-2.0
/* Unit tests: parsing /proc/PID/smaps_rollup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proc/smaps_rollup.h"

/* As printed by 6.18 for a process sharing most of its memory with a parent. */
static const char *rollup_6_18 =
	"55d0c0a00000-7ffd4b3f2000 ---p 00000000 00:00 0                          [rollup]\n"
	"Rss:              135424 kB\n"
	"Pss:               20233 kB\n"
	"Pss_Dirty:         19000 kB\n"
	"Pss_Anon:          18900 kB\n"
	"Pss_File:           1133 kB\n"
	"Pss_Shmem:           200 kB\n"
	"Shared_Clean:       1400 kB\n"
	"Shared_Dirty:     131072 kB\n"
	"Private_Clean:         8 kB\n"
	"Private_Dirty:      2944 kB\n"
	"Referenced:       135424 kB\n"
	"Anonymous:        134016 kB\n"
	"KSM:                   0 kB\n"
	"LazyFree:              0 kB\n"
	"AnonHugePages:         0 kB\n"
	"Swap:                 12 kB\n"
	"SwapPss:               6 kB\n"
	"Locked:                0 kB\n";

static void parses_every_field(void **state)
{
	struct smaps_rollup s;

	assert_int_equal(parse_smaps_rollup(rollup_6_18, &s), 0);
	assert_int_equal(s.rss, 135424);
	assert_int_equal(s.pss, 20233); /* not Pss_Dirty / Pss_Anon */
	assert_int_equal(s.pss_anon, 18900);
	assert_int_equal(s.pss_file, 1133);
	assert_int_equal(s.pss_shmem, 200);
	assert_int_equal(smaps_shared(&s), 1400 + 131072);
	assert_int_equal(smaps_uss(&s), 8 + 2944);
	assert_int_equal(s.swap, 12); /* not SwapPss */
	assert_int_equal(s.swap_pss, 6);
}

static void old_kernel_and_garbage(void **state)
{
	struct smaps_rollup s;

	/* before 5.10 there is no Pss_Anon/Pss_File/Pss_Shmem: they read 0 */
	assert_int_equal(parse_smaps_rollup("Rss: 10 kB\nPss: 5 kB\nPrivate_Dirty: 4 kB\n", &s), 0);
	assert_int_equal(s.pss_anon, 0);
	assert_int_equal(smaps_uss(&s), 4);
	/* a zombie's rollup is empty */
	assert_int_equal(parse_smaps_rollup("", &s), -1);
	assert_int_equal(parse_smaps_rollup("Rss: 10 kB\n", &s), -1);
}

static void adds_up(void **state)
{
	struct smaps_rollup a, b;

	assert_int_equal(parse_smaps_rollup(rollup_6_18, &a), 0);
	b = a;
	smaps_rollup_add(&a, &b);
	assert_int_equal(a.pss, 2 * 20233);
	assert_int_equal(a.swap_pss, 12);
	assert_int_equal(smaps_uss(&a), 2 * (8 + 2944));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_every_field),
		cmocka_unit_test(old_kernel_and_garbage),
		cmocka_unit_test(adds_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
