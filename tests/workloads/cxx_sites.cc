// SPDX-License-Identifier: GPL-2.0
/*
 * A C++ allocation site without frame pointers (the Makefile builds it with
 * g++ -O2 -fomit-frame-pointer), for --stacks=dwarf's demangling: the pages
 * are faulted in by wl::Arena::fill(unsigned long), called from main. Its
 * symbol in the binary is the mangled _ZN2wl5Arena4fillEm.
 * usage: cxx_sites [MIB=8]
 */
#include <cstdio>
#include <cstdlib>
#include <sys/mman.h>

namespace wl {
struct Arena {
	__attribute__((noinline)) static char *fill(unsigned long bytes);
};

char *Arena::fill(unsigned long bytes)
{
	void *m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char *p = static_cast<volatile char *>(m);

	if (m == MAP_FAILED) {
		perror("mmap");
		std::exit(1);
	}
	for (unsigned long i = 0; i < bytes; i += 4096)
		p[i] = 1;
	return static_cast<char *>(m);
}
} // namespace wl

volatile char wl_sink; // keeps the call from becoming a tail call

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 8;

	wl_sink = wl::Arena::fill(mib << 20)[0];
	return 0;
}
