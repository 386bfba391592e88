/* SPDX-License-Identifier: GPL-2.0 */
/* The frames of `rsstrace top -b`: the same view as plain text or as JSON
 * Lines (a "frame" object, then one per process and per recent peak). */
#ifndef TOP_BATCH_H
#define TOP_BATCH_H

#include <stdio.h>

#include "top/view.h"

void top_print_text(FILE *out, const struct top_view *v);
void top_print_json(FILE *out, const struct top_view *v);

#endif
