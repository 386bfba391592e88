/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names for the frames --stacks captured. User frames come from the kernel as
 * (build id, file offset), which stay valid after the process is gone: the
 * files are found by build id among the executables traced processes exec'd
 * and the files mapped by processes seen alive; elfutils' libdwfl reads their
 * symbol tables (and separate debug info: trace/debuginfo.h). Kernel frames are
 * addresses, named from /proc/kallsyms.
 */
#ifndef SYMBOLIZE_H
#define SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUILD_ID_LEN 20 /* the kernel pads shorter ones with zeros */

struct symbolizer;

struct symbolizer *symbolizer_new(void);
void symbolizer_free(struct symbolizer *s);

/* Index an ELF file by its build id (once per path; non-ELF files ignored). */
void symbolizer_add_file(struct symbolizer *s, const char *path);
/* Index every file mapped by process pid (silently nothing if it is gone). */
void symbolizer_add_maps(struct symbolizer *s, int pid);
/* Index the files mapped by every process on the system (a last resort for
 * build ids not found otherwise; done at most once). */
void symbolizer_add_all_maps(struct symbolizer *s);

/* The build id of the ELF file at path (indexed first if new). Returns
 * false if it is not ELF or has none. */
bool symbolizer_file_build_id(struct symbolizer *s, const char *path, unsigned char *build_id);

/* Whether a file with this build id is known. */
bool symbolizer_knows(struct symbolizer *s, const unsigned char *build_id);

/*
 * The function at a file offset of the file with this build id. ret_addr: the
 * offset is a return address (every frame but the innermost), so look just
 * before it, at the call. Writes "function", or "file+0xOFFSET" without a
 * symbol, or "[unknown]" for an unknown build id. Returns buf.
 */
const char *symbolizer_user(struct symbolizer *s, const unsigned char *build_id, uint64_t offset,
			    bool ret_addr, char *buf, size_t len);

/* The source file (owned by the symbolizer) and *line of that code, from the
 * file's debug info or its separate debug file; NULL and *line = 0 where
 * none says. */
const char *symbolizer_user_line(struct symbolizer *s, const unsigned char *build_id, uint64_t offset,
				 bool ret_addr, int *line);

/* Whether a known file with this build id maps that offset (a segment's):
 * not a value a frame-pointer walk read past the real frames. */
bool symbolizer_is_code(struct symbolizer *s, const unsigned char *build_id, uint64_t offset);

/* The path of the file with this build id, or NULL if none is known. */
const char *symbolizer_path(struct symbolizer *s, const unsigned char *build_id);

/* The kernel function at ip (/proc/kallsyms), or "[kernel]". Returns buf. */
const char *symbolizer_kernel(struct symbolizer *s, uint64_t ip, bool ret_addr, char *buf,
			      size_t len);

/* Offset in the file -> address in the ELF image, through the PT_LOAD
 * segment that maps it. phdrs: {p_offset, p_filesz, p_vaddr} triples.
 * Returns 0 and *addr, or -1 if no segment maps it. (Exposed for tests.) */
int file_offset_to_vaddr(const uint64_t (*phdrs)[3], size_t n, uint64_t off, uint64_t *addr);

#endif
