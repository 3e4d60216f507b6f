"""Shell completion of the names pcli commands take, read from local files only.

Each `complete_*` function is a Typer `autocompletion=` callback: `(ctx, incomplete)` in, a list
of `(value, help)` pairs out. Candidates come from the workspace (`environments/*.yaml`,
`services/*.yaml`, `components/*/component.yaml`) and the registry folder (blueprint folders,
their `version.json` files) — never from AWS. They are cheap: folder listings and a scan of a
few header lines; only instance names need a spec parsed (with libyaml).

The workspace is the one commands would use: --workspace on the line, else PCLI_WORKSPACE, else
the nearest `pcli.yaml` up from the current directory; the registry is the resolved `registry`
setting. Any problem yields no candidates: a completion never prints a traceback into a shell.

Candidates are whole words (`team-env@1.1`, `web-dev=dev`, `port=`), whatever the shell; the
shell classes (completion_shells.py) cut them to what bash replaces, and leave the words typed
before the completed one in `ctx.meta` for the completers that read the line. A completer marked
`_never_files` offers names only: when it has none, the shell offers no file names either.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Iterable
from itertools import pairwise
from pathlib import Path
from typing import Any

import typer

from protoncli.cli.completion_shells import NO_FILES, WORDS

Candidate = tuple[str, str]  # (value, help shown by zsh and fish)
Completer = Callable[[typer.Context, str], list[Candidate]]

_VERSION_FOLDER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_HEADER_LINE = re.compile(r"^([A-Za-z_]+)\s*:\s*(.*?)\s*(?:\s#.*)?$")
_PATH_LIKE = ("/", ".", "~")
# blueprints.versions.BUNDLE_FOLDER; that module loads more than a completion needs
_BUNDLE_FOLDER = "bundle"


def _never_fails(completer: Completer) -> Completer:
    @functools.wraps(completer)
    def safe(ctx: typer.Context, incomplete: str) -> list[Candidate]:
        try:
            return completer(ctx, incomplete)
        except Exception:  # noqa: BLE001 - a completion offers nothing rather than a traceback
            return []

    return safe


def _never_files(completer: Completer) -> Completer:
    """A completer whose values are never file names: when it offers nothing, the shell
    offers nothing either (instead of the files of the current directory)."""

    @functools.wraps(completer)
    def names_only(ctx: typer.Context, incomplete: str) -> list[Candidate]:
        ctx.meta[NO_FILES] = True
        return completer(ctx, incomplete)

    return names_only


def _matching(candidates: Iterable[Candidate], incomplete: str) -> list[Candidate]:
    return [(value, help_) for value, help_ in candidates if value.startswith(incomplete)]


# ---------------------------------------------------------------------------------------------
# Where to read


def _root_params(ctx: typer.Context) -> dict[str, Any]:
    return dict(ctx.find_root().params)


def _workspace_root(ctx: typer.Context) -> Path | None:
    from protoncli.config import find_workspace_file

    explicit = _root_params(ctx).get("workspace")  # the flag, or PCLI_WORKSPACE read by click
    found = find_workspace_file(Path(explicit) if explicit else None)
    return None if found is None else found.parent


def _registry_root(ctx: typer.Context) -> Path:
    """The registry folder; for a team registry, its local cache (never the network)."""
    from protoncli.config import resolve_settings

    params = _root_params(ctx)
    flags = {"registry": params["registry"]} if params.get("registry") else {}
    workspace = params.get("workspace")
    found = resolve_settings(flags, workspace=Path(workspace) if workspace else None).registry
    if isinstance(found, str):
        from protoncli.blueprints.location import cache_folder

        return cache_folder(found)
    return found


def _header(path: Path) -> dict[str, str]:
    """Top-level `key: value` lines of a small YAML file (blueprint, version, service...)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADER_LINE.match(line)
        if match:
            values[match.group(1)] = match.group(2).strip("'\"")
    return values


def _spec_names(folder: Path) -> list[str]:
    from protoncli.blueprints.limits import is_valid_name

    if not folder.is_dir():
        return []
    return sorted(
        entry.stem
        for entry in folder.iterdir()
        if entry.suffix == ".yaml" and entry.is_file() and is_valid_name(entry.stem)
    )


def _pinned(header: dict[str, str]) -> str:
    blueprint, version = header.get("blueprint", ""), header.get("version", "")
    return f"{blueprint}@{version}" if blueprint and version else blueprint


# ---------------------------------------------------------------------------------------------
# Registry


def _versions(
    registry: Path, name: str, *, to_published: bool = False
) -> list[tuple[str, dict[str, Any]]]:
    """(version, record) of a blueprint, newest first; a record that cannot be read is {}.

    `to_published` stops at the newest published version (the recommended one): enough to
    describe a blueprint without reading every version's record."""
    from protoncli.blueprints.limits import is_valid_name

    if not is_valid_name(name):
        return []
    folder = registry / name
    found = []
    for entry in folder.iterdir():
        match = _VERSION_FOLDER.match(entry.name)
        if match and entry.is_dir():
            found.append(((int(match.group(1)), int(match.group(2))), entry))
    versions = []
    for _number, entry in sorted(found, reverse=True):
        try:
            record = json.loads((entry / "version.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
        versions.append((entry.name, record if isinstance(record, dict) else {}))
        if to_published and versions[-1][1].get("status") == "PUBLISHED":
            break
    return versions


def _recommended(versions: list[tuple[str, dict[str, Any]]]) -> str | None:
    return next((v for v, record in versions if record.get("status") == "PUBLISHED"), None)


def _blueprints(registry: Path) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Every blueprint of the registry with its newest versions, down to the recommended."""
    if not registry.is_dir():
        return {}
    blueprints = {}
    for entry in sorted(registry.iterdir()):
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        versions = _versions(registry, entry.name, to_published=True)
        if versions:
            blueprints[entry.name] = versions
    return blueprints


def _blueprint_help(versions: list[tuple[str, dict[str, Any]]]) -> str:
    kind = next((str(r["kind"]) for _v, r in versions if r.get("kind")), "blueprint")
    recommended = _recommended(versions)
    return f"{kind}, recommended {recommended}" if recommended else f"{kind}, drafts only"


def _version_candidates(versions: list[tuple[str, dict[str, Any]]], prefix: str) -> list[Candidate]:
    recommended = _recommended(versions)
    return [
        (
            f"{prefix}{version}",
            "recommended" if version == recommended else str(record.get("status", "")).lower(),
        )
        for version, record in versions
    ]


def _blueprint_ref_candidates(
    ctx: typer.Context, incomplete: str, kind: str | None = None
) -> list[Candidate]:
    registry = _registry_root(ctx)
    name, at, _partial = incomplete.partition("@")
    if at:
        versions = _versions(registry, name)
        return _matching(_version_candidates(versions, f"{name}@"), incomplete)
    blueprints = _blueprints(registry)
    return _matching(
        (
            (bp, _blueprint_help(versions))
            for bp, versions in blueprints.items()
            if kind is None or any(record.get("kind") == kind for _v, record in versions)
        ),
        incomplete,
    )


@_never_files
@_never_fails
def complete_blueprint_refs(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """Blueprint NAME, or NAME@VERSION once NAME@ is typed (newest first, recommended marked)."""
    return _blueprint_ref_candidates(ctx, incomplete)


@_never_fails
def complete_bundles(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """A BUNDLE: as `complete_blueprint_refs`, or a path. A path (starting with /, . or ~), or a
    word no blueprint starts with, is left to the shell's file completion."""
    if incomplete.startswith(_PATH_LIKE):
        return []
    return _blueprint_ref_candidates(ctx, incomplete)


@_never_files
@_never_fails
def complete_environment_blueprint_refs(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """As `complete_blueprint_refs`, environment blueprints only."""
    return _blueprint_ref_candidates(ctx, incomplete, "environment")


@_never_files
@_never_fails
def complete_service_blueprint_refs(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """As `complete_blueprint_refs`, service blueprints only."""
    return _blueprint_ref_candidates(ctx, incomplete, "service")


@_never_files
@_never_fails
def complete_blueprint_names(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """Blueprint names of the registry, with kind and recommended version."""
    blueprints = _blueprints(_registry_root(ctx))
    return _matching(((bp, _blueprint_help(v)) for bp, v in blueprints.items()), incomplete)


@_never_files
@_never_fails
def complete_blueprint_versions(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """Versions of the blueprint named earlier on the line (the NAME argument), newest first."""
    name = _typed_name(ctx)
    if not name:
        return []
    versions = _versions(_registry_root(ctx), name)
    return _matching(_version_candidates(versions, ""), incomplete)


def _chosen_blueprint(ctx: typer.Context) -> str | None:
    """The blueprint given on the line with --blueprint/-b, as typed (NAME or NAME@VERSION)."""
    name = ctx.params.get("blueprint")
    if not name:
        given = _option_values(ctx, ("--blueprint", "-b"))
        name = given[-1] if given else None
    return str(name) if name else None


def _option_values(ctx: typer.Context, options: tuple[str, ...]) -> list[str]:
    """Every value typed on the line after one of `options` (`--param a=1 -p b=2`)."""
    return [after for word, after in pairwise(_command_words(ctx)) if word in options]


@_never_files
@_never_fails
def complete_chosen_blueprint_versions(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """Versions of the blueprint given earlier on the line with --blueprint/-b (create)."""
    name = _chosen_blueprint(ctx)
    if not name:
        return []
    versions = _versions(_registry_root(ctx), name.partition("@")[0])
    return _matching(_version_candidates(versions, ""), incomplete)


@_never_files
@_never_fails
def complete_placements(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """INSTANCE=ENVIRONMENT for svc create: after the `=`, the workspace's environments.

    Before it, nothing: the instance name is a new one. Never file names."""
    instance, separator, environment = incomplete.partition("=")
    if not separator:
        return []
    return [
        (f"{instance}={name}", about) for name, about in complete_environments(ctx, environment)
    ]


@_never_files
@_never_fails
def complete_inputs(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """--param KEY=VALUE: the inputs of the blueprint chosen on the line, as `KEY=`, those
    already given left out; after the `=`, the input's allowed values (enum, true/false).
    The blueprint version is NAME@VERSION, --version (or --to), else the recommended one."""
    return _input_candidates(ctx, incomplete, pipeline=False)


@_never_files
@_never_fails
def complete_pipeline_inputs(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """--pipeline-param KEY=VALUE: as `complete_inputs`, for the pipeline's inputs."""
    return _input_candidates(ctx, incomplete, pipeline=True)


def _input_candidates(ctx: typer.Context, incomplete: str, *, pipeline: bool) -> list[Candidate]:
    bundle = _chosen_bundle(ctx)
    if bundle is None:
        return []
    inputs = _schema_inputs(bundle, pipeline=pipeline)
    key, separator, _value = incomplete.partition("=")
    if separator:
        prop = next((prop for input_, prop, _required in inputs if input_ == key), {})
        values = prop.get("enum") or (["true", "false"] if prop.get("type") == "boolean" else [])
        return _matching(((f"{key}={_text(value)}", "") for value in values), incomplete)
    flags = ("--pipeline-param",) if pipeline else ("--param", "-p")
    given = {value.partition("=")[0] for value in _option_values(ctx, flags)}
    return _matching(
        (
            (f"{input_}=", _input_help(prop, required=required))
            for input_, prop, required in inputs
            if input_ not in given
        ),
        incomplete,
    )


def _chosen_bundle(ctx: typer.Context) -> Path | None:
    """The registry folder of the blueprint version chosen on the line: -b NAME@VERSION, or
    -b NAME with --version (create) or --to (upgrade), else NAME's recommended version."""
    chosen = _chosen_blueprint(ctx)
    if not chosen:
        return None
    name, _at, wanted = chosen.partition("@")
    if not wanted:
        typed = ctx.params.get("version") or ctx.params.get("to")
        given = [str(typed)] if typed else _option_values(ctx, ("--version", "--to"))
        wanted = given[-1] if given else ""
    registry = _registry_root(ctx)
    version = _chosen_version(_versions(registry, name), wanted)
    return None if version is None else registry / name / version / _BUNDLE_FOLDER


def _chosen_version(versions: list[tuple[str, dict[str, Any]]], wanted: str) -> str | None:
    """The version create would use: MAJOR.MINOR as given; else the newest published one (of
    the MAJOR given, if one is)."""
    if wanted and "." in wanted:
        return wanted if any(version == wanted for version, _record in versions) else None
    return next(
        (
            version
            for version, record in versions
            if record.get("status") == "PUBLISHED"
            and (not wanted or version.partition(".")[0] == wanted)
        ),
        None,
    )


def _schema_inputs(bundle: Path, *, pipeline: bool) -> list[tuple[str, dict[str, Any], bool]]:
    """(name, property, required) of the bundle's instance (or pipeline) input type, in schema
    order, read with libyaml; the full schema checks are the commands' business."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = (bundle / "schema" / "schema.yaml").read_text(encoding="utf-8")
    schema = yaml.load(text, Loader=loader)["schema"]  # noqa: S506 - a SafeLoader
    keys = ["pipeline_input_type"] if pipeline else ["environment_input_type", "service_input_type"]
    type_name = next((schema[key] for key in keys if schema.get(key)), None)
    if type_name is None:
        return []
    input_type = schema["types"][type_name]
    required = set(input_type.get("required") or [])
    properties = input_type.get("properties") or {}
    return [
        (str(name), prop, name in required)
        for name, prop in properties.items()
        if isinstance(prop, dict)
    ]


def _input_help(prop: dict[str, Any], *, required: bool) -> str:
    about = str(prop.get("title") or prop.get("description") or "")
    kind = f"{prop.get('type', 'input')}{', required' if required else ''}"
    return f"{kind}: {about}" if about else kind


def _text(value: Any) -> str:
    """A schema value as typed on the line (YAML's true, not Python's True)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


# ---------------------------------------------------------------------------------------------
# Workspace


@_never_files
@_never_fails
def complete_environments(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """Environment names of the workspace, with blueprint@version and region."""
    root = _workspace_root(ctx)
    if root is None:
        return []
    candidates = []
    for name in _spec_names(root / "environments"):
        header = _header(root / "environments" / f"{name}.yaml")
        region = header.get("region", "")
        candidates.append((name, " ".join(part for part in (_pinned(header), region) if part)))
    return _matching(candidates, incomplete)


@_never_files
@_never_fails
def complete_account_names(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """Account names of the workspace's pcli.yaml (`accounts:`), with their ids."""
    import yaml

    root = _workspace_root(ctx)
    if root is None:
        return []
    document = yaml.safe_load((root / "pcli.yaml").read_text(encoding="utf-8"))
    accounts = document.get("accounts") if isinstance(document, dict) else None
    if not isinstance(accounts, dict):
        return []
    return _matching(
        (
            (str(name), str(fields.get("id", "")) if isinstance(fields, dict) else "")
            for name, fields in accounts.items()
        ),
        incomplete,
    )


@_never_files
@_never_fails
def complete_services(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """Service names of the workspace, with blueprint@version."""
    root = _workspace_root(ctx)
    if root is None:
        return []
    folder = root / "services"
    return _matching(
        ((name, _pinned(_header(folder / f"{name}.yaml"))) for name in _spec_names(folder)),
        incomplete,
    )


def _instances_of(root: Path, service: str) -> list[tuple[str, str]]:
    """(instance, environment) pairs of a service spec, parsed with libyaml."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = (root / "services" / f"{service}.yaml").read_text(encoding="utf-8")
    document = yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader
    instances = document.get("instances") if isinstance(document, dict) else None
    return [
        (str(item["name"]), str(item.get("environment", "")))
        for item in instances or []
        if isinstance(item, dict) and item.get("name")
    ]


def _typed_service(ctx: typer.Context) -> str | None:
    """The service named on the line: --service where the command has it, else NAME."""
    if any(param.name == "service" for param in ctx.command.params):
        value = ctx.params.get("service")
        return str(value) if value else None
    return _typed_name(ctx)


def _typed_name(ctx: typer.Context) -> str | None:
    """The command's first argument (NAME) as typed on the line.

    Click leaves `ctx.params` without arguments when an option before the completed word
    still waits for its value (`svc deploy web -i <TAB>`), so the line is read as well.
    """
    value = ctx.params.get("name")
    if value:
        return str(value)
    words = _command_words(ctx)
    takes_value = {
        opt
        for param in ctx.command.params
        if not getattr(param, "is_flag", False) and not getattr(param, "count", False)
        for opt in getattr(param, "opts", [])
        if opt.startswith("-")
    }
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in takes_value
        else:
            return word
    return None


def _command_words(ctx: typer.Context) -> list[str]:
    """The words typed after the command's own name, before the word being completed."""
    path = ctx.command_path.split()[1:]  # e.g. ["svc", "deploy"]
    words = list(ctx.meta.get(WORDS, []))  # left there by the shell's completion class
    for index, word in enumerate(words):
        if path and word == path[0]:
            path.pop(0)
            if not path:
                return words[index + 1 :]
    return []


@_never_files
@_never_fails
def complete_instances(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """Instance names of the service typed on the line (every service's when none is)."""
    root = _workspace_root(ctx)
    if root is None:
        return []
    service = _typed_service(ctx)
    services = [service] if service else _spec_names(root / "services")
    candidates = []
    for name in services:
        for instance, environment in _instances_of(root, name):
            where = f"in {environment}" if environment else ""
            candidates.append((instance, where if service else f"service {name} {where}".strip()))
    return _matching(candidates, incomplete)


@_never_files
@_never_fails
def complete_components(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """Component names of the workspace, with the service instance each is attached to."""
    from protoncli.blueprints.limits import is_valid_name

    root = _workspace_root(ctx)
    folder = None if root is None else root / "components"
    if folder is None or not folder.is_dir():
        return []
    candidates = []
    for entry in sorted(folder.iterdir()):
        record = entry / "component.yaml"
        if is_valid_name(entry.name) and record.is_file():
            header = _header(record)
            owner = "/".join(header[k] for k in ("service", "instance") if header.get(k))
            candidates.append((entry.name, f"attached to {owner}" if owner else ""))
    return _matching(candidates, incomplete)


# A Guard file's named rule (`rule NAME when ...` or `rule NAME {`); a rule that takes
# parameters is a helper, not a guardrail. Completion reads the names off the files, without
# Guard: guardrails/rules.py checks them for real.
_GUARD_RULE = re.compile(r"^\s*rule\s+([A-Za-z0-9_]+)\s*(?:when\b|\{)", re.MULTILINE)


def _rules_in(folder: Path) -> list[str]:
    names: list[str] = []
    for path in sorted(folder.glob("*.guard")) if folder.is_dir() else ():
        names += _GUARD_RULE.findall(path.read_text(encoding="utf-8", errors="replace"))
    return names


@_never_files
@_never_fails
def complete_rule_names(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """Guardrails `--override-rule` may name: the registry's, each registered blueprint
    version's, and each component's of the workspace, with where each is written."""
    registry = _registry_root(ctx)
    found: dict[str, str] = {}
    for name in _rules_in(registry / ".guardrails"):
        found.setdefault(name, "the registry's")
    for bundle in sorted(registry.glob(f"*/*/{_BUNDLE_FOLDER}/guardrails")):
        blueprint, version = bundle.parent.parent.parent.name, bundle.parent.parent.name
        for name in _rules_in(bundle):
            found.setdefault(name, f"{blueprint}@{version}")
    root = _workspace_root(ctx)
    components = [] if root is None else sorted((root / "components").glob("*/guardrails"))
    for folder in components:
        for name in _rules_in(folder):
            found.setdefault(name, f"component {folder.parent.name}")
    return _matching(sorted(found.items()), incomplete)


# ---------------------------------------------------------------------------------------------
# Settings and root options


def _choices(key: str) -> list[Candidate]:
    from protoncli.config import SETTINGS_BY_KEY

    setting = SETTINGS_BY_KEY[key]
    choices = setting.choices or (("true", "false") if setting.kind == "bool" else ())
    return [(choice, "default" if choice == setting.default else "") for choice in choices]


@_never_files
@_never_fails
def complete_output_modes(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    return _matching(_choices("output"), incomplete)


@_never_files
@_never_fails
def complete_color_modes(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    return _matching(_choices("color"), incomplete)


@_never_files
@_never_fails
def complete_setting_keys(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """The keys `pcli config get|set|unset` take, with what each is."""
    from protoncli.config import SETTINGS

    return _matching(((s.key, f"{s.allowed}; env {s.variable}") for s in SETTINGS), incomplete)


@_never_fails
def complete_setting_values(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """Values of the setting named by the KEY argument (choices and booleans). Only a path
    setting's value is left to the shell's file completion."""
    from protoncli.config import PATH, setting_named

    key = ctx.params.get("key")
    if not key:
        return []
    setting = setting_named(str(key))
    ctx.meta[NO_FILES] = setting.kind != PATH
    if setting.key == "profile":
        return complete_aws_profiles(ctx, incomplete)
    return _matching(_choices(setting.key), incomplete)


@_never_files
@_never_fails
def complete_aws_profiles(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """Profile names from the AWS config and credentials files (read, never called)."""
    import configparser

    home = Path.home() / ".aws"
    files = [
        (os.environ.get("AWS_CONFIG_FILE") or str(home / "config"), "profile "),
        (os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or str(home / "credentials"), ""),
    ]
    names: dict[str, str] = {}
    for file, prefix in files:
        parser = configparser.RawConfigParser(default_section="\x00")
        parser.read(Path(file).expanduser(), encoding="utf-8")
        for section in parser.sections():
            name = section.removeprefix(prefix) if section != "default" else section
            if prefix and section != "default" and not section.startswith(prefix):
                continue  # sso-session and services sections
            names.setdefault(name.strip(), "AWS config" if prefix else "AWS credentials")
    return _matching(sorted(names.items()), incomplete)
