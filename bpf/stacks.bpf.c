// SPDX-License-Identifier: GPL-2.0
/*
 * --stacks: the switches and maps of stack charging. It has no program of
 * its own: the rss_stat handler (bpf/account.bpf.c) charges each increase
 * through charge_stack() (bpf/lib/stacks.bpf.h, which explains the scheme).
 * User space sizes the maps with --stacks and reads them at the end; with
 * --stacks=dwarf, stack_samples carries what it unwinds (lib/stack_sample.bpf.h);
 * it also carries the charges and the ranges given back (lib/held.bpf.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "rsstrace.h"
#include "lib/stacks.bpf.h"
#include "lib/held.bpf.h"

const volatile bool stacks_on = false;
const volatile bool kernel_stacks_on = false;
const volatile bool dwarf_on = false;
const volatile __u32 stack_copy_pages = 4;
/* --stack-sample: the mean gap in pages (0: every page is charged) */
const volatile __u32 stack_sample_pages = 0;
const volatile __u32 stack_sample_gaps[STACK_SAMPLE_GAPS] = {};
/* which charges are still resident (bpf/held.bpf.c) */
const volatile bool held_on = false;

struct stack_counts_map stack_counts SEC(".maps");
struct stack_frames_map stack_frames SEC(".maps");
struct stack_scratch_map stack_scratch SEC(".maps");
struct stack_countdown_map stack_countdown SEC(".maps");
struct stack_samples_map stack_samples SEC(".maps");
struct stack_sample_scratch_map stack_sample_scratch SEC(".maps");
struct fault_stash_map fault_stash SEC(".maps");
