// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "trace/dwarf_unwind.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/array.h"
#include "proc/proc_maps.h"
#include "trace/symbolize.h"

/* One traced address space: its maps, the Dwfl built from them, and its
 * memory for reads beyond the copied stack while it lives. */
struct unwind_proc {
	uint32_t tgid;
	uint64_t start_ns;
	struct proc_maps maps;
	Dwfl *dwfl;
	int mem_fd;
	bool ended;
};

struct unwinder {
	struct symbolizer *sym;
	struct unwind_proc *procs;
	size_t nprocs, cap;
	struct unwind_stats stats;
	/* the unwind in progress, for the libdwfl callbacks */
	const struct stack_sample *smp;
	struct unwind_proc *proc;
	struct stack_frames *out;
};

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

struct unwinder *unwinder_new(struct symbolizer *sym)
{
	struct unwinder *u = calloc(1, sizeof(*u));

	if (u)
		u->sym = sym;
	return u;
}

static void proc_free(struct unwind_proc *p)
{
	if (p->dwfl)
		dwfl_end(p->dwfl);
	if (p->mem_fd >= 0)
		close(p->mem_fd);
	proc_maps_free(&p->maps);
}

void unwinder_free(struct unwinder *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nprocs; i++)
		proc_free(&u->procs[i]);
	free(u->procs);
	free(u);
}

void unwinder_on_end(struct unwinder *u, uint32_t tgid, uint64_t start_ns)
{
	for (size_t i = 0; i < u->nprocs; i++)
		if (u->procs[i].tgid == tgid && u->procs[i].start_ns == start_ns)
			u->procs[i].ended = true;
}

void unwinder_drop_ended(struct unwinder *u)
{
	size_t w = 0;

	for (size_t i = 0; i < u->nprocs; i++) {
		if (u->procs[i].ended)
			proc_free(&u->procs[i]);
		else
			u->procs[w++] = u->procs[i];
	}
	u->nprocs = w;
}

void unwinder_stats(const struct unwinder *u, struct unwind_stats *out)
{
	*out = u->stats;
}

/* --- the thread callbacks: one thread, the sample's ------------------- */

static pid_t next_thread(Dwfl *dwfl, void *dwfl_arg, void **thread_argp)
{
	struct unwinder *u = dwfl_arg;

	if (*thread_argp)
		return 0;
	*thread_argp = u;
	return (pid_t)u->smp->tid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *dwfl_arg, void **thread_argp)
{
	*thread_argp = dwfl_arg;
	return true;
}

/* A word of the copied stack; past it, the live process's memory (frames
 * further out belong to callers still on its stack); else none. */
static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *dwfl_arg)
{
	struct unwinder *u = dwfl_arg;
	const struct stack_sample *smp = u->smp;

	if (addr >= smp->stack_addr && addr - smp->stack_addr + sizeof(*result) <= smp->stack_len) {
		memcpy(result, smp->stack + (addr - smp->stack_addr), sizeof(*result));
		return true;
	}
	return u->proc->mem_fd >= 0 &&
	       pread(u->proc->mem_fd, result, sizeof(*result), (off_t)addr) == sizeof(*result);
}

static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct unwinder *u = thread_arg;
	Dwarf_Word regs[STACK_SAMPLE_REGS];

	for (int i = 0; i < STACK_SAMPLE_REGS; i++)
		regs[i] = u->smp->regs[i];
	return dwfl_thread_state_registers(thread, 0, STACK_SAMPLE_REGS, regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

/* --- per process ------------------------------------------------------- */

/* (Re)reads the process's maps and builds its Dwfl. Returns 0 or -errno
 * (the process is gone: what was read before stays). */
static int load_proc(struct unwinder *u, struct unwind_proc *p)
{
	Dwfl *dwfl;
	int err = read_proc_maps((int)p->tgid, &p->maps);

	if (err)
		return err;
	dwfl = dwfl_begin(&proc_callbacks);
	if (!dwfl)
		return -ENOMEM;
	dwfl_report_begin(dwfl);
	err = dwfl_linux_proc_report(dwfl, (pid_t)p->tgid);
	dwfl_report_end(dwfl, NULL, NULL);
	if (err || !dwfl_attach_state(dwfl, NULL, (pid_t)p->tgid, &thread_callbacks, u)) {
		dwfl_end(dwfl);
		return err > 0 ? -err : -ESRCH;
	}
	if (p->dwfl)
		dwfl_end(p->dwfl);
	p->dwfl = dwfl;
	return 0;
}

static struct unwind_proc *get_proc(struct unwinder *u, uint32_t tgid, uint64_t start_ns)
{
	struct unwind_proc *p;
	char path[64];

	for (size_t i = 0; i < u->nprocs; i++)
		if (u->procs[i].tgid == tgid && u->procs[i].start_ns == start_ns)
			return &u->procs[i];
	if (!array_grow((void **)&u->procs, &u->cap, u->nprocs, sizeof(*u->procs)))
		return NULL;
	p = &u->procs[u->nprocs++];
	memset(p, 0, sizeof(*p));
	p->tgid = tgid;
	p->start_ns = start_ns;
	snprintf(path, sizeof(path), "/proc/%u/mem", tgid);
	p->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	load_proc(u, p);
	return p;
}

/* --- frames -------------------------------------------------------------- */

/* pc as the kernel would give it: (build id, offset in the mapped file). */
static void set_frame(struct unwinder *u, struct stack_build_id_frame *f, uint64_t pc)
{
	const struct proc_map *m = proc_maps_find(&u->proc->maps, pc);

	memset(f, 0, sizeof(*f));
	if (m && symbolizer_file_build_id(u->sym, m->path, f->build_id)) {
		f->status = 1;
		f->offset = pc - m->start + m->pgoff;
	} else {
		f->status = 2;
		f->offset = pc;
	}
}

static int on_frame(Dwfl_Frame *state, void *arg)
{
	struct unwinder *u = arg;
	struct stack_frames *out = u->out;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(state, &pc, NULL) || !pc)
		return DWARF_CB_ABORT;
	set_frame(u, &out->user[out->user_nr++], pc);
	return out->user_nr < STACK_USER_DEPTH ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/* One pass; true if it reached the outermost frame. */
static bool unwind_once(struct unwinder *u)
{
	int rc;

	u->out->user_nr = 0;
	if (!u->proc->dwfl)
		return false;
	rc = dwfl_getthread_frames(u->proc->dwfl, (pid_t)u->smp->tid, on_frame, u);
	return rc == 0;
}

/* The unwind stopped in a file the maps did not have yet (mapped after they
 * were read: a library ld.so loaded after the first sample). */
static bool stopped_outside_maps(struct unwinder *u)
{
	const struct stack_frames *out = u->out;

	return !out->user_nr || out->user[out->user_nr - 1].status != 1 ||
	       !proc_maps_find(&u->proc->maps, u->smp->regs[16]);
}

int unwinder_unwind(struct unwinder *u, const struct stack_sample *smp, size_t len,
		    struct stack_frames *out)
{
	bool to_end;

	if (len < offsetof(struct stack_sample, stack) ||
	    len < offsetof(struct stack_sample, stack) + smp->stack_len)
		return -EINVAL;
	u->smp = smp;
	u->out = out;
	u->proc = get_proc(u, smp->tgid, smp->start_ns);
	if (!u->proc)
		return -ENOMEM;
	if (!u->proc->maps.n)
		u->stats.no_maps++;
	to_end = unwind_once(u);
	if (!to_end && stopped_outside_maps(u) && !load_proc(u, u->proc))
		to_end = unwind_once(u);
	u->stats.samples++;
	u->stats.to_end += to_end;
	return (int)out->user_nr;
}
