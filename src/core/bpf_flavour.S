/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One flavour of the rss_account BPF object, embedded in the binary as
 * rss_account_bpf_<FLAVOUR>[] .. rss_account_bpf_<FLAVOUR>_end[]. The Makefile
 * assembles this file once per flavour (BPF_FLAVOURS, except the default one,
 * whose bytes the skeleton itself carries), with -DFLAVOUR=<name> and
 * -DFLAVOUR_OBJ="<linked .bpf.o>"; src/core/tracer.c chooses which bytes the
 * one skeleton type opens.
 */
#define CAT(a, b) a##b
#define XCAT(a, b) CAT(a, b)
#define START XCAT(rss_account_bpf_, FLAVOUR)
#define END XCAT(START, _end)

	.section .rodata
	.balign 8 /* an ELF image: libelf reads its headers in place */
	.globl START
	.type START, @object
START:
	.incbin FLAVOUR_OBJ
	.globl END
	.type END, @object
END:
	.size START, END - START

	.section .note.GNU-stack, "", @progbits
