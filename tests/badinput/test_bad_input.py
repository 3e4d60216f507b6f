"""Broken inputs through the real CLI: one clear error, the right exit code, nothing written.

Each case copies a small valid bundle (`base-env/` or `base-svc/`: `bundle/`, `spec.yaml`,
`context.yaml`) into `tmp_path/work`, lays the case's folder under `cases/<id>/` over it, removes
what the case removes, optionally builds a tarball or a link, and runs
`python -m protoncli ...` in a subprocess with `cwd` in the work folder, so the exit code,
stdout and stderr are exactly what a user sees. README.md lists the cases.

Every case asserts:
- the exit code (1: bad bundle or render failure; 2: bad flags, spec, context or input value);
- no "Traceback" on stdout or stderr, and no internal-error message;
- stderr's first line starts with "Error: " and names what and where (file, line, input,
  instance as applicable); `stderr` fragments may sit in the detail and hint lines;
- nothing new or changed under `tmp_path` (work folder, PCLI_HOME, registry, TMPDIR) and no
  output folder at all: a failed command writes nothing.
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


def _archive(work: Path, extra: Callable[[tarfile.TarFile], None]) -> None:
    """Write work/bundle.tar.gz: the base bundle under `environment/`, then `extra` members."""
    with tarfile.open(work / "bundle.tar.gz", "w:gz") as tar:
        _add_tree(tar, work / "bundle")
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
    _archive(work, lambda tar: None)
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


ARCHIVE_RENDER = tuple("{archive}" if arg == "{bundle}" else arg for arg in RENDER)

# --------------------------------------------------------------------------------------------
# The cases

CASES_TABLE: tuple[Case, ...] = (
    # Malformed YAML, each file pcli reads
    Case("yaml-schema", "env", 1, ("schema/schema.yaml:11", "invalid YAML")),
    Case("yaml-manifest", "env", 1, ("infrastructure/manifest.yaml:6", "invalid YAML")),
    Case("yaml-spec", "env", 2, ("spec.yaml:", "invalid YAML")),
    Case("yaml-context", "env", 2, ("context.yaml:", "invalid YAML")),
    # Schemas outside Proton's OpenAPI subset
    Case("schema-nested-object", "env", 1, ("schema/schema.yaml:12", "network", "object")),
    Case("schema-oneof", "env", 1, ("schema/schema.yaml:12", "az_count", "oneOf")),
    Case("schema-ref", "env", 1, ("schema/schema.yaml:12", "subnet", "$ref")),
    Case("schema-unknown-keyword", "env", 1, ("schema/schema.yaml:11", "team", "minLenght")),
    Case("schema-openapi-version", "env", 1, ("schema/schema.yaml:3", "3.1.0", "3.0.0")),
    Case("schema-no-input-type", "env", 1, ("schema/schema.yaml", "environment_input_type")),
    Case(
        "schema-input-type-undefined",
        "env",
        1,
        ("schema/schema.yaml:4", "NetworkInputs"),
    ),
    Case("schema-property-without-type", "env", 1, ("schema/schema.yaml:11", "vpc_cidr", "type")),
    # Spec values that break the schema
    Case("spec-type", "env", 2, ("spec.yaml:4", "az_count", "three")),
    Case("spec-enum", "env", 2, ("spec.yaml:4", "tier", "staging")),
    Case("spec-pattern", "env", 2, ("spec.yaml:4", "vpc_cidr", "10.0.0.0/8")),
    Case("spec-min-length", "env", 2, ("spec.yaml:3", "team", "2")),
    Case("spec-max-length", "env", 2, ("spec.yaml:3", "team", "12")),
    Case("spec-minimum", "env", 2, ("spec.yaml:4", "az_count", "1")),
    Case("spec-maximum", "env", 2, ("spec.yaml:4", "az_count", "3")),
    Case("spec-missing-required", "env", 2, ("spec.yaml", "team")),
    Case(
        "spec-two-instances",
        "svc",
        2,
        ("spec.yaml", "4 inputs are not valid"),
        stderr=(
            "api-dev",
            "image",
            "spec.yaml:6",
            "port",
            "api-prod",
            "spec.yaml:11",
            "70000",
            "spec.yaml:12",
            "huge",
        ),
        name="api",
    ),
    Case("spec-wrong-kind", "env", 2, ("spec.yaml", "ServiceSpec", "environment blueprint")),
    Case("spec-current-val", "env", 2, ("spec.yaml:4", "tier", "Proton::CURRENT_VAL")),
    # Unknown template kinds
    Case(
        "kind-no-layout",
        "env",
        1,
        ("bundle", "templates/"),
        remove=("bundle/schema", "bundle/infrastructure"),
    ),
    Case("kind-mixed-layout", "env", 1, ("bundle", "infrastructure/", "instance_infrastructure/")),
    Case("manifest-unknown-engine", "env", 1, ("infrastructure/manifest.yaml:4", "mustache")),
    # Archives and links
    Case("tar-dotdot", "env", 1, ("bundle.tar.gz", "escaped.yaml", "outside")),
    Case("tar-absolute", "env", 1, ("bundle.tar.gz", "escaped-absolute.yaml", "absolute")),
    Case("tar-symlink-escape", "env", 1, ("bundle.tar.gz", "secrets.yaml", "outside")),
    Case("tar-oversize", "env", 1, ("bundle.tar.gz", "5,242,880")),
    Case("tar-truncated", "env", 1, ("bundle.tar.gz", "corrupt")),
    Case("tar-not-gzip", "env", 1, ("bundle.tar.gz", "not a gzip-compressed tar archive")),
    Case("dir-symlink-escape", "env", 1, ("infrastructure/secrets.yaml", "outside the bundle")),
    # Jinja
    Case("jinja-syntax-error", "env", 1, ("infrastructure/cloudformation.yaml:", "syntax")),
    Case(
        "jinja-undefined",
        "env",
        1,
        ("infrastructure/cloudformation.yaml:7", "environment.inputs.tenancy"),
    ),
    Case("sandbox-mro", "env", 1, ("infrastructure/cloudformation.yaml:6", "sandbox")),
    Case("sandbox-cycler-globals", "env", 1, ("infrastructure/cloudformation.yaml:6", "sandbox")),
    Case("sandbox-lipsum-globals", "env", 1, ("infrastructure/cloudformation.yaml:6", "sandbox")),
    Case("sandbox-subclasses", "env", 1, ("infrastructure/cloudformation.yaml:6", "sandbox")),
    Case("sandbox-format-string", "env", 1, ("infrastructure/cloudformation.yaml:6", "sandbox")),
    Case("sandbox-attr-filter", "env", 1, ("infrastructure/cloudformation.yaml:6", "sandbox")),
    Case(
        "cfn-resolve-unescaped",
        "env",
        1,
        ("infrastructure/cloudformation.yaml:7", "resolve:ssm"),
        stderr=("{% raw %}",),
    ),
    Case(
        "filter-sanitize",
        "env",
        1,
        ("infrastructure/cloudformation.yaml:6", "this::is::incorrect", "^[a-zA-Z0-9_-]*$"),
    ),
    Case(
        "filter-env-vars-raw-false",
        "svc",
        1,
        ("instance_infrastructure/cloudformation.yaml:10", "QueueUrl", "^[a-zA-Z0-9_-]*$"),
        name="api",
    ),
    # The rendered file is never written, so the message must name the template to fix.
    Case(
        "rendered-not-yaml",
        "env",
        1,
        ("infrastructure/cloudformation.yaml", "dev/cloudformation.yaml:9", "invalid YAML"),
        stderr=("prod: 2",),
    ),
    Case(
        "no-resources",
        "env",
        1,
        ("infrastructure/cloudformation.yaml", "dev/cloudformation.yaml", "Resources"),
    ),
    # Names
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
}


def _args_of(case: Case) -> tuple[str, ...]:
    return ARCHIVE_RENDER if case.id.startswith("tar-") else case.args


# --------------------------------------------------------------------------------------------
# Running a case


def _snapshot(root: Path, skip: Path) -> dict[str, tuple[str, int, int]]:
    """Every path under `root` except `skip`: (kind, size, mtime in ns; 0, 0 for folders)."""
    listing: dict[str, tuple[str, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if here / d != skip]
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
        "name": case.name,
    }
    argv = [arg.format(**values) if arg.startswith("{") else arg for arg in _args_of(case)]
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


@pytest.mark.parametrize("case", CASES_TABLE, ids=[case.id for case in CASES_TABLE])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    work = _set_up(case, tmp_path)
    out = tmp_path / "out"
    before = _snapshot(tmp_path, out)

    result = _run(case, tmp_path, work)

    shown = f"exit {result.returncode}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr, shown
    assert "internal error" not in result.stderr, shown
    assert result.returncode == case.exit_code, shown
    first, *_ = result.stderr.splitlines() or [""]
    assert first.startswith("Error: "), shown
    for fragment in case.first_line:
        assert fragment in first, f"{fragment!r} not in the first line\n{shown}"
    for fragment in case.stderr:
        assert fragment in result.stderr, f"{fragment!r} not in stderr\n{shown}"
    assert _snapshot(tmp_path, out) == before, "files changed outside the output folder"
    assert not out.exists(), f"a failed command wrote {sorted(out.rglob('*'))}"


def test_every_case_folder_is_in_the_table() -> None:
    folders = {path.name for path in CASES.iterdir() if path.is_dir()}
    assert folders <= {case.id for case in CASES_TABLE}


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
