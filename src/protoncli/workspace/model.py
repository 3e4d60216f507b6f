"""The workspace: a folder (a git repository) holding `pcli.yaml` and the spec files.

Layout::

    pcli.yaml                  name, default region, registry
    environments/<name>.yaml   Proton EnvironmentSpec + blueprint, version, region
    services/<name>.yaml       Proton ServiceSpec + blueprint, version
    components/<name>/         a component's bundle (manifest.yaml + IaC) and component.yaml

Commands find the workspace from `--workspace DIR`, else `PCLI_WORKSPACE`, else by looking for
`pcli.yaml` in the current directory and its parents, as git finds `.git`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from protoncli.blueprints.limits import MAX_NAME_LENGTH, check_name, is_valid_name
from protoncli.errors import UsageError
from protoncli.yamlio import MarkedDict, atomic_write, line_of, parse_yaml, read_text

WORKSPACE_FILE = "pcli.yaml"
WORKSPACE_ENV = "PCLI_WORKSPACE"
ENVIRONMENTS = "environments"
SERVICES = "services"
COMPONENTS = "components"
COMPONENT_FILE = "component.yaml"
SPEC_SUFFIX = ".yaml"
FOLDERS = (ENVIRONMENTS, SERVICES, COMPONENTS)
DEFAULT_NAME = "workspace"

# AWS region names: us-east-1, eu-central-2, us-gov-west-1, cn-north-1, us-isob-east-1, ...
REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-\d+$"
_REGION_RE = re.compile(REGION_PATTERN, re.ASCII)
_INVALID_NAME_CHARS = re.compile(r"[^0-9A-Za-z_-]+")
NOT_FOUND_HINT = "run `pcli init` or pass --workspace DIR"


@dataclass(frozen=True)
class Workspace:
    root: Path
    name: str  # passes protoncli.blueprints.limits.check_name
    region: str  # default region of new environments
    registry: str | None  # registry path as written (relative to root when relative)
    # Every key of pcli.yaml as read, for settings other modules add later.
    settings: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def file(self) -> Path:
        return self.root / WORKSPACE_FILE

    def environment_spec(self, name: str) -> Path:
        check_name(name, "environment")
        return self.root / ENVIRONMENTS / f"{name}{SPEC_SUFFIX}"

    def service_spec(self, name: str) -> Path:
        check_name(name, "service")
        return self.root / SERVICES / f"{name}{SPEC_SUFFIX}"

    def component_dir(self, name: str) -> Path:
        check_name(name, "component")
        return self.root / COMPONENTS / name

    def environments(self) -> list[str]:
        return _spec_names(self.root / ENVIRONMENTS)

    def services(self) -> list[str]:
        return _spec_names(self.root / SERVICES)

    def components(self) -> list[str]:
        """Folders under components/ that hold a component record (component.yaml)."""
        folder = self.root / COMPONENTS
        if not folder.is_dir():
            return []
        return sorted(
            entry.name
            for entry in folder.iterdir()
            if is_valid_name(entry.name) and (entry / COMPONENT_FILE).is_file()
        )

    def registry_path(self) -> Path | None:
        if self.registry is None:
            return None
        path = Path(self.registry).expanduser()
        return path if path.is_absolute() else Path(os.path.normpath(self.root / path))


def _spec_names(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(
        entry.stem
        for entry in folder.iterdir()
        if entry.suffix == SPEC_SUFFIX and entry.is_file() and is_valid_name(entry.stem)
    )


# ---------------------------------------------------------------------------------------------
# Finding and reading


def find_workspace(start: Path | None = None, explicit: Path | None = None) -> Workspace:
    """The workspace: `explicit` (the --workspace flag) > PCLI_WORKSPACE > `start` and parents.

    `start` defaults to the current directory. An explicit folder or the variable must hold
    `pcli.yaml` itself (or be that file); only the search from `start` looks at parents.
    """
    if explicit is not None:
        return load_workspace(_named_root(explicit, "--workspace"))
    variable = os.environ.get(WORKSPACE_ENV, "").strip()
    if variable:
        return load_workspace(_named_root(Path(variable), WORKSPACE_ENV))
    here = Path(start) if start is not None else Path.cwd()
    here = here.absolute()
    for folder in (here, *here.parents):
        if (folder / WORKSPACE_FILE).is_file():
            return load_workspace(folder)
    raise UsageError(
        f"no pcli workspace ({WORKSPACE_FILE}) in {here} or any parent", hint=NOT_FOUND_HINT
    )


def _named_root(path: Path, source: str) -> Path:
    """The workspace folder a flag or variable names; it must hold pcli.yaml."""
    given = path.expanduser()
    if given.is_file() and given.name == WORKSPACE_FILE:
        return given.parent
    if not given.exists():
        raise UsageError(f"{source} {path}: no such directory", hint=NOT_FOUND_HINT)
    if not (given / WORKSPACE_FILE).is_file():
        raise UsageError(
            f"{source} {path}: not a pcli workspace (no {WORKSPACE_FILE} in it)",
            hint=f"run `pcli init {path}`, or give the folder that holds {WORKSPACE_FILE}",
        )
    return given


def load_workspace(root: Path) -> Workspace:
    """Read `root/pcli.yaml`; every problem is a `UsageError` naming the file and line."""
    root = root.resolve()
    path = root / WORKSPACE_FILE
    source = str(path)
    document = parse_yaml(read_text(path, UsageError), source, UsageError, marked=True)
    if document is None:
        document = MarkedDict()
    if not isinstance(document, MarkedDict):
        raise UsageError(
            f"{source}: expected a mapping with name, region and registry",
            hint=f"run `pcli init` in an empty folder to see a {WORKSPACE_FILE}",
        )
    name = _text_setting(document, "name", source, required=True)
    region = _text_setting(document, "region", source, required=True)
    registry = _text_setting(document, "registry", source, required=False)
    assert name is not None  # noqa: S101 - required=True never returns None
    assert region is not None  # noqa: S101 - same
    _check_in_file(lambda: check_name(name, "workspace"), source, line_of(document, "name"))
    _check_in_file(lambda: check_region(region), source, line_of(document, "region"))
    return Workspace(
        root=root, name=name, region=region, registry=registry, settings=dict(document)
    )


def _text_setting(document: MarkedDict, key: str, source: str, *, required: bool) -> str | None:
    value = document.get(key)
    if value is None:
        if required:
            raise UsageError(f"{source}: missing '{key}:'", hint=_SETTING_HINTS[key])
        return None
    if not isinstance(value, str) or not value.strip():
        raise UsageError(
            f"{source}:{line_of(document, key)}: {key} must be non-empty text, not {value!r}",
            hint="put the value in quotes",
        )
    return value


_SETTING_HINTS = {
    "name": "add `name: NAME` (letters, digits, '-' and '_'); it goes into stack names and tags",
    "region": "add `region: REGION`, the default AWS region of new environments (e.g. us-east-1)",
}


def _check_in_file(check: Callable[[], None], source: str, line: int) -> None:
    """Run a check that raises `UsageError`; say which file and line the bad value is on."""
    try:
        check()
    except UsageError as error:
        where = f"{source}:{line}" if line else source
        raise UsageError(f"{where}: {error.message}", hint=error.hint) from None


def check_region(region: str) -> None:
    if _REGION_RE.fullmatch(region) is None:
        raise UsageError(
            f"region '{region}': not an AWS region name",
            hint="give a region such as us-east-1 or eu-west-2",
        )


# ---------------------------------------------------------------------------------------------
# Creating


def default_workspace_name(directory: Path) -> str:
    """The folder's name made into a valid Proton name ("my team.infra" -> "my-team-infra")."""
    name = _INVALID_NAME_CHARS.sub("-", directory.resolve().name)
    name = name.lstrip("-_")[:MAX_NAME_LENGTH].rstrip("-_")
    return name or DEFAULT_NAME


def init_workspace(
    directory: Path, *, name: str | None, region: str, registry: str | None
) -> Workspace:
    """Create `directory` (if needed), its spec folders and a commented `pcli.yaml`.

    Refuses a folder that already holds `pcli.yaml`. `registry` is written as given: a relative
    path is read relative to the workspace root.
    """
    directory = directory.expanduser()
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory}: is a file, not a folder")
    path = directory / WORKSPACE_FILE
    if path.exists():
        raise UsageError(
            f"{path}: already exists; this folder is a pcli workspace",
            hint=f"edit {WORKSPACE_FILE} to change its settings, or init another folder",
        )
    chosen = name if name is not None else default_workspace_name(directory)
    check_name(chosen, "workspace")
    check_region(region)
    if registry is not None and not registry.strip():
        raise UsageError("registry path is empty; give a folder, or leave --registry out")
    for folder in FOLDERS:
        (directory / folder).mkdir(parents=True, exist_ok=True)
    atomic_write(path, workspace_file_text(chosen, region, registry))
    return load_workspace(directory)


def workspace_file_text(name: str, region: str, registry: str | None) -> str:
    """The text of a new `pcli.yaml`: every setting with a comment that says what it does."""
    registry_line = (
        f"registry: {yaml_scalar(registry)}"
        if registry is not None
        else "# registry: ../blueprints"
    )
    return f"""\
# pcli workspace. pcli commands run in this folder or below it find it on their own;
# from elsewhere, pass --workspace DIR or set {WORKSPACE_ENV}.
#
#   {ENVIRONMENTS}/<name>.yaml   environment specs: Proton's EnvironmentSpec + blueprint, version
#   {SERVICES}/<name>.yaml       service specs: Proton's ServiceSpec + blueprint, version
#   {COMPONENTS}/<name>/         component IaC and the service instance it is attached to

# Workspace name: goes into the names and tags of the stacks pcli deploys.
name: {yaml_scalar(name)}

# AWS region of new environments (an environment spec's own `region:` wins).
region: {yaml_scalar(region)}

# Blueprint registry folder, relative to this file unless absolute
# (the --registry flag and PCLI_REGISTRY win over it).
{registry_line}
"""


STR_TAG = "tag:yaml.org,2002:str"
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_./~][A-Za-z0-9_./~ -]*")


def yaml_scalar(value: str) -> str:
    """`value` as a YAML scalar: plain when YAML reads it back as the same text, else quoted."""
    if _PLAIN_SAFE.fullmatch(value) and not value.endswith(" ") and reads_as_text(value):
        return value
    return json.dumps(value, ensure_ascii=False)


def reads_as_text(plain: str) -> bool:
    """Whether YAML 1.1 (PyYAML, which pcli reads with) reads the plain scalar as a string."""
    resolver: Any = yaml.resolver.Resolver()  # its stubs leave `resolve` untyped
    tag = resolver.resolve(yaml.ScalarNode, plain, (True, False))
    return bool(tag == STR_TAG)
