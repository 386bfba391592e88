// SPDX-License-Identifier: GPL-2.0
#include "core/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/exit_status.h"
#include "core/text_escape.h"

int cli_error(const struct cli *c, const char *fmt, ...)
{
	char msg[1024], shown[TEXT_ESC_LEN(sizeof(msg))];
	va_list ap;

	/* the message echoes what was typed: escaped (core/text_escape.h) */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s", c->prog, text_escape(shown, sizeof(shown), msg, sizeof(msg)));
	fprintf(stderr, "\n%sTry '%s --help' for more information.\n", c->usage, c->prog);
	return EXIT_USAGE;
}

int cli_print(const struct cli *c, const char *text)
{
	/* `--help >/dev/full` said nothing and exited 0 */
	if (fputs(text, stdout) == EOF || fflush(stdout) == EOF) {
		fprintf(stderr, "%s: cannot write standard output: %s\n", c->prog, strerror(errno));
		return EXIT_OUTPUT_FAILED;
	}
	return -1;
}

int cli_parse(const struct cli *c, int argc, char **argv, void *opts)
{
	int opt, err;

	optind = 0; /* a fresh scan, whatever was parsed before */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, c->shorts, c->longs, NULL)) != -1) {
		if (opt == 'h')
			return cli_print(c, c->help);
		if (opt == '?')
			return cli_error(c, "unknown option or missing value: '%s'", argv[optind - 1]);
		err = c->on_option(c, opt, optarg, opts);
		if (err)
			return err;
	}
	if (c->on_operands)
		return c->on_operands(c, argv + optind, argc - optind, opts);
	if (optind < argc)
		return cli_error(c, "unexpected argument '%s'", argv[optind]);
	return 0;
}
