// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "trace/debuginfo.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/array.h"
#include "core/regular_file.h"

#define MAX_BUILD_ID 64 /* libdwfl's own bound */

/* One lookup's answer: the debug file's path, or NULL for a miss. The link
 * is the .gnu_debuglink name, or a dwz file's .gnu_debugaltlink name when
 * libdwfl looks for the alternate file of a module it already has. */
struct lookup {
	unsigned char id[MAX_BUILD_ID];
	int id_len;
	char *link;
	char *path;
};

/* Global: libdwfl's callbacks carry no context of ours, and the unwinding
 * thread's sessions and the summary's must share the answers. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct lookup *lookups;
static size_t nlookups, lookups_cap;
static char **fetched; /* basenames of the files named through debuginfod */
static size_t nfetched, fetched_cap, asked;
static int server_error; /* a server failed (errno): asked no more this run */

static const char *urls(void)
{
	const char *u = getenv("DEBUGINFOD_URLS");

	return u && *u ? u : NULL;
}

char *debuginfo_search_path;

static void set_debuginfod_defaults(void)
{
	if (!urls())
		return; /* libdebuginfod asks no server and writes no cache */
	setenv("DEBUGINFOD_TIMEOUT", DEBUGINFO_TIMEOUT_S, 0);
	if (getenv("DEBUGINFOD_CACHE_PATH") || geteuid() != 0)
		return;
	/* libdebuginfod creates the last directory only (a missing parent:
	 * every lookup failed, measured with 0.188) */
	if (mkdir("/var/cache/rsstrace", 0755) && errno != EEXIST)
		return; /* its own default then; the lookups say what they found */
	setenv("DEBUGINFOD_CACHE_PATH", DEBUGINFO_ROOT_CACHE, 1);
}

int debuginfo_setup(const char *dir)
{
	set_debuginfod_defaults();
	/* libdwfl's default with dir before /usr/lib/debug: "" is the file's
	 * own directory, ".debug" a subdirectory of it (debuglink names) */
	if (dir && asprintf(&debuginfo_search_path, ":.debug:%s:/usr/lib/debug", dir) < 0) {
		debuginfo_search_path = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Where libdebuginfod keeps what it downloads (its own default when the
 * variable is unset: $XDG_CACHE_HOME, else ~/.cache). Returns 0 or -1. */
static int cache_dir(char *buf, size_t len)
{
	const char *set = getenv("DEBUGINFOD_CACHE_PATH"), *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	char dir[PATH_MAX];

	if (set && *set)
		snprintf(dir, sizeof(dir), "%s", set);
	else if (xdg && *xdg)
		snprintf(dir, sizeof(dir), "%s/debuginfod_client", xdg);
	else if (home && *home)
		snprintf(dir, sizeof(dir), "%s/.cache/debuginfod_client", home);
	else
		return -1;
	return realpath(dir, buf) && strlen(buf) < len ? 0 : -1;
}

/* Whether the open file is one libdebuginfod downloaded (or had cached). */
static bool from_debuginfod(const char *path)
{
	char dir[PATH_MAX];
	size_t n;

	if (cache_dir(dir, sizeof(dir)))
		return false;
	n = strlen(dir);
	return !strncmp(path, dir, n) && path[n] == '/';
}

static char *fd_path(int fd)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return NULL;
	path[n] = 0;
	return strdup(path);
}

static struct lookup *find_lookup(const unsigned char *id, int id_len, const char *link)
{
	for (size_t i = 0; i < nlookups; i++) {
		struct lookup *l = &lookups[i];

		if (l->id_len == id_len && !memcmp(l->id, id, id_len) &&
		    (l->link && link ? !strcmp(l->link, link) : l->link == link))
			return l;
	}
	return NULL;
}

/* A known answer again: the file reopened (libdwfl owns the fd and name). */
static int reopen(const struct lookup *l, char **debuginfo_file_name)
{
	int fd;

	if (!l->path) {
		errno = ENOENT;
		return -1;
	}
	fd = open_regular_file(l->path);
	if (fd >= 0)
		*debuginfo_file_name = strdup(l->path);
	return fd;
}

static void note_fetched(const char *file_name)
{
	const char *base = file_name ? strrchr(file_name, '/') : NULL;
	char *copy = strdup(base ? base + 1 : file_name ? file_name : "?");

	if (copy && array_grow((void **)&fetched, &fetched_cap, nfetched, sizeof(*fetched)))
		fetched[nfetched++] = copy;
	else
		free(copy);
}

/* libdwfl's standard search, debuginfod last; once a server has failed,
 * the build-id tree only (libdwfl asks debuginfod in the standard search
 * whenever DEBUGINFOD_URLS is set, and each failure costs up to
 * (DEBUGINFOD_RETRY_LIMIT + 1) x DEBUGINFOD_TIMEOUT: seen 3 x 2 s against
 * a server that accepts and never answers). */
static int search(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		  const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
		  char **debuginfo_file_name)
{
	int fd;

	if (server_error)
		return dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name,
						    debuglink_file, debuglink_crc, debuginfo_file_name);
	fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
					  debuglink_crc, debuginfo_file_name);
	if (urls()) {
		asked += fd < 0;
		/* libdwfl returns libdebuginfod's -errno as it is: -ENOENT is the
		 * servers' "not found", other values their failure (-ETIME,
		 * -ECONNREFUSED, measured with elfutils 0.188); the local search
		 * gives -1 */
		if (fd < -1 && fd != -ENOENT)
			server_error = -fd;
	}
	return fd;
}

/* The first lookup of (id, link): searched, its answer kept. */
static int first_lookup(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			char **debuginfo_file_name, const unsigned char *id, int id_len)
{
	int fd = search(mod, userdata, modname, base, file_name, debuglink_file, debuglink_crc,
			debuginfo_file_name);
	struct lookup l = { .id_len = id_len };
	int saved = errno;

	memcpy(l.id, id, id_len);
	l.link = debuglink_file ? strdup(debuglink_file) : NULL;
	l.path = fd >= 0 ? fd_path(fd) : NULL;
	if (urls() && l.path && from_debuginfod(l.path)) {
		asked++;
		note_fetched(file_name ? file_name : modname);
	}
	if ((debuglink_file && !l.link) ||
	    !array_grow((void **)&lookups, &lookups_cap, nlookups, sizeof(*lookups))) {
		free(l.link); /* out of memory: not remembered, asked again */
		free(l.path);
	} else {
		lookups[nlookups++] = l;
	}
	errno = saved;
	return fd;
}

int debuginfo_find(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		   const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
		   char **debuginfo_file_name)
{
	const unsigned char *id = NULL;
	GElf_Addr id_vaddr;
	int id_len = mod ? dwfl_module_build_id(mod, &id, &id_vaddr) : -1;
	const struct lookup *l;
	int fd;

	/* without a build id there is nothing to ask a server for */
	if (id_len <= 0 || id_len > MAX_BUILD_ID)
		return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
						    debuglink_file, debuglink_crc, debuginfo_file_name);
	pthread_mutex_lock(&lock);
	l = find_lookup(id, id_len, debuglink_file);
	if (l)
		fd = reopen(l, debuginfo_file_name);
	else
		fd = first_lookup(mod, userdata, modname, base, file_name, debuglink_file,
				  debuglink_crc, debuginfo_file_name, id, id_len);
	pthread_mutex_unlock(&lock);
	return fd;
}

void debuginfo_get_report(struct debuginfo_report *r)
{
	pthread_mutex_lock(&lock);
	r->urls = urls();
	r->asked = asked;
	r->found = nfetched;
	r->files = (const char *const *)fetched;
	r->server_error = server_error;
	pthread_mutex_unlock(&lock);
}

void debuginfo_reset(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nlookups; i++) {
		free(lookups[i].link);
		free(lookups[i].path);
	}
	free(lookups);
	lookups = NULL;
	nlookups = lookups_cap = 0;
	for (size_t i = 0; i < nfetched; i++)
		free(fetched[i]);
	free(fetched);
	fetched = NULL;
	nfetched = fetched_cap = asked = 0;
	server_error = 0;
	free(debuginfo_search_path);
	debuginfo_search_path = NULL;
	pthread_mutex_unlock(&lock);
}
