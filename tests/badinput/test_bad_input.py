"""Broken inputs through the real CLI: one clear error, the right exit code, nothing written.

Each case copies a small valid bundle (`base-env/` or `base-svc/`: `bundle/`, `spec.yaml`,
`context.yaml`) into `tmp_path/work`, lays the case's folder under `cases/<id>/` over it, removes
what the case removes, optionally builds a tarball or a link, and runs
`python -m protoncli ...` in a subprocess with `cwd` in the work folder, so the exit code,
stdout and stderr are exactly what a user sees. README.md lists the cases.

Every case asserts:
- the exit code (1: bad bundle or render failure; 2: bad flags, spec, context or input value);
- no "Traceback" on stdout or stderr, and no internal-error message;
- stderr's first line starts with "Error: " (Typer's "Usage: " block for an unknown flag) and
  names what and where (file:line, input, instance as applicable); `stderr` fragments may sit
  in the detail and hint lines;
- nothing new, changed or removed under `tmp_path` (work folder, output folder, PCLI_HOME,
  registry, TMPDIR): a failed command writes nothing, not even part of its output.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
BASES = {"env": HERE / "base-env", "svc": HERE / "base-svc"}

RENDER = (
    "blueprint",
    "render",
    "{bundle}",
    "--spec",
    "{spec}",
    "--context",
    "{context}",
    "--output-dir",
    "{out}",
    "--name",
    "{name}",
)
WRAPPER = "environment"  # the folder a tarball wraps its bundle in, as `tar -czf x environment/`
LONG_NAME = "n" * 101
Listing = dict[str, tuple[str, int, int]]  # path -> (kind, size, mtime)


@dataclass(frozen=True)
class Case:
    id: str
    base: str
    exit_code: int
    first_line: tuple[str, ...]  # fragments of stderr's first line (after "Error: ")
    stderr: tuple[str, ...] = ()  # fragments anywhere in stderr (details, hint)
    args: tuple[str, ...] = RENDER
    name: str = "dev"
    remove: tuple[str, ...] = ()  # paths under the work folder to delete before running
    first_prefix: str = "Error: "  # how stderr's first line starts


# --------------------------------------------------------------------------------------------
# Tarballs and links, built per test (no binary files in the corpus)


def _add_tree(tar: tarfile.TarFile, bundle: Path, prefix: str = WRAPPER) -> None:
    for path in sorted(bundle.rglob("*")):
        tar.add(path, arcname=f"{prefix}/{path.relative_to(bundle).as_posix()}", recursive=False)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _add_link(tar: tarfile.TarFile, name: str, target: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    tar.addfile(info)


def _archive(work: Path, extra: Callable[[tarfile.TarFile], None] | None = None) -> None:
    """Write work/bundle.tar.gz: the base bundle under `environment/`, then `extra` members."""
    with tarfile.open(work / "bundle.tar.gz", "w:gz") as tar:
        _add_tree(tar, work / "bundle")
        if extra is not None:
            extra(tar)


def tar_dotdot(work: Path) -> None:
    _archive(work, lambda tar: _add_bytes(tar, f"{WRAPPER}/../../escaped.yaml", b"owned: true\n"))


def tar_absolute(work: Path) -> None:
    # An absolute member aimed at the test's own folder: if pcli ever wrote it, the
    # before/after listing of tmp_path would show it.
    target = (work.parent / "escaped-absolute.yaml").as_posix()
    _archive(work, lambda tar: _add_bytes(tar, target, b"owned: true\n"))


def tar_symlink(work: Path) -> None:
    def extra(tar: tarfile.TarFile) -> None:
        _add_link(tar, f"{WRAPPER}/infrastructure/secrets.yaml", "../../../outside/secrets.yaml")

    _archive(work, extra)


def tar_oversize(work: Path) -> None:
    big = b"\0" * (5 * 1024 * 1024 + 1024)  # compresses to a few KB
    _archive(work, lambda tar: _add_bytes(tar, f"{WRAPPER}/infrastructure/blob.bin", big))


def tar_truncated(work: Path) -> None:
    _archive(work)
    archive = work / "bundle.tar.gz"
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])


def tar_not_gzip(work: Path) -> None:
    (work / "bundle.tar.gz").write_text("this is a README, not an archive\n", encoding="utf-8")


def dir_symlink(work: Path) -> None:
    outside = work.parent / "outside"
    outside.mkdir()
    (outside / "secrets.yaml").write_text("password: hunter2\n", encoding="utf-8")
    (work / "bundle" / "infrastructure" / "secrets.yaml").symlink_to(outside / "secrets.yaml")


def output_blocked(work: Path) -> None:
    """An output folder whose `prod` is a file: the second instance cannot be written."""
    out = work.parent / "out"
    out.mkdir()
    (out / "prod").write_text("not a folder\n", encoding="utf-8")


def _with(args: tuple[str, ...], old: str, new: str) -> tuple[str, ...]:
    return tuple(new if arg == old else arg for arg in args)


ARCHIVE_RENDER = _with(RENDER, "{bundle}", "{archive}")

# --------------------------------------------------------------------------------------------
# The cases

CASES_TABLE: tuple[Case, ...] = (
    # Malformed YAML, each file pcli reads
    Case("yaml-schema", "env", 1, ("schema/schema.yaml:11:", "invalid YAML")),
    Case("yaml-manifest", "env", 1, ("infrastructure/manifest.yaml:6:", "invalid YAML")),
    Case("yaml-spec", "env", 2, ("spec.yaml:5:", "invalid YAML")),
    Case("yaml-context", "env", 2, ("context.yaml:5:", "invalid YAML")),
    # Schemas outside Proton's OpenAPI subset
    Case("schema-nested-object", "env", 1, ("schema/schema.yaml:12:", "network", "object")),
    Case("schema-oneof", "env", 1, ("schema/schema.yaml:12:", "az_count", "oneOf")),
    Case("schema-ref", "env", 1, ("schema/schema.yaml:12:", "subnet", "$ref")),
    Case("schema-unknown-keyword", "env", 1, ("schema/schema.yaml:11:", "team", "minLenght")),
    Case("schema-openapi-version", "env", 1, ("schema/schema.yaml:3:", "3.1.0", "3.0.0")),
    Case("schema-no-input-type", "env", 1, ("schema/schema.yaml", "environment_input_type")),
    Case(
        "schema-input-type-undefined",
        "env",
        1,
        ("schema/schema.yaml:4:", "NetworkInputs"),
    ),
    Case("schema-property-without-type", "env", 1, ("schema/schema.yaml:11:", "vpc_cidr", "type")),
    # Spec values that break the schema
    Case("spec-type", "env", 2, ("spec.yaml:4:", "az_count", "three")),
    Case("spec-enum", "env", 2, ("spec.yaml:4:", "tier", "staging")),
    Case("spec-duplicate-key", "env", 2, ("spec.yaml:5:", "duplicate key 'team'", "line 3")),
    Case("spec-pattern", "env", 2, ("spec.yaml:4:", "vpc_cidr", "10.0.0.0/8")),
    Case("spec-min-length", "env", 2, ("spec.yaml:3:", "team", "at least 2")),
    Case("spec-max-length", "env", 2, ("spec.yaml:3:", "team", "at most 12")),
    Case("spec-minimum", "env", 2, ("spec.yaml:4:", "az_count", "minimum of 1")),
    Case("spec-maximum", "env", 2, ("spec.yaml:4:", "az_count", "maximum of 3")),
    Case("spec-missing-required", "env", 2, ("spec.yaml", "team")),
    Case(
        "spec-two-instances",
        "svc",
        2,
        ("spec.yaml", "4 inputs are not valid"),
        stderr=(
            "api-dev",
            "image",
            "spec.yaml:6:",
            "port",
            "api-prod",
            "spec.yaml:11:",
            "70000",
            "spec.yaml:12:",
            "huge",
        ),
        name="api",
    ),
    Case("spec-wrong-kind", "env", 2, ("spec.yaml", "ServiceSpec", "environment blueprint")),
    Case("spec-current-val", "env", 2, ("spec.yaml:4:", "tier", "Proton::CURRENT_VAL")),
    Case("spec-unknown-kind", "env", 2, ("spec.yaml:1:", "EnvSpec", "EnvironmentSpec")),
    Case(
        "spec-instance-structure",
        "svc",
        2,
        ("spec.yaml", "3 problems"),
        stderr=("spec.yaml:7:", "'api-dev' appears twice", "spec.yaml:11:", "'api prod'"),
        name="api",
    ),
    Case(
        "spec-file-missing",
        "env",
        2,
        ("missing-spec.yaml", "not found"),
        args=_with(RENDER, "{spec}", "{work}/missing-spec.yaml"),
    ),
    Case("context-bad-account", "env", 2, ("context.yaml:2:", "account_id", "12345")),
    # Unknown template kinds
    Case(
        "kind-no-layout",
        "env",
        1,
        ("bundle", "templates/"),
        remove=("bundle/schema", "bundle/infrastructure"),
    ),
    Case("kind-mixed-layout", "env", 1, ("bundle", "infrastructure/", "instance_infrastructure/")),
    Case("manifest-unknown-engine", "env", 1, ("infrastructure/manifest.yaml:4:", "mustache")),
    # Archives and links
    Case("tar-dotdot", "env", 1, ("bundle.tar.gz", "escaped.yaml", "outside"), args=ARCHIVE_RENDER),
    Case(
        "tar-absolute",
        "env",
        1,
        ("bundle.tar.gz", "escaped-absolute.yaml", "absolute"),
        args=ARCHIVE_RENDER,
    ),
    Case(
        "tar-symlink-escape",
        "env",
        1,
        ("bundle.tar.gz", "secrets.yaml", "outside"),
        args=ARCHIVE_RENDER,
    ),
    Case("tar-oversize", "env", 1, ("bundle.tar.gz", "5,242,880"), args=ARCHIVE_RENDER),
    Case("tar-truncated", "env", 1, ("bundle.tar.gz", "corrupt"), args=ARCHIVE_RENDER),
    Case(
        "tar-not-gzip",
        "env",
        1,
        ("bundle.tar.gz", "not a gzip-compressed tar archive"),
        args=ARCHIVE_RENDER,
    ),
    Case("dir-symlink-escape", "env", 1, ("infrastructure/secrets.yaml", "outside the bundle")),
    # Jinja
    Case("jinja-syntax-error", "env", 1, ("infrastructure/cloudformation.yaml:", "syntax")),
    Case(
        "jinja-undefined",
        "env",
        1,
        ("infrastructure/cloudformation.yaml:7:", "environment.inputs.tenancy"),
    ),
    Case("sandbox-mro", "env", 1, ("infrastructure/cloudformation.yaml:6:", "sandbox")),
    Case("sandbox-cycler-globals", "env", 1, ("infrastructure/cloudformation.yaml:6:", "sandbox")),
    Case("sandbox-lipsum-globals", "env", 1, ("infrastructure/cloudformation.yaml:6:", "sandbox")),
    Case("sandbox-subclasses", "env", 1, ("infrastructure/cloudformation.yaml:6:", "sandbox")),
    Case("sandbox-format-string", "env", 1, ("infrastructure/cloudformation.yaml:6:", "sandbox")),
    Case("sandbox-attr-filter", "env", 1, ("infrastructure/cloudformation.yaml:6:", "sandbox")),
    Case(
        "cfn-resolve-unescaped",
        "env",
        1,
        ("infrastructure/cloudformation.yaml:7:", "resolve:ssm"),
        stderr=("{% raw %}",),
    ),
    Case(
        "filter-sanitize",
        "env",
        1,
        ("infrastructure/cloudformation.yaml:6:", "this::is::incorrect", "^[a-zA-Z0-9_-]*$"),
    ),
    Case(
        "filter-env-vars-raw-false",
        "svc",
        1,
        ("instance_infrastructure/cloudformation.yaml:10:", "QueueUrl", "^[a-zA-Z0-9_-]*$"),
        name="api",
    ),
    # The rendered file is never written, so the message must name the template to fix.
    Case(
        "rendered-not-yaml",
        "env",
        1,
        ("infrastructure/cloudformation.yaml", "dev/", "invalid YAML"),
        stderr=("prod: 2",),
    ),
    Case(
        "no-resources",
        "env",
        1,
        ("infrastructure/cloudformation.yaml", "dev/", "Resources"),
    ),
    # Command line
    Case(
        "bundle-not-found",
        "env",
        2,
        ("no-such-bundle", "no such bundle"),
        args=_with(RENDER, "{bundle}", "{work}/no-such-bundle"),
    ),
    Case(
        "output-dir-is-a-file",
        "env",
        2,
        ("out-file", "not a folder"),
        args=_with(RENDER, "{out}", "{work}/out-file"),
    ),
    Case(
        "output-blocked-by-file",
        "svc",
        1,
        ("prod", "cannot write"),
        name="api",
    ),
    Case(
        "unknown-flag",
        "env",
        2,
        ("pcli blueprint render",),
        stderr=("No such option: --bogus",),
        args=(*RENDER, "--bogus"),
        first_prefix="Usage: ",
    ),
    # Names
    Case("name-empty", "env", 2, ("environment name", "empty"), name=""),
    Case("name-space", "env", 2, ("environment name 'my env'", "[0-9A-Za-z]"), name="my env"),
    Case("name-too-long", "env", 2, ("environment name 'nnn", "101", "100"), name=LONG_NAME),
    Case(
        "publish-name-space",
        "env",
        2,
        ("blueprint name", "my blueprint"),
        args=("--registry", "{registry}", "blueprint", "publish", "{bundle}", "--name", "{name}"),
        name="my blueprint",
    ),
    Case(
        "publish-name-too-long",
        "env",
        2,
        ("blueprint name", "101", "100"),
        args=("--registry", "{registry}", "blueprint", "publish", "{bundle}", "--name", "{name}"),
        name=LONG_NAME,
    ),
)

PREPARE: dict[str, Callable[[Path], None]] = {
    "tar-dotdot": tar_dotdot,
    "tar-absolute": tar_absolute,
    "tar-symlink-escape": tar_symlink,
    "tar-oversize": tar_oversize,
    "tar-truncated": tar_truncated,
    "tar-not-gzip": tar_not_gzip,
    "dir-symlink-escape": dir_symlink,
    "output-dir-is-a-file": lambda work: (work / "out-file").write_text("notes\n", "utf-8"),
    "output-blocked-by-file": output_blocked,
}


# --------------------------------------------------------------------------------------------
# Running a case


def _snapshot(root: Path) -> Listing:
    """Every path under `root`: (kind, size, mtime in ns; 0, 0 for folders).

    pcli's cache folder (PCLI_HOME/cache: remembered validation passes, account ids) is not
    user data and is left out.
    """
    listing: Listing = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == root / "home":
            dirnames[:] = [name for name in dirnames if name != "cache"]
        for name in [*dirnames, *filenames]:
            path = here / name
            status = path.lstat()
            kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
            # A folder's own mtime moves when a scratch entry comes and goes; its entries count.
            size, mtime = (0, 0) if kind == "dir" else (status.st_size, status.st_mtime_ns)
            listing[str(path.relative_to(root))] = (kind, size, mtime)
    return listing


def _set_up(case: Case, tmp_path: Path) -> Path:
    work = tmp_path / "work"
    shutil.copytree(BASES[case.base], work, symlinks=True)
    overlay = CASES / case.id
    if overlay.is_dir():
        shutil.copytree(overlay, work, dirs_exist_ok=True)
    for relative in case.remove:
        shutil.rmtree(work / relative)
    prepare = PREPARE.get(case.id)
    if prepare is not None:
        prepare(work)
    for folder in ("home", "tmp"):
        (tmp_path / folder).mkdir()
    return work


def _run(case: Case, tmp_path: Path, work: Path) -> subprocess.CompletedProcess[str]:
    values = {
        "bundle": str(work / "bundle"),
        "archive": str(work / "bundle.tar.gz"),
        "spec": str(work / "spec.yaml"),
        "context": str(work / "context.yaml"),
        "out": str(tmp_path / "out"),
        "registry": str(tmp_path / "registry"),
        "work": str(work),
        "name": case.name,
    }
    argv = [arg.format(**values) if "{" in arg else arg for arg in case.args]
    env = os.environ | {
        "PCLI_HOME": str(tmp_path / "home"),
        "NO_COLOR": "1",
        "TMPDIR": str(tmp_path / "tmp"),
        "COLUMNS": "100",
    }
    return subprocess.run(
        [sys.executable, "-m", "protoncli", *argv],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _assert_unchanged(before: Listing, after: Listing) -> None:
    """A failed command writes nothing: not in the output folder, not anywhere else."""
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changed = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    found = f"added {added}, removed {removed}, changed {changed}"
    assert (added, removed, changed) == ([], [], []), found


@pytest.mark.parametrize("case", CASES_TABLE, ids=[case.id for case in CASES_TABLE])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    work = _set_up(case, tmp_path)
    before = _snapshot(tmp_path)

    result = _run(case, tmp_path, work)

    shown = f"exit {result.returncode}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr, shown
    assert "internal error" not in result.stderr, shown
    assert result.returncode == case.exit_code, shown
    first, *_ = result.stderr.splitlines() or [""]
    assert first.startswith(case.first_prefix), shown
    for fragment in case.first_line:
        assert fragment in first, f"{fragment!r} not in the first line\n{shown}"
    for fragment in case.stderr:
        assert fragment in result.stderr, f"{fragment!r} not in stderr\n{shown}"
    _assert_unchanged(before, _snapshot(tmp_path))


def test_every_case_folder_is_in_the_table() -> None:
    folders = {path.name for path in CASES.iterdir() if path.is_dir()}
    assert folders <= {case.id for case in CASES_TABLE}


def test_the_readme_lists_every_case() -> None:
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    listed = {line.split("|")[1].strip() for line in readme.splitlines() if line.startswith("| ")}
    assert {case.id for case in CASES_TABLE} <= listed


def test_the_bases_render(tmp_path: Path) -> None:
    """The bases are valid, so each case fails for its own reason only."""
    for base, name in (("env", "dev"), ("svc", "api")):
        case = Case(f"base-{base}", base, 0, (), name=name)
        scratch = tmp_path / base
        scratch.mkdir()
        work = _set_up(case, scratch)
        result = _run(case, scratch, work)
        assert result.returncode == 0, result.stderr
        assert list((scratch / "out").rglob("cloudformation.yaml")), result.stdout


# `pcli blueprint lint` reports a broken bundle as findings on stdout (it is a report, not a
# failure of the command itself): exit 1, an ERROR line naming the file and line, nothing written.
LINT_CASES = (
    ("yaml-schema", ("schema/schema.yaml:11:", "invalid YAML")),
    ("tar-dotdot", ("bundle.tar.gz", "escaped.yaml", "outside")),
    ("jinja-undefined", ("infrastructure/cloudformation.yaml:7:", "environment.inputs.tenancy")),
    ("sandbox-mro", ("infrastructure/cloudformation.yaml:6:", "sandbox")),
    ("cfn-resolve-unescaped", ("infrastructure/cloudformation.yaml:7:", "resolve:ssm")),
    ("rendered-not-yaml", ("infrastructure/cloudformation.yaml", "invalid YAML")),
)
CASES_BY_ID = {case.id: case for case in CASES_TABLE}


@pytest.mark.parametrize(("case_id", "fragments"), LINT_CASES, ids=[c for c, _ in LINT_CASES])
def test_lint_reports_bad_input(case_id: str, fragments: tuple[str, ...], tmp_path: Path) -> None:
    lint = ("blueprint", "lint", CASES_BY_ID[case_id].args[2])
    case = Case(case_id, CASES_BY_ID[case_id].base, 1, (), args=lint)
    work = _set_up(case, tmp_path)
    before = _snapshot(tmp_path)

    result = _run(case, tmp_path, work)

    shown = f"exit {result.returncode}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr, shown
    assert result.returncode == 1, shown
    errors = [line for line in result.stdout.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, shown
    for fragment in fragments:
        assert fragment in errors[0], f"{fragment!r} not in the ERROR line\n{shown}"
    assert result.stdout.splitlines()[-1].startswith("Lint failed: 1 error(s)"), shown
    _assert_unchanged(before, _snapshot(tmp_path))


def test_the_unchanged_check_sees_every_write(tmp_path: Path) -> None:
    """The 'nothing written' check can fail: a new, a changed and a removed file all show."""
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "kept.txt").write_text("a\n", encoding="utf-8")
    before = _snapshot(tmp_path)
    _assert_unchanged(before, _snapshot(tmp_path))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "dev.yaml").write_text("rendered\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=r"added \['out', 'out/dev.yaml'\]"):
        _assert_unchanged(before, _snapshot(tmp_path))
    shutil.rmtree(tmp_path / "out")
    (tmp_path / "work" / "kept.txt").write_text("changed\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=r"changed \['work/kept.txt'\]"):
        _assert_unchanged(before, _snapshot(tmp_path))
    (tmp_path / "work" / "kept.txt").unlink()
    with pytest.raises(AssertionError, match=r"removed \['work/kept.txt'\]"):
        _assert_unchanged(before, _snapshot(tmp_path))
