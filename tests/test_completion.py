# SPDX-License-Identifier: GPL-2.0
"""bash completion (dist/bash-completion/rsstrace), driven as bash drives it:
COMP_WORDS / COMP_CWORD set, the completion function called, COMPREPLY read.
Subcommands, every option of each --help (and no option the binary refuses),
file arguments, live PIDs for -p, users for --user, the command after `--`;
and bash-completion itself finds the installed file."""

import os
import pwd
import shlex
import subprocess

import pytest

from harness import IN_VM, ROOT, RSSTRACE, help_options

pytestmark = pytest.mark.skipif(IN_VM, reason="completion does not depend on the kernel: tested on the host")

SCRIPT = ROOT / "dist" / "bash-completion" / "rsstrace"
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


def complete(*words, cwd=None, prelude=f"source {shlex.quote(str(SCRIPT))}"):
    """COMPREPLY for the command line `words` (the last one being typed)."""
    quoted = " ".join(shlex.quote(w) for w in words)
    script = f"""{prelude}
COMP_WORDS=({quoted}); COMP_CWORD=$(({len(words)} - 1))
COMP_LINE={shlex.quote(" ".join(words))}; COMP_POINT=${{#COMP_LINE}}
COMPREPLY=()
fn=$(complete -p rsstrace | sed -n 's/.*-F \\([^ ]*\\) .*/\\1/p')
[ -n "$fn" ] || {{ echo 'no completion registered for rsstrace' >&2; exit 3; }}
"$fn" rsstrace {shlex.quote(words[-1])} {shlex.quote(words[-2] if len(words) > 1 else "")}
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True, text=True,
                       timeout=30, cwd=cwd)
    assert p.returncode == 0, p.stderr
    return [line for line in p.stdout.split("\n") if line]


def test_first_word_offers_subcommands_and_options():
    reply = set(complete("rsstrace", ""))
    assert {"top", "serve"} <= reply
    assert help_options([]) <= reply


@pytest.mark.parametrize("sub", [[], ["top"], ["serve"]])
def test_options_are_those_of_help(sub):
    """Every option --help lists is offered; one offered beyond it must be
    accepted by the binary (-h, --version), so no option is invented."""
    offered = {w for w in complete("rsstrace", *sub, "-") if w != "--"}
    listed = help_options(sub)
    assert listed <= offered, f"not offered: {sorted(listed - offered)}"
    for extra in sorted(offered - listed):
        p = subprocess.run([str(RSSTRACE)] + sub + [extra], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, f"offered {extra} for `rsstrace {' '.join(sub)}` but it is refused: {p.stderr}"


def test_prefix_narrows_options():
    assert complete("rsstrace", "serve", "--max-") == ["--max-procs", "--max-cgroups"]


@pytest.mark.parametrize("opt", ["-o", "--output", "--csv", "--svg", "--folded", "--pprof"])
def test_file_arguments_complete_files(tmp_path, opt):
    (tmp_path / "mem-report.txt").write_text("")
    (tmp_path / "mem-chart.svg").write_text("")
    (tmp_path / "other").write_text("")
    assert sorted(complete("rsstrace", opt, "mem-", cwd=tmp_path)) == ["mem-chart.svg", "mem-report.txt"]
    assert sorted(complete("rsstrace", f"{opt}", "=", cwd=tmp_path)) == ["mem-chart.svg", "mem-report.txt",
                                                                         "other"]


def test_pid_completes_live_pids_and_list_elements():
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        pid = str(sleeper.pid)
        reply = complete("rsstrace", "-p", pid[:-1])
        assert pid in reply
        assert all(w.isdigit() and w.startswith(pid[:-1]) for w in reply), reply
        assert f"1,{pid}" in complete("rsstrace", "--pid", f"1,{pid[:-1]}")
    finally:
        sleeper.kill()
        sleeper.wait()


def test_serve_user_completes_users():
    want = sorted({u.pw_name for u in pwd.getpwall() if u.pw_name.startswith("no")})
    assert want, "no user starting with 'no' (nobody) on this machine"
    assert sorted(complete("rsstrace", "serve", "--user", "no")) == want


def test_after_double_dash_the_command_is_completed(tmp_path):
    assert "true" in complete("rsstrace", "--json", "--", "tru")
    (tmp_path / "input.dat").write_text("")
    assert complete("rsstrace", "--", "cat", "inp", cwd=tmp_path) == ["input.dat"]


def test_numbers_are_not_completed_with_options():
    assert complete("rsstrace", "-d", "") == []
    assert complete("rsstrace", "serve", "--max-cgroups", "") == []


def test_bash_completion_loads_the_installed_file(tmp_path):
    """bash-completion finds the file where make install puts it (its
    completions dir under XDG_DATA_DIRS) on the first Tab after rsstrace."""
    if not os.path.exists(BASH_COMPLETION):
        pytest.fail("bash-completion is not installed (scripts/install-deps test installs it)")
    p = subprocess.run(["make", "-s", "-C", str(ROOT), "install", f"DESTDIR={tmp_path}", "PREFIX=/usr/local"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    share = tmp_path / "usr/local/share"
    prelude = (f"export XDG_DATA_DIRS={shlex.quote(str(share))}; source {BASH_COMPLETION}; "
               "_completion_loader rsstrace")
    assert complete("rsstrace", "serve", "--allow", prelude=prelude) == ["--allow-remote"]
