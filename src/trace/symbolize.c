// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "trace/symbolize.h"

#include "core/array.h"
#include "core/regular_file.h"
#include "core/intern.h"
#include "trace/debuginfo.h"

#include <dirent.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sym_file {
	char *path;
	unsigned char build_id[BUILD_ID_LEN];
	bool id_read;		/* build_id holds the file's id */
	bool has_id;		/* and it is looked up here (not a copy) */
	Dwfl *dwfl;		/* opened on first use */
	Dwfl_Module *mod;
	bool open_failed;
	uint64_t (*phdrs)[3];	/* PT_LOAD {offset, filesz, vaddr} */
	size_t nphdrs;
};

struct ksym {
	uint64_t addr;
	char *name;
};

struct symbolizer {
	struct sym_file *files;
	size_t nfiles, cap;
	/* names of code in known files, by (build id, offset, ret_addr): stacks
	 * share most frames, and libdw 0.188's dwfl_module_addrinfo scans the
	 * symbols per lookup (a python3 run with 1230 stacks: 6-8 s without
	 * this, 1.1-1.6 s with it; docs/performance.md) */
	struct intern named;
	char **names;		/* by id - 1 */
	size_t names_cap;
	bool names_off;		/* memory ran out once: no more caching */
	struct ksym *ksyms;
	size_t nksyms;
	bool ksyms_loaded, all_maps_done;
};

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = debuginfo_find, /* build-id tree, .gnu_debuglink, debuginfod */
	.debuginfo_path = &debuginfo_search_path,
	.section_address = dwfl_offline_section_address,
};

struct symbolizer *symbolizer_new(void)
{
	elf_version(EV_CURRENT);
	return calloc(1, sizeof(struct symbolizer));
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nfiles; i++) {
		free(s->files[i].path);
		free(s->files[i].phdrs);
		if (s->files[i].dwfl)
			dwfl_end(s->files[i].dwfl);
	}
	for (size_t i = 0; i < s->named.n && i < s->names_cap; i++)
		free(s->names[i]);
	free(s->names);
	intern_free(&s->named);
	for (size_t i = 0; i < s->nksyms; i++)
		free(s->ksyms[i].name);
	free(s->ksyms);
	free(s->files);
	free(s);
}

static struct sym_file *find_path(struct symbolizer *s, const char *path)
{
	for (size_t i = 0; i < s->nfiles; i++)
		if (!strcmp(s->files[i].path, path))
			return &s->files[i];
	return NULL;
}

static struct sym_file *find_id(struct symbolizer *s, const unsigned char *id)
{
	for (size_t i = 0; i < s->nfiles; i++)
		if (s->files[i].has_id && !memcmp(s->files[i].build_id, id, BUILD_ID_LEN))
			return &s->files[i];
	return NULL;
}

/* The build id and PT_LOAD segments of an ELF file. Returns 0 or -1. */
static int read_elf(struct sym_file *f)
{
	int fd = open_regular_file(f->path);
	const void *id;
	size_t n = 0;
	ssize_t len;
	Elf *elf;
	int ret = -1;

	if (fd < 0)
		return -1;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	len = dwelf_elf_gnu_build_id(elf, &id);
	if (len <= 0)
		goto out;
	memcpy(f->build_id, id, len < BUILD_ID_LEN ? (size_t)len : BUILD_ID_LEN);
	f->has_id = f->id_read = true;
	if (elf_getphdrnum(elf, &n) || !n)
		goto out;
	f->phdrs = calloc(n, sizeof(*f->phdrs));
	if (!f->phdrs)
		goto out;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		f->phdrs[f->nphdrs][0] = ph.p_offset;
		f->phdrs[f->nphdrs][1] = ph.p_filesz;
		f->phdrs[f->nphdrs][2] = ph.p_vaddr;
		f->nphdrs++;
	}
	ret = 0;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

void symbolizer_add_file(struct symbolizer *s, const char *path)
{
	struct sym_file f = { 0 };

	if (!s || !path || path[0] != '/' || find_path(s, path))
		return;
	f.path = strdup(path);
	if (!f.path)
		return;
	if (read_elf(&f) || find_id(s, f.build_id)) {
		/* not ELF, no build id, or a copy of a known file: remember the
		 * path only, so it is not read again */
		f.has_id = false;
		free(f.phdrs);
		f.phdrs = NULL;
		f.nphdrs = 0;
	}
	if (!array_grow((void **)&s->files, &s->cap, s->nfiles, sizeof(*s->files))) {
		free(f.path);
		free(f.phdrs);
		return;
	}
	s->files[s->nfiles++] = f;
}

void symbolizer_add_maps(struct symbolizer *s, int pid)
{
	char path[64], line[4096 + 128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/'), *nl;

		/* "start-end perms offset dev inode   /path" (maybe " (deleted)") */
		if (!p)
			continue;
		nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		symbolizer_add_file(s, p);
	}
	fclose(f);
}

void symbolizer_add_all_maps(struct symbolizer *s)
{
	struct dirent *d;
	DIR *dir;

	if (s->all_maps_done)
		return;
	s->all_maps_done = true;
	dir = opendir("/proc");
	if (!dir)
		return;
	while ((d = readdir(dir)))
		if (d->d_name[0] >= '1' && d->d_name[0] <= '9')
			symbolizer_add_maps(s, atoi(d->d_name));
	closedir(dir);
}

bool symbolizer_file_build_id(struct symbolizer *s, const char *path, unsigned char *build_id)
{
	struct sym_file *f;

	symbolizer_add_file(s, path);
	f = find_path(s, path);
	if (!f || !f->id_read)
		return false;
	memcpy(build_id, f->build_id, BUILD_ID_LEN);
	return true;
}

bool symbolizer_knows(struct symbolizer *s, const unsigned char *build_id)
{
	return find_id(s, build_id) != NULL;
}

int file_offset_to_vaddr(const uint64_t (*phdrs)[3], size_t n, uint64_t off, uint64_t *addr)
{
	for (size_t i = 0; i < n; i++) {
		if (off >= phdrs[i][0] && off < phdrs[i][0] + phdrs[i][1]) {
			*addr = off - phdrs[i][0] + phdrs[i][2];
			return 0;
		}
	}
	return -1;
}

static int open_module(struct sym_file *f)
{
	if (f->mod || f->open_failed)
		return f->mod ? 0 : -1;
	f->dwfl = dwfl_begin(&offline_callbacks);
	if (f->dwfl) {
		dwfl_report_begin(f->dwfl);
		/* base 0, as laid out in the file: addresses are p_vaddr; the
		 * file opened here, not by libdwfl (never a FIFO put there) */
		int fd = open_regular_file(f->path);

		f->mod = fd < 0 ? NULL : dwfl_report_elf(f->dwfl, f->path, f->path, fd, 0, false);
		dwfl_report_end(f->dwfl, NULL, NULL);
	}
	f->open_failed = !f->mod;
	return f->mod ? 0 : -1;
}

/* libstdc++'s demangler (the C++ ABI's, callable from C). */
extern char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

/* A C++ symbol ("_ZN2wl5Arena4fillEm") as its source names it
 * ("wl::Arena::fill(unsigned long)"); any other name as it is. */
static void demangle(const char *name, char *buf, size_t len)
{
	char *plain = !strncmp(name, "_Z", 2) ? __cxa_demangle(name, NULL, NULL, NULL) : NULL;

	snprintf(buf, len, "%s", plain ? plain : name);
	free(plain);
}

static const char *basename_of(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* The file with this build id, opened, and the address (in libdwfl's
 * terms) of its file offset; ret_addr: just before it, at the call.
 * Returns NULL if the build id is unknown or no segment maps the offset:
 * then it is not code (a frame-pointer walk through code built without
 * frame pointers reads garbage past its real frames). *mod is NULL if the
 * file could not be opened. */
static struct sym_file *code_at(struct symbolizer *s, const unsigned char *build_id, uint64_t offset,
				bool ret_addr, Dwfl_Module **mod, GElf_Addr *addr)
{
	struct sym_file *f = find_id(s, build_id);
	uint64_t vaddr, look = ret_addr && offset ? offset - 1 : offset;
	GElf_Addr bias = 0;

	*mod = NULL;
	if (!f || file_offset_to_vaddr((const uint64_t (*)[3])f->phdrs, f->nphdrs, look, &vaddr))
		return NULL;
	if (!open_module(f)) {
		*mod = f->mod;
		dwfl_module_getelf(f->mod, &bias);
	}
	*addr = vaddr + bias;
	return f;
}

/* The name of the code at offset of file f (found by code_at) into buf. */
static void name_code(struct sym_file *f, Dwfl_Module *mod, GElf_Addr addr, uint64_t offset, char *buf,
		      size_t len)
{
	const char *name = NULL;

	if (mod) {
		GElf_Off sym_off;
		GElf_Sym sym;

		name = dwfl_module_addrinfo(mod, addr, &sym_off, &sym, NULL, NULL, NULL);
	}
	if (name)
		demangle(name, buf, len);
	else
		snprintf(buf, len, "%s+0x%llx", basename_of(f->path), (unsigned long long)offset);
}

const char *symbolizer_user(struct symbolizer *s, const unsigned char *build_id, uint64_t offset,
			    bool ret_addr, char *buf, size_t len)
{
	unsigned char key[BUILD_ID_LEN + sizeof(offset) + 1];
	Dwfl_Module *mod;
	GElf_Addr addr;
	struct sym_file *f = code_at(s, build_id, offset, ret_addr, &mod, &addr);
	bool added;
	uint64_t id;

	/* not cached: the file may become known later (symbolizer_add_*) */
	if (!f) {
		snprintf(buf, len, "[unknown]");
		return buf;
	}
	memcpy(key, build_id, BUILD_ID_LEN);
	memcpy(key + BUILD_ID_LEN, &offset, sizeof(offset));
	key[sizeof(key) - 1] = ret_addr;
	id = s->names_off ? 0 : intern(&s->named, key, sizeof(key), &added);
	if (id && !added && s->names[id - 1]) {
		snprintf(buf, len, "%s", s->names[id - 1]);
		return buf;
	}
	name_code(f, mod, addr, offset, buf, len);
	if (id && added) {
		if (array_grow((void **)&s->names, &s->names_cap, id - 1, sizeof(*s->names)))
			s->names[id - 1] = strdup(buf); /* NULL if out of memory: named again */
		else
			s->names_off = true; /* names[] no longer matches the ids */
	}
	return buf;
}

const char *symbolizer_user_line(struct symbolizer *s, const unsigned char *build_id, uint64_t offset,
				 bool ret_addr, int *line)
{
	Dwfl_Module *mod;
	GElf_Addr addr;
	bool code = code_at(s, build_id, offset, ret_addr, &mod, &addr);
	Dwfl_Line *l = code && mod ? dwfl_module_getsrc(mod, addr) : NULL;
	const char *file = l ? dwfl_lineinfo(l, NULL, line, NULL, NULL, NULL) : NULL;

	if (!file)
		*line = 0;
	return file;
}

bool symbolizer_is_code(struct symbolizer *s, const unsigned char *build_id, uint64_t offset)
{
	struct sym_file *f = find_id(s, build_id);
	uint64_t vaddr;

	return f && !file_offset_to_vaddr((const uint64_t (*)[3])f->phdrs, f->nphdrs, offset, &vaddr);
}

const char *symbolizer_path(struct symbolizer *s, const unsigned char *build_id)
{
	struct sym_file *f = find_id(s, build_id);

	return f ? f->path : NULL;
}

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void load_kallsyms(struct symbolizer *s)
{
	char line[512], name[256], type;
	unsigned long long addr;
	size_t cap = 0;
	FILE *f;

	s->ksyms_loaded = true;
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || !addr)
			continue;
		if (type != 't' && type != 'T')
			continue;
		if (!array_grow((void **)&s->ksyms, &cap, s->nksyms, sizeof(*s->ksyms)))
			break;
		s->ksyms[s->nksyms].addr = addr;
		s->ksyms[s->nksyms].name = strdup(name);
		if (s->ksyms[s->nksyms].name)
			s->nksyms++;
	}
	fclose(f);
	if (s->nksyms)
		qsort(s->ksyms, s->nksyms, sizeof(*s->ksyms), cmp_ksym);
}

const char *symbolizer_kernel(struct symbolizer *s, uint64_t ip, bool ret_addr, char *buf,
			      size_t len)
{
	uint64_t look = ret_addr && ip ? ip - 1 : ip;
	size_t lo = 0, hi;

	if (!s->ksyms_loaded)
		load_kallsyms(s);
	hi = s->nksyms;
	/* the last symbol at or below look */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->ksyms[mid].addr <= look)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		snprintf(buf, len, "[kernel]");
	else
		snprintf(buf, len, "%s", s->ksyms[lo - 1].name);
	return buf;
}
