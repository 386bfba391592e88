# SPDX-License-Identifier: GPL-2.0
"""The Debian package, as a fresh machine would use it: dpkg-buildpackage in
a copy of the tree (the repository stays clean), lintian without errors,
Depends covering every library the binary loads, then `apt-get install
./rsstrace_*.deb` on this machine; from the installed files: --version, man,
Tab completion, one trace and one scrape of `rsstrace serve`; the unit
installed but not enabled; and `apt-get purge` leaving nothing behind."""

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import IN_VM, ROOT, assert_row_matches_status, trace, wl
from test_completion import BASH_COMPLETION, complete
from test_install import makefile_version
from test_serve import Serve, parse_exposition, value

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(IN_VM, reason="the package does not depend on the kernel: built and installed "
                                               "on the host only")]

SBIN = Path("/usr/sbin/rsstrace")
UNIT = Path("/lib/systemd/system/rsstrace-serve.service")
APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=300"]
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")


def run(cmd, timeout=300, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    assert p.returncode == 0, f"{' '.join(map(str, cmd))} exited {p.returncode}: {p.stdout[-3000:]} {p.stderr[-3000:]}"
    return p


def installed_version():
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status} ${Version}", "rsstrace"], capture_output=True, text=True)
    return p.stdout.split()[-1] if p.returncode == 0 and "install ok installed" in p.stdout else None


def copy_tree(dest):
    """The tree as git sees it (tracked and new files, not build output)."""
    files = run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"]).stdout
    for rel in filter(None, files.split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    for tool in ("dpkg-buildpackage", "dh", "lintian"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is not installed (scripts/install-deps test installs it)")
    top = tmp_path_factory.mktemp("deb")
    src = top / "rsstrace"
    copy_tree(src)
    run(["dpkg-buildpackage", "-b", "-us", "-uc"], timeout=1200, cwd=src,
        env=dict(os.environ, DEB_BUILD_OPTIONS="parallel=2"))
    debs = glob.glob(str(top / "rsstrace_*.deb"))
    assert len(debs) == 1, os.listdir(top)
    return Path(debs[0]), src


@pytest.fixture(scope="module")
def installed(deb):
    if installed_version() is not None or SBIN.exists():
        pytest.fail(f"rsstrace is already installed on this machine ({SBIN}): the test would replace it")
    run(APT + ["install", str(deb[0])], env=APT_ENV)
    yield [Path(p) for p in run(["dpkg", "-L", "rsstrace"]).stdout.split("\n") if p]
    if installed_version() is not None:
        run(APT + ["purge", "rsstrace"], env=APT_ENV)


def test_version_is_the_makefiles(deb):
    changelog = (ROOT / "debian/changelog").read_text()
    assert re.match(rf"rsstrace \({re.escape(makefile_version())}\) ", changelog), changelog.splitlines()[0]


def test_lintian_finds_no_error(deb):
    p = subprocess.run(["lintian", "--fail-on", "error", str(deb[0])], capture_output=True, text=True, timeout=600)
    errors = [line for line in p.stdout.splitlines() if line.startswith("E:")]
    assert p.returncode == 0 and not errors, p.stdout + p.stderr


def test_depends_covers_every_library_the_binary_needs(deb):
    """Depends comes from dpkg-shlibdeps: each NEEDED library's package is in it."""
    depends = run(["dpkg-deb", "-f", str(deb[0]), "Depends"]).stdout
    binary = deb[1] / "rsstrace"
    needed = re.findall(r"NEEDED\s+(\S+)", run(["objdump", "-p", str(binary)]).stdout)
    resolved = dict(re.findall(r"^\s*(\S+) => (\S+)", run(["ldd", str(binary)]).stdout, re.M))
    assert needed
    for lib in needed:
        owner = package_of(resolved[lib])
        assert re.search(rf"(^|, ){re.escape(owner)}( |,|$)", depends), f"{lib} ({owner}) not in Depends: {depends}"


def package_of(path):
    """The package that ships path (as loaded, or its /usr-merged real path)."""
    for candidate in (path, os.path.realpath(path)):
        p = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if p.returncode == 0:
            return p.stdout.split(":")[0]
    raise AssertionError(f"no package ships {path}")


def test_installed_files_and_unit_not_enabled(installed):
    files = set(installed)
    for want in (SBIN, UNIT, Path("/usr/share/man/man8/rsstrace.8.gz"), Path("/usr/share/man/man8/rsstrace-top.8.gz"),
                 Path("/usr/share/man/man8/rsstrace-serve.8.gz"),
                 Path("/usr/share/bash-completion/completions/rsstrace")):
        assert want in files and want.exists(), f"{want} not installed: {sorted(files)}"
    assert re.search(r"^ExecStart=/usr/sbin/rsstrace serve ", UNIT.read_text(), re.M)
    wants = glob.glob("/etc/systemd/system/*.wants/rsstrace-serve.service")
    assert not wants, f"the unit was enabled: {wants}"
    state = subprocess.run(["systemctl", "--root=/", "is-enabled", "rsstrace-serve.service"],
                           capture_output=True, text=True).stdout.strip()
    assert state == "disabled", state


def test_installed_version_and_man_page(installed):
    assert run(["rsstrace", "--version"], env=dict(os.environ, PATH="/usr/sbin:/usr/bin:/sbin:/bin")).stdout.strip() \
        == f"rsstrace {makefile_version()}"
    assert run(["man", "-w", "rsstrace"]).stdout.strip() == "/usr/share/man/man8/rsstrace.8.gz"
    page = run(["man", "rsstrace"], env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80"))
    assert page.stderr == "" and "EXIT STATUS" in page.stdout and "rsstrace-serve(8)" in page.stdout


def test_installed_completion_completes_an_option(installed):
    if not os.path.exists(BASH_COMPLETION):
        pytest.fail("bash-completion is not installed (scripts/install-deps test installs it)")
    prelude = f"source {BASH_COMPLETION}; _completion_loader rsstrace"
    assert complete("rsstrace", "--no-ch", prelude=prelude) == ["--no-children"]


def test_installed_binary_traces_a_workload(installed):
    run_ = trace([wl("spike"), "32", "4"], exe=SBIN)
    assert run_.code == 0, run_.stderr
    rep = run_.report("spike")
    assert_row_matches_status(run_.row(rep["pid"]), rep["status"], "packaged binary")


def test_installed_serve_answers_a_scrape(installed):
    srv = Serve("--user", "nobody", exe=SBIN)
    try:
        ctype, text = srv.scrape()
        fams = parse_exposition(text, openmetrics=ctype.startswith("application/openmetrics-text"))
        assert value(fams, "rsstrace_build_info", version=makefile_version()) == 1
        assert value(fams, "rsstrace_bpf_map_entries", map="mms") > 0, "no address space accounted"
    finally:
        code, err = srv.stop()
    assert code == 0, err


def test_purge_leaves_nothing(installed):
    run(APT + ["purge", "rsstrace"], env=APT_ENV)
    assert installed_version() is None
    left = [p for p in installed if p.exists() and not p.is_dir()]
    assert not left, f"files left after purge: {left}"
    assert not Path("/usr/share/doc/rsstrace").exists()
    state = [f for f in glob.glob("/var/lib/systemd/deb-systemd-helper-*/**", recursive=True) if "rsstrace" in f]
    assert not state, f"systemd helper state left after purge: {state}"
