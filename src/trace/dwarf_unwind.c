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
#include <time.h>
#include <unistd.h>

#include "core/array.h"
#include "core/regular_file.h"
#include "proc/proc_maps.h"
#include "trace/debuginfo.h"
#include "trace/symbolize.h" /* BUILD_ID_LEN */

/* One traced address space: its maps, the Dwfl built from them, and its
 * memory for reads beyond the copied stack while it lives. */
struct unwind_proc {
	uint32_t tgid;
	uint64_t start_ns;
	struct proc_maps maps;	/* the file mappings of the latest snapshot */
	char *maps_text;	/* that snapshot, as /proc/PID/maps gave it */
	Dwfl *dwfl;		/* built from maps_text; NULL: to (re)build */
	bool parent_maps;	/* maps_text is its parent's (see parent_maps()) */
	int mem_fd;
};

struct unwinder {
	struct unwind_proc *procs;
	size_t nprocs, cap;
	struct unwind_stats stats;
	/* the unwind in progress, for the libdwfl callbacks */
	const struct stack_sample *smp;
	struct unwind_proc *proc;
	struct stack_frames *out;
};

/* A module's file as libdwfl's own finder opens it, except that a path is
 * opened here first, and only if it is a regular file: the traced process
 * may have put a FIFO there, whose open() would block this thread. */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *module_name, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	int fd;

	if (module_name[0] == '/') {
		fd = open_regular_file(module_name);
		if (fd >= 0) {
			*file_name = strdup(module_name);
			return fd;
		}
		if (errno != ENOENT)
			return -1;
	}
	/* gone from its path ("... (deleted)"): libdwfl reads it through
	 * /proc/PID; and the vDSO */
	return dwfl_linux_proc_find_elf(mod, userdata, module_name, base, file_name, elfp);
}

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = debuginfo_find, /* .debug_frame where .eh_frame has none */
	.debuginfo_path = &debuginfo_search_path,
};

struct unwinder *unwinder_new(void)
{
	return calloc(1, sizeof(struct unwinder));
}

static void proc_free(struct unwind_proc *p)
{
	if (p->dwfl)
		dwfl_end(p->dwfl);
	if (p->mem_fd >= 0)
		close(p->mem_fd);
	proc_maps_free(&p->maps);
	free(p->maps_text);
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

void unwinder_end(struct unwinder *u, uint32_t tgid, uint64_t start_ns)
{
	for (size_t i = 0; i < u->nprocs; i++) {
		if (u->procs[i].tgid != tgid || u->procs[i].start_ns != start_ns)
			continue;
		proc_free(&u->procs[i]);
		u->procs[i] = u->procs[--u->nprocs];
		return;
	}
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

static bool same_maps(const struct proc_maps *a, const struct proc_maps *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].start != b->v[i].start || a->v[i].end != b->v[i].end ||
		    a->v[i].pgoff != b->v[i].pgoff || strcmp(a->v[i].path, b->v[i].path))
			return false;
	return true;
}

/* A snapshot of the process's maps (text, taken): kept if its file
 * mappings changed (a library loaded since); the Dwfl is rebuilt from it. */
static void take_maps(struct unwind_proc *p, char *text)
{
	struct proc_maps fresh = { 0 };

	if (parse_proc_maps(text, &fresh) || !fresh.n ||
	    (p->maps_text && same_maps(&fresh, &p->maps))) {
		proc_maps_free(&fresh);
		free(text);
		return;
	}
	proc_maps_free(&p->maps);
	free(p->maps_text);
	p->maps = fresh;
	p->maps_text = text;
	if (p->dwfl)
		dwfl_end(p->dwfl);
	p->dwfl = NULL;
}

/* The Dwfl of the latest snapshot: modules as the kernel mapped them,
 * ELF and CFI read on first use and kept. */
static Dwfl *proc_dwfl(struct unwinder *u, struct unwind_proc *p)
{
	Dwfl *dwfl;
	FILE *f;
	int err;

	if (p->dwfl || !p->maps_text)
		return p->dwfl;
	f = fmemopen(p->maps_text, strlen(p->maps_text), "r");
	dwfl = f ? dwfl_begin(&proc_callbacks) : NULL;
	if (!dwfl) {
		if (f)
			fclose(f);
		return NULL;
	}
	dwfl_report_begin(dwfl);
	err = dwfl_linux_proc_maps_report(dwfl, f);
	fclose(f);
	dwfl_report_end(dwfl, NULL, NULL);
	if (err || !dwfl_attach_state(dwfl, NULL, (pid_t)p->tgid, &thread_callbacks, u)) {
		dwfl_end(dwfl);
		return NULL;
	}
	p->dwfl = dwfl;
	return dwfl;
}

static struct unwind_proc *find_proc(struct unwinder *u, uint32_t tgid, uint64_t start_ns)
{
	for (size_t i = 0; i < u->nprocs; i++)
		if (u->procs[i].tgid == tgid && u->procs[i].start_ns == start_ns)
			return &u->procs[i];
	return NULL;
}

/* A process gone before its maps were read, that never exec'd, mapped what
 * its parent did at the fork (and the parent's newest snapshot is the best
 * guess of that): subshells, prefork workers. Malloc'ed copy, or NULL. */
static char *parent_maps(struct unwinder *u, const struct stack_sample *smp)
{
	const struct unwind_proc *best = NULL;

	if (smp->exec_seq || !smp->ppid)
		return NULL;
	for (size_t i = 0; i < u->nprocs; i++)
		if (u->procs[i].tgid == smp->ppid && u->procs[i].maps_text &&
		    (!best || u->procs[i].start_ns > best->start_ns))
			best = &u->procs[i];
	return best ? strdup(best->maps_text) : NULL;
}

static struct unwind_proc *get_proc(struct unwinder *u, uint32_t tgid, uint64_t start_ns)
{
	struct unwind_proc *p = find_proc(u, tgid, start_ns);
	char path[64];

	if (p)
		return p;
	if (!array_grow((void **)&u->procs, &u->cap, u->nprocs, sizeof(*u->procs)))
		return NULL;
	p = &u->procs[u->nprocs++];
	memset(p, 0, sizeof(*p));
	p->tgid = tgid;
	p->start_ns = start_ns;
	snprintf(path, sizeof(path), "/proc/%u/mem", tgid);
	p->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	return p;
}

/* --- frames -------------------------------------------------------------- */

/* pc as the kernel would give it: (build id, offset in the mapped file).
 * The build id is the module's, which libdwfl read with its ELF. */
static void set_frame(struct unwinder *u, struct stack_build_id_frame *f, uint64_t pc)
{
	const struct proc_map *m = proc_maps_find(&u->proc->maps, pc);
	Dwfl_Module *mod = dwfl_addrmodule(u->proc->dwfl, pc);
	const unsigned char *id;
	GElf_Addr id_vaddr;
	int n = mod ? dwfl_module_build_id(mod, &id, &id_vaddr) : 0;

	memset(f, 0, sizeof(*f));
	if (m && n > 0) {
		memcpy(f->build_id, id, n < BUILD_ID_LEN ? (size_t)n : BUILD_ID_LEN);
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

/* CPU time of this thread: the machine is shared, wall time is not ours */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int unwinder_unwind(struct unwinder *u, const struct stack_sample *smp, size_t len, char *maps_text,
		    struct stack_frames *out)
{
	uint64_t t0 = now_ns(), dt;
	bool cold;
	Dwfl *dwfl;

	if (len < offsetof(struct stack_sample, stack) ||
	    len < offsetof(struct stack_sample, stack) + smp->stack_len) {
		free(maps_text);
		return -EINVAL;
	}
	u->smp = smp;
	u->out = out;
	u->proc = get_proc(u, smp->tgid, smp->start_ns);
	if (u->proc && !maps_text && !u->proc->maps_text) {
		maps_text = parent_maps(u, smp);
		u->proc->parent_maps = maps_text != NULL;
	}
	if (u->proc && maps_text)
		take_maps(u->proc, maps_text);
	else
		free(maps_text);
	out->user_nr = 0;
	u->stats.samples++;
	cold = u->proc && !u->proc->dwfl;
	dwfl = u->proc ? proc_dwfl(u, u->proc) : NULL;
	if (!dwfl) {
		u->stats.no_maps++; /* gone before its first sample was read */
		return 0;
	}
	if (!dwfl_getthread_frames(dwfl, (pid_t)smp->tid, on_frame, u))
		u->stats.to_end++;
	u->stats.from_parent += u->proc->parent_maps;
	dt = now_ns() - t0;
	if (cold) {
		u->stats.cold++;
		u->stats.cold_ns += dt;
	} else {
		u->stats.cached++;
		u->stats.cached_ns += dt;
	}
	return (int)out->user_nr;
}
