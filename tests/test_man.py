# SPDX-License-Identifier: GPL-2.0
"""The manual pages (roff built by pandoc from docs/man/*.8.md): groff and
man render them without a warning, each has the sections a manual page owes
its reader, and every option `--help` lists is documented in OPTIONS, so that
a new option without documentation fails here."""

import os
import re
import subprocess

import pytest

from harness import IN_VM, ROOT, help_options

pytestmark = pytest.mark.skipif(IN_VM, reason="the manual pages do not depend on the kernel: tested on the host")

MAN = ROOT / "build" / "man"
# page -> the rsstrace arguments that print its --help
PAGES = {"rsstrace.8": [], "rsstrace-top.8": ["top"], "rsstrace-serve.8": ["serve"]}
REQUIRED = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "FILES", "EXAMPLES", "SEE ALSO"]


@pytest.fixture(scope="module", autouse=True)
def built_pages():
    p = subprocess.run(["make", "-s", "-C", str(ROOT), "man"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"make man failed: {p.stderr}"


def roff(page):
    return (MAN / page).read_text()


def sections(text):
    """{section name: its roff text}."""
    parts = re.split(r'^\.SH "?([^"\n]*)"?$', text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def plain(roff_text):
    """roff text with font changes and escaped hyphens undone (enough to find
    option names in it)."""
    text = re.sub(r"\\f(\[[A-Z]*\]|[BIRPV])", "", roff_text)
    return text.replace("\\-", "-")


@pytest.mark.parametrize("page", PAGES)
def test_groff_and_man_render_without_warnings(page):
    p = subprocess.run(["groff", "-ww", "-z", "-t", "-man", str(MAN / page)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    p = subprocess.run(["man", "--warnings", "-l", str(MAN / page)], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat"))
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert "EXIT STATUS" in p.stdout


@pytest.mark.parametrize("page", PAGES)
def test_page_has_the_sections_of_a_manual(page):
    text = roff(page)
    th = re.search(r'^\.TH "([^"]+)" "(\d)"', text, re.M)
    assert th and th.groups() == (page.rsplit(".", 1)[0].upper(), "8"), th
    have = list(sections(text))
    missing = [s for s in REQUIRED if s not in have]
    assert not missing, f"{page} lacks {missing}; has {have}"
    whatis = subprocess.run(["lexgrog", str(MAN / page)], capture_output=True, text=True, timeout=30)
    name = page.rsplit(".", 1)[0]
    assert whatis.returncode == 0 and f'"{name} - ' in whatis.stdout, f"apropos cannot parse NAME: {whatis}"
    see_also = plain(sections(text)["SEE ALSO"])
    for other in PAGES:
        if other != page:
            name = other.rsplit(".", 1)[0]
            assert f"{name}(8)" in see_also, f"{page}: SEE ALSO does not name {name}(8)"


@pytest.mark.parametrize("page,args", PAGES.items())
def test_every_help_option_is_in_the_page(page, args):
    documented = plain(sections(roff(page))["OPTIONS"])
    missing = sorted(o for o in help_options(args) if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", documented))
    assert not missing, f"options in `rsstrace {' '.join(args)} --help` missing from {page}'s OPTIONS: {missing}"


def test_exit_statuses_are_documented():
    """Every status in src/core/exit_status.h is in rsstrace(8)'s EXIT STATUS."""
    codes = re.findall(r"^#define EXIT_\w+ (\d+)", (ROOT / "src/core/exit_status.h").read_text(), re.M)
    assert codes
    documented = plain(sections(roff("rsstrace.8"))["EXIT STATUS"])
    missing = [c for c in codes if not re.search(rf"\b{c}\b", documented)]
    assert not missing, f"exit statuses missing from rsstrace(8): {missing}"
