/* SPDX-License-Identifier: GPL-2.0 */
/* `rsstrace top`: a live, system-wide view of every address space. */
#ifndef TOP_H
#define TOP_H

/* argv[0] is "top". Returns the exit status. */
int top_main(int argc, char **argv);

#endif
