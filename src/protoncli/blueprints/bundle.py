"""Loading a template bundle (a folder or an archive) into a `Bundle`, and its content digest.

Layouts, as Proton defines them:

- environment: `schema/schema.yaml` and `infrastructure/` (manifest and IaC); a customer-managed
  environment has `schema/` only;
- service: `schema/schema.yaml`, `instance_infrastructure/` and, only if the schema declares
  `pipeline_input_type`, `pipeline_infrastructure/`;
- component: `manifest.yaml` and its IaC at the root, no `schema/`.

Decisions on points Proton leaves open:
- If a service bundle has both `.template-registration.yaml` and the legacy `.compatible-envs`,
  `.template-registration.yaml` wins and `.compatible-envs` is ignored (no union): it is the file
  Proton documents today, and a union could resurrect environments a team removed from it.
- For CodeBuild provisioning, `Manifest.files` holds every other UTF-8 text file of the folder
  (recursively, OS noise left out): they are the sources the commands run on.
- `Bundle.files` holds every file under the bundle root except a `.git/` folder.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from protoncli.blueprints.archive import (
    extract_bundle_archive,
    find_bundle_root,
    is_os_noise,
    read_bundle_files,
)
from protoncli.blueprints.limits import (
    MANIFEST_LIMIT,
    SCHEMA_LIMIT,
    TEMPLATE_FILE_LIMIT,
    check_file_size,
    check_template_file_count,
    is_valid_name,
    parse_version_part,
)
from protoncli.blueprints.model import (
    INFRASTRUCTURE,
    INSTANCE_INFRASTRUCTURE,
    MANIFEST,
    PIPELINE_INFRASTRUCTURE,
    SCHEMA_FILE,
    Bundle,
    CompatibleEnvironment,
    Engine,
    Kind,
    Manifest,
    TemplateEntry,
)
from protoncli.errors import BundleError, NotFoundError
from protoncli.schema.model import Schema
from protoncli.schema.parse import parse_schema
from protoncli.yamlio import MarkedDict, parse_yaml

REGISTRATION_FILE = ".template-registration.yaml"
LEGACY_COMPATIBLE_ENVS = ".compatible-envs"
DIRECTLY_DEFINED = "DIRECTLY_DEFINED"

_LANGUAGE_OF_ENGINE = {Engine.JINJA: "cloudformation", Engine.HCL: "terraform"}
_ENGINES = ", ".join(engine.value for engine in Engine)
_LANGUAGES = ", ".join(_LANGUAGE_OF_ENGINE.values())
_COMMAND_LISTS = ("provision", "deprovision")
_SETTINGS_MAPPINGS = ("runtimes", "project_properties", "env")
_EXPECTED_LAYOUTS = (
    "expected schema/ + infrastructure/ (environment), schema/ alone (customer-managed "
    "environment), schema/ + instance_infrastructure/ [+ pipeline_infrastructure/] (service), "
    "or manifest.yaml + IaC without schema/ (component)"
)


@dataclass(frozen=True)
class _Where:
    """Where a bundle was read from, to name its files in messages."""

    root: str  # the bundle folder, or the archive
    prefix: str = ""  # the wrapper folder inside an archive ("environment/")
    in_archive: bool = False

    def label(self, path: str) -> str:
        if self.in_archive:
            return f"{self.root}: {self.prefix}{path}"
        return str(Path(self.root, path))


def load_bundle(source: Path | str) -> Bundle:
    """Load a bundle from a folder or a `.tar.gz` / `.tgz` / `.tar` archive.

    A folder may be the bundle root or hold exactly one wrapper folder that is, as archives made
    with `tar -zcvf env.tar.gz environment/` do.
    """
    path = Path(source)
    if path.is_dir():
        root = find_bundle_root(path, str(path))
        where = _Where(root=str(root))
        return _build_bundle(read_bundle_files(root, where.label, where.root), where)
    if path.is_file():
        with tempfile.TemporaryDirectory(prefix="pcli-bundle-") as scratch:
            target = Path(scratch) / "bundle"
            root = extract_bundle_archive(path, target)
            wrapper = root.relative_to(target).as_posix()
            prefix = "" if wrapper == "." else f"{wrapper}/"
            where = _Where(root=str(source), prefix=prefix, in_archive=True)
            files = read_bundle_files(root, where.label, where.root)
        return _build_bundle(files, where)
    raise NotFoundError(
        f"{source}: no such bundle folder or archive",
        hint="give a bundle folder, or a .tar.gz archive of one",
    )


def bundle_digest(bundle: Bundle) -> str:
    """The content digest of a bundle: `"sha256:<64 hex digits>"`.

    Rule: take every `(path, bytes)` of `bundle.files` whose path is not OS noise (see
    `is_os_noise`: `.git/`, `__pycache__/`, `__MACOSX/`, `.DS_Store`, `._*`, `*.pyc`); sort by
    path (Unicode code points, the same order as UTF-8 bytes); for each, feed SHA-256 the path
    as UTF-8, a NUL byte, the size in decimal ASCII, a NUL byte, then the bytes. Paths are
    relative POSIX paths from the bundle root, so file modes, mtimes, the order of members in a
    tarball and the name of a wrapper folder do not change the digest.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in bundle.files if not is_os_noise(p)):
        data = bundle.files[path]
        digest.update(path.encode("utf-8", "surrogateescape"))
        digest.update(b"\0%d\0" % len(data))
        digest.update(data)
    return f"sha256:{digest.hexdigest()}"


# --------------------------------------------------------------------------------------------
# Messages


def _text(data: bytes, label: str, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(
            f"{label}: not UTF-8 text (byte {exc.start}); {what} must be text"
        ) from exc


def _at(label: str, mapping: Any, key: str | None = None) -> str:
    """`label:line` for a key of a `MarkedDict` (or the mapping itself), `label` otherwise."""
    if not isinstance(mapping, MarkedDict):
        return label
    line = mapping.line_of(key) if key is not None else mapping.line
    return f"{label}:{line}" if line else label


# --------------------------------------------------------------------------------------------
# Layout


def _top_level(files: Mapping[str, bytes]) -> list[str]:
    names = {
        path.split("/", 1)[0] + ("/" if "/" in path else "")
        for path in files
        if not is_os_noise(path)
    }
    return sorted(names)


def _kind_of(files: Mapping[str, bytes], where: _Where) -> Kind:
    top = set(_top_level(files))
    has_schema = "schema/" in top
    environment = f"{INFRASTRUCTURE}/" in top
    instance = f"{INSTANCE_INFRASTRUCTURE}/" in top
    pipeline = f"{PIPELINE_INFRASTRUCTURE}/" in top
    if has_schema and environment and not (instance or pipeline):
        return Kind.ENVIRONMENT
    if has_schema and instance and not environment:
        return Kind.SERVICE
    if has_schema and not (environment or instance or pipeline):
        return Kind.ENVIRONMENT  # customer-managed
    if MANIFEST in top and not (has_schema or environment or instance or pipeline):
        return Kind.COMPONENT
    found = ", ".join(sorted(top)) or "no files"
    raise BundleError(f"{where.root}: unknown template kind: found {found}; {_EXPECTED_LAYOUTS}")


def _build_bundle(files: dict[str, bytes], where: _Where) -> Bundle:
    kind = _kind_of(files, where)
    if kind is Kind.COMPONENT:
        manifest = _load_manifest(files, "", where, kind)
        _check_template_count([manifest], where)
        return Bundle(root=where.root, kind=kind, schema=None, infrastructure=manifest, files=files)
    schema = _load_schema(files, where)
    folders = set(_top_level(files))
    _check_schema_kind(schema, kind, folders)
    main_folder = INFRASTRUCTURE if kind is Kind.ENVIRONMENT else INSTANCE_INFRASTRUCTURE
    infrastructure = None  # a customer-managed environment has no infrastructure/
    if f"{main_folder}/" in folders:
        infrastructure = _load_manifest(files, main_folder, where, kind)
    pipeline = None
    environments: tuple[CompatibleEnvironment, ...] = ()
    sources: tuple[str, ...] = ()
    if kind is Kind.SERVICE:
        has_pipeline = f"{PIPELINE_INFRASTRUCTURE}/" in folders
        _check_pipeline_agrees(schema, has_pipeline=has_pipeline, where=where)
        if has_pipeline:
            pipeline = _load_manifest(files, PIPELINE_INFRASTRUCTURE, where, kind)
        environments, sources = _load_compatibility(files, where)
    _check_template_count([m for m in (infrastructure, pipeline) if m is not None], where)
    return Bundle(
        root=where.root,
        kind=kind,
        schema=schema,
        infrastructure=infrastructure,
        pipeline=pipeline,
        compatible_environments=environments,
        component_sources=sources,
        files=files,
    )


def _load_schema(files: Mapping[str, bytes], where: _Where) -> Schema:
    label = where.label(SCHEMA_FILE)
    data = files.get(SCHEMA_FILE)
    if data is None:
        raise BundleError(
            f"{where.label('schema/')}: missing schema.yaml",
            hint="the schema file must be named schema/schema.yaml",
        )
    check_file_size(label, len(data), SCHEMA_LIMIT)
    return parse_schema(_text(data, label, "a schema file"), label)


def _check_schema_kind(schema: Schema, layout: Kind, folders: set[str]) -> None:
    if schema.kind == layout.value:
        return
    if layout is Kind.SERVICE:
        raise BundleError(
            f"{schema.source}: declares environment_input_type, but the bundle has "
            f"{INSTANCE_INFRASTRUCTURE}/ (a service layout); an environment bundle has "
            f"{INFRASTRUCTURE}/, a service schema declares service_input_type"
        )
    has_infrastructure = f"{INFRASTRUCTURE}/" in folders
    found = (
        f"has {INFRASTRUCTURE}/ (an environment layout)"
        if has_infrastructure
        else f"has no {INSTANCE_INFRASTRUCTURE}/ folder"
    )
    raise BundleError(
        f"{schema.source}: declares service_input_type, but the bundle {found}; a service "
        f"bundle has {INSTANCE_INFRASTRUCTURE}/"
    )


def _check_pipeline_agrees(schema: Schema, *, has_pipeline: bool, where: _Where) -> None:
    if schema.pipeline is not None and not has_pipeline:
        raise BundleError(
            f"{schema.source}: declares pipeline_input_type '{schema.pipeline.name}', but the "
            f"bundle has no {PIPELINE_INFRASTRUCTURE}/ folder",
            hint=f"add {PIPELINE_INFRASTRUCTURE}/ or remove pipeline_input_type",
        )
    if schema.pipeline is None and has_pipeline:
        raise BundleError(
            f"{where.label(PIPELINE_INFRASTRUCTURE + '/')}: present, but {schema.source} "
            "declares no pipeline_input_type",
            hint=f"add pipeline_input_type to the schema or remove {PIPELINE_INFRASTRUCTURE}/",
        )


def _check_template_count(manifests: list[Manifest], where: _Where) -> None:
    selected: list[str] = []
    for manifest in manifests:
        prefix = f"{manifest.folder}/" if manifest.folder else ""
        if manifest.entry.engine is Engine.CODEBUILD:
            selected.append(f"{prefix}{MANIFEST}")
        else:
            selected.extend(f"{prefix}{name}" for name in manifest.files)
    check_template_file_count(where.root, selected)


# --------------------------------------------------------------------------------------------
# Manifests


def _load_manifest(files: Mapping[str, bytes], folder: str, where: _Where, kind: Kind) -> Manifest:
    path = f"{folder}/{MANIFEST}" if folder else MANIFEST
    label = where.label(path)
    data = files.get(path)
    if data is None:
        raise BundleError(f"{where.label(folder + '/')}: missing {MANIFEST}")
    check_file_size(label, len(data), MANIFEST_LIMIT)
    document = parse_yaml(_text(data, label, "a manifest"), label, BundleError, marked=True)
    entry = _parse_entry(_manifest_entry(document, label), label)
    if entry.engine is Engine.CODEBUILD and kind is Kind.COMPONENT:
        raise BundleError(
            f"{label}: rendering_engine codebuild is not available for components; "
            "use jinja (CloudFormation) or hcl (Terraform)"
        )
    selected = _select_files(entry, files, folder, label, where)
    return Manifest(folder=folder, source=label, entry=entry, files=selected)


def _manifest_entry(document: Any, label: str) -> MarkedDict:
    shape = "infrastructure: {templates: [{file, rendering_engine, template_language}]}"
    if not isinstance(document, dict) or "infrastructure" not in document:
        raise BundleError(f"{label}: missing key 'infrastructure' (expected {shape})")
    infrastructure = document["infrastructure"]
    if not isinstance(infrastructure, dict) or "templates" not in infrastructure:
        raise BundleError(
            f"{_at(label, document, 'infrastructure')}: missing key 'infrastructure.templates' "
            f"(expected {shape})"
        )
    templates = infrastructure["templates"]
    where = _at(label, infrastructure, "templates")
    if not isinstance(templates, list):
        raise BundleError(f"{where}: 'infrastructure.templates' must be a list (expected {shape})")
    if len(templates) != 1:
        raise BundleError(
            f"{where}: 'infrastructure.templates' has {len(templates)} entries; Proton supports "
            "exactly one template entry per manifest"
        )
    entry = templates[0]
    if not isinstance(entry, MarkedDict):
        raise BundleError(f"{where}: the template entry must be a mapping (expected {shape})")
    return entry


def _parse_entry(entry: MarkedDict, label: str) -> TemplateEntry:
    where = _at(label, entry)
    engine_value = entry.get("rendering_engine")
    if engine_value is None:
        raise BundleError(f"{where}: missing rendering_engine (one of {_ENGINES})")
    if not isinstance(engine_value, str) or engine_value not in {e.value for e in Engine}:
        raise BundleError(
            f"{_at(label, entry, 'rendering_engine')}: unknown rendering_engine "
            f"{engine_value!r}; accepted: {_ENGINES}"
        )
    engine = Engine(engine_value)
    language = entry.get("template_language")
    if engine is Engine.CODEBUILD:
        for key in ("file", "template_language"):
            if key in entry:
                raise BundleError(
                    f"{_at(label, entry, key)}: '{key}' does not apply to rendering_engine "
                    "codebuild; its commands go under settings.provision"
                )
        return TemplateEntry(engine, None, None, _codebuild_settings(entry, label))
    expected = _LANGUAGE_OF_ENGINE[engine]
    if language is None:
        raise BundleError(f"{where}: missing template_language ({engine} needs {expected})")
    if language not in _LANGUAGE_OF_ENGINE.values():
        raise BundleError(
            f"{_at(label, entry, 'template_language')}: unknown template_language "
            f"{language!r}; accepted: {_LANGUAGES}"
        )
    if language != expected:
        raise BundleError(
            f"{_at(label, entry, 'template_language')}: rendering_engine {engine} needs "
            f"template_language {expected}, not {language}"
        )
    file = entry.get("file")
    if not isinstance(file, str) or not file:
        raise BundleError(f'{where}: missing file (the IaC file name, or "*" for every .tf file)')
    if file == "*" and engine is Engine.JINJA:
        raise BundleError(
            f'{_at(label, entry, "file")}: file "*" works only with rendering_engine hcl; '
            "name the CloudFormation file"
        )
    return TemplateEntry(engine, language, file)


def _codebuild_settings(entry: MarkedDict, label: str) -> Mapping[str, Any]:
    settings = entry.get("settings")
    if not isinstance(settings, dict):
        raise BundleError(
            f"{_at(label, entry, 'settings')}: rendering_engine codebuild needs a 'settings' "
            "mapping with a 'provision' list of commands"
        )
    if "provision" not in settings:
        raise BundleError(
            f"{_at(label, entry, 'settings')}: settings.provision is required: "
            "the list of commands that deploy the infrastructure"
        )
    for key in _COMMAND_LISTS:
        value = settings.get(key)
        if key in settings and (
            not isinstance(value, list) or not all(isinstance(c, str) for c in value)
        ):
            raise BundleError(
                f"{_at(label, settings, key)}: settings.{key} must be a list of shell commands "
                "(strings)"
            )
    for key in _SETTINGS_MAPPINGS:
        if key in settings and not isinstance(settings[key], dict):
            raise BundleError(f"{_at(label, settings, key)}: settings.{key} must be a mapping")
    if "image" in settings and not isinstance(settings["image"], str):
        raise BundleError(f"{_at(label, settings, 'image')}: settings.image must be text")
    return settings


def _select_files(
    entry: TemplateEntry, files: Mapping[str, bytes], folder: str, label: str, where: _Where
) -> dict[str, str]:
    prefix = f"{folder}/" if folder else ""
    place = f"{folder}/" if folder else "the bundle root"
    in_folder = sorted(p[len(prefix) :] for p in files if p.startswith(prefix))
    if entry.engine is Engine.CODEBUILD:
        return _codebuild_sources(files, prefix, in_folder)
    if entry.file == "*":
        names = [n for n in in_folder if "/" not in n and n.endswith(".tf") and not is_os_noise(n)]
        if not names:
            raise BundleError(f'{label}: file "*" selects every .tf file in {place}; there is none')
    else:
        name = str(entry.file)
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts:
            raise BundleError(f"{label}: file '{name}' must be a path inside {place}")
        name = "/".join(part for part in parts if part != ".")
        if name not in in_folder:
            raise BundleError(f"{label}: names file '{entry.file}', which is not in {place}")
        names = [name]
    selected: dict[str, str] = {}
    for name in names:
        file_label = where.label(prefix + name)
        data = files[prefix + name]
        check_file_size(file_label, len(data), TEMPLATE_FILE_LIMIT)
        selected[name] = _text(data, file_label, "an IaC template file")
    return selected


def _codebuild_sources(
    files: Mapping[str, bytes], prefix: str, in_folder: list[str]
) -> dict[str, str]:
    sources: dict[str, str] = {}
    for name in in_folder:
        if name == MANIFEST or is_os_noise(name):
            continue
        try:
            sources[name] = files[prefix + name].decode("utf-8")
        except UnicodeDecodeError:
            continue  # binary files (images, archives) ride along in Bundle.files only
    return sources


# --------------------------------------------------------------------------------------------
# Compatible environments (service bundles)


def _load_compatibility(
    files: Mapping[str, bytes], where: _Where
) -> tuple[tuple[CompatibleEnvironment, ...], tuple[str, ...]]:
    registration = files.get(REGISTRATION_FILE)
    if registration is not None:
        return _parse_registration(registration, where.label(REGISTRATION_FILE))
    legacy = files.get(LEGACY_COMPATIBLE_ENVS)
    if legacy is not None:
        return _parse_compatible_envs(legacy, where.label(LEGACY_COMPATIBLE_ENVS)), ()
    return (), ()


def _parse_registration(
    data: bytes, label: str
) -> tuple[tuple[CompatibleEnvironment, ...], tuple[str, ...]]:
    text = _text(data, label, REGISTRATION_FILE)
    document = parse_yaml(text, label, BundleError, marked=True)
    if document is None:
        return (), ()
    if not isinstance(document, dict):
        raise BundleError(
            f"{label}: must be a mapping with compatible_environments and "
            "supported_component_sources"
        )
    environments = _yaml_list(document, "compatible_environments", label)
    sources = _yaml_list(document, "supported_component_sources", label)
    lines = _item_lines(text)
    found = [
        _parse_environment_ref(item, _line_label(label, lines, "compatible_environments", i))
        for i, item in enumerate(environments)
    ]
    for i, source in enumerate(sources):
        if source != DIRECTLY_DEFINED:
            where = _line_label(label, lines, "supported_component_sources", i)
            raise BundleError(
                f"{where}: unknown component source '{source}'; the only one is {DIRECTLY_DEFINED}"
            )
    return _unique(found), tuple(dict.fromkeys(sources))


def _yaml_list(document: dict[str, Any], key: str, label: str) -> list[Any]:
    value = document.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BundleError(f"{_at(label, document, key)}: {key} must be a list")
    return value


def _item_lines(text: str) -> dict[str, list[int]]:
    """Line numbers (1-based) of the items of each top-level list in a YAML document."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[str, list[int]] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(value, yaml.SequenceNode):
                lines[str(key.value)] = [item.start_mark.line + 1 for item in value.value]
    return lines


def _line_label(label: str, lines: dict[str, list[int]], key: str, index: int) -> str:
    numbers = lines.get(key, [])
    return f"{label}:{numbers[index]}" if index < len(numbers) else label


def _parse_compatible_envs(data: bytes, label: str) -> tuple[CompatibleEnvironment, ...]:
    """The legacy file: one NAME:MAJOR per line; blank lines and `#` comments are ignored."""
    found = []
    for number, line in enumerate(_text(data, label, LEGACY_COMPATIBLE_ENVS).splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if entry:
            found.append(_parse_environment_ref(entry, f"{label}:{number}"))
    return _unique(found)


def _parse_environment_ref(item: Any, where: str) -> CompatibleEnvironment:
    text = item.strip() if isinstance(item, str) else None
    name, sep, major_text = (text or "").partition(":")
    major = parse_version_part(major_text.strip())
    if text is None or not sep or not is_valid_name(name.strip()) or major is None:
        raise BundleError(
            f"{where}: compatible environment {item!r} must be NAME:MAJOR, e.g. my-env:1 "
            "(an environment blueprint name and a major version)"
        )
    return CompatibleEnvironment(name=name.strip(), major=major)


def _unique(found: list[CompatibleEnvironment]) -> tuple[CompatibleEnvironment, ...]:
    return tuple(dict.fromkeys(found))
