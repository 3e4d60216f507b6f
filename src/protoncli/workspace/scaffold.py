"""Scaffolding a service's source code from its blueprint's `skeleton/` folder.

A service blueprint may carry `skeleton/`: source files (a Dockerfile, a CI workflow, app code)
whose names and contents are Jinja templates, rendered in the same sandbox as the IaC with the
service's name and inputs. pcli writes them into a folder of the user's choosing and records in
`.pcli-scaffold.json` the blueprint, version and a digest of every file it wrote, so that a later
run (after an upgrade) can tell a file the user changed from one it may safely replace.

Decisions:
- Text files (UTF-8 without NUL bytes) are rendered; any other file is copied as it is. Jinja
  drops a template's final newline; a rendered file ends with one when its template did.
- A file that exists is left alone when it already has the new content (unchanged), replaced when
  it still has what pcli last wrote (updated), and refused otherwise. One refused file stops the
  run before anything is written.
- File modes are not carried over: a bundle holds file contents only.
- `skeleton/.pcli-ci.yaml` (`workflow: github-actions`, optional `image_parameter: INPUT`) asks
  for the CI workflow `pcli ci generate github-actions --source` writes, as
  `.github/workflows/deploy.yml`, instead of a template: it deploys the service's instances
  environment by environment, so it needs their environments (`ci`, from the caller's
  project). The declaration itself is not written.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from protoncli.blueprints.model import Bundle
from protoncli.errors import RenderError, UsageError
from protoncli.render.namespaces import Namespace
from protoncli.yamlio import atomic_write, parse_json, parse_yaml, read_text

if TYPE_CHECKING:
    from protoncli.workspace.ci_workflow import SourceWorkflow

RECORD_FILE = ".pcli-scaffold.json"
SKELETON_LABEL = "skeleton"
CI_FILE = ".pcli-ci.yaml"  # in skeleton/: write the generated CI workflow
CI_WORKFLOW = ".github/workflows/deploy.yml"
CI_KEYS = ("workflow", "image_parameter")
CI_EXAMPLE = "{workflow: github-actions, image_parameter: image}"

# The service's source workflow, without its image parameter (`ci_workflow.source_workflow`):
# called only when the skeleton declares one.
CiSource = Callable[[], "SourceWorkflow"]


@dataclass(frozen=True)
class ScaffoldResult:
    """What a scaffold run did (or, with `dry_run`, would do), by path relative to `target`."""

    target: Path
    blueprint: str
    version: str
    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()  # had what pcli last wrote; replaced with the new rendering
    unchanged: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()  # only in a dry run: a real run raises instead

    @property
    def record(self) -> Path:
        return self.target / RECORD_FILE

    def summary(self) -> str:
        """ "2 created, 1 unchanged": the counts that are not zero."""
        counts = (
            ("created", self.created),
            ("updated", self.updated),
            ("unchanged", self.unchanged),
            ("refused", self.refused),
        )
        return ", ".join(f"{len(paths)} {label}" for label, paths in counts if paths) or "no files"


@dataclass(frozen=True)
class _Plan:
    created: dict[str, bytes]
    updated: dict[str, bytes]
    unchanged: list[str]
    refused: list[tuple[str, str]]  # (path, why)


def scaffold(
    bundle: Bundle,
    target: Path,
    *,
    service: str,
    instances: Mapping[str, Mapping[str, Any]],
    blueprint: str,
    version: str,
    dry_run: bool = False,
    ci: CiSource | None = None,
) -> ScaffoldResult:
    """Render `bundle`'s skeleton for `service` into `target`.

    `instances` maps instance names to their inputs, in spec order; inputs they leave out take
    the schema's defaults. The first instance is `service_instance` in the templates. `ci` gives
    the service's source workflow when the skeleton declares one. Raises `UsageError` listing
    every file that would overwrite a change of the user's, having written nothing, and for a
    malformed CI declaration.
    """
    skeleton = bundle.skeleton_files()
    if not skeleton:
        raise UsageError(
            f"blueprint {blueprint}@{version} has no {SKELETON_LABEL}/ folder to scaffold from",
            hint="leave out --scaffold, or ask the blueprint's owners for a skeleton",
        )
    target = target.expanduser()
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target}: is a file; give a folder to scaffold into")
    rendered = render_for_service(bundle, service, instances, ci=ci)
    previous = _read_record(target, service)
    plan = _plan(target, rendered, previous)
    result = ScaffoldResult(
        target=target,
        blueprint=blueprint,
        version=version,
        created=tuple(sorted(plan.created)),
        updated=tuple(sorted(plan.updated)),
        unchanged=tuple(sorted(plan.unchanged)),
        refused=tuple(path for path, _ in plan.refused),
    )
    if dry_run:
        return result
    if plan.refused:
        raise UsageError(
            f"{target}: {len(plan.refused)} file(s) differ from what pcli would write; "
            "nothing was written",
            details=[f"{path}: {why}" for path, why in plan.refused],
            hint="keep your version elsewhere and delete the file, or scaffold into another folder",
        )
    for path, data in {**plan.created, **plan.updated}.items():
        atomic_write(target / path, data)
    write_record(target, service, blueprint, version, rendered)
    return result


def render_for_service(
    bundle: Bundle,
    service: str,
    instances: Mapping[str, Mapping[str, Any]],
    *,
    ci: CiSource | None = None,
) -> dict[str, bytes]:
    """`bundle`'s skeleton rendered for `service` ({relative path: bytes}); `instances` as for
    `scaffold`, the inputs they leave out taking the bundle's schema defaults; with a CI
    declaration, the workflow `ci` gives in place of the declaration."""
    from protoncli.workspace.ci_workflow import source_workflow_text

    declared = ci_declaration(bundle)
    skeleton = bundle.skeleton_files()
    skeleton.pop(CI_FILE, None)
    complete = {name: _with_defaults(bundle, inputs) for name, inputs in instances.items()}
    rendered = render_skeleton(skeleton, _namespace(service, complete))
    if declared is None:
        return rendered
    if CI_WORKFLOW in rendered:
        raise UsageError(
            f"{SKELETON_LABEL}/{CI_FILE}: pcli writes {CI_WORKFLOW} from it, but a file of "
            f"{SKELETON_LABEL}/ renders to that name too",
            hint=f"remove that file, or {CI_FILE} to keep it",
        )
    if ci is None:  # a caller without the service's environments
        raise UsageError(
            f"{SKELETON_LABEL}/{CI_FILE}: writing {CI_WORKFLOW} needs the environments of "
            f"the service's instances, which this command does not give",
            hint=f"write it with: pcli ci generate github-actions --service {service} --source "
            f"--output DIR/{CI_WORKFLOW}",
        )
    flow = replace(ci(), image_parameter=declared.image_parameter)
    rendered[CI_WORKFLOW] = source_workflow_text(flow).encode("utf-8")
    return rendered


@dataclass(frozen=True)
class CiDeclaration:
    """What `skeleton/.pcli-ci.yaml` asks for: the CI system's workflow (github-actions) and
    the service input the built image goes to (None: the service has no image to build)."""

    workflow: str
    image_parameter: str | None = None


def ci_declaration(bundle: Bundle) -> CiDeclaration | None:
    """The skeleton's CI declaration; None without one, `UsageError` for a malformed one."""
    data = bundle.skeleton_files().get(CI_FILE)
    if data is None:
        return None
    label = f"{SKELETON_LABEL}/{CI_FILE}"
    hint = f"write it as {CI_EXAMPLE} (image_parameter: the input the built image goes to)"
    text = _as_text(data)
    if text is None:
        raise UsageError(f"{label}: not a UTF-8 text file", hint=hint)
    try:
        document = parse_yaml(text, label, UsageError)
    except UsageError as error:
        raise UsageError(str(error), hint=hint) from error
    if not isinstance(document, dict):
        raise UsageError(f"{label}: expected a mapping, found {_kind(document)}", hint=hint)
    unknown = sorted(str(key) for key in document if key not in CI_KEYS)
    if unknown:
        raise UsageError(
            f"{label}: unknown key(s) {', '.join(unknown)} (it takes {', '.join(CI_KEYS)})",
            hint=hint,
        )
    workflow = document.get("workflow")
    if workflow != "github-actions":
        found = f"not {workflow!r}" if "workflow" in document else "and it is missing"
        raise UsageError(f"{label}: workflow must be github-actions, {found}", hint=hint)
    image = document.get("image_parameter")
    if image is None:
        return CiDeclaration(workflow)
    return CiDeclaration(workflow, image_input(bundle, image, f"{label}: image_parameter"))


def image_input(bundle: Bundle, name: object, label: str) -> str:
    """`name`, checked to be an input of `bundle`'s service schema (`label` names where it
    comes from in the error)."""
    inputs = [item.name for item in bundle.schema.main.inputs] if bundle.schema else []
    if not isinstance(name, str) or name not in inputs:
        known = ", ".join(inputs) or "none"
        raise UsageError(
            f"{label} {name!r} is not an input of the blueprint's service schema "
            f"(its inputs: {known})",
            hint="name the input that takes the image, or leave it out",
        )
    return name


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def _with_defaults(bundle: Bundle, inputs: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(inputs)
    if bundle.schema is not None:
        for item in bundle.schema.main.inputs:
            if item.name not in merged and item.has_default:
                merged[item.name] = copy.deepcopy(item.default)
    return merged


def _namespace(service: str, instances: Mapping[str, Mapping[str, Any]]) -> Namespace:
    listed = [{"name": name, "inputs": dict(inputs)} for name, inputs in instances.items()]
    values: dict[str, Any] = {"service": {"name": service}, "service_instances": listed}
    hints = {
        "service": "a skeleton sees service.name only",
        "service_instance": "a service instance has 'name' and 'inputs'",
    }
    if listed:
        first = listed[0]
        values["service_instance"] = first
        hints["service_instance.inputs"] = (
            f"the service instance '{first['name']}' has no input '{{key}}'; guard it with "
            "`is defined` or `| default(...)`"
        )
    else:
        hints["service_instance"] = (
            f"the service '{service}' has no instances yet, so a skeleton cannot use "
            "service_instance; add an instance first"
        )
    return Namespace(values, hints)


def render_skeleton(skeleton: Mapping[str, bytes], namespace: Namespace) -> dict[str, bytes]:
    """Render every skeleton file's name and (text) content; return {relative path: bytes}."""
    from protoncli.render.jinja_env import render_text

    rendered: dict[str, bytes] = {}
    sources: dict[str, str] = {}
    for name, data in sorted(skeleton.items()):
        label = f"{SKELETON_LABEL}/{name}"
        path = _checked_path(render_text(name, f"{label} (file name)", namespace), label)
        if path in sources:
            raise RenderError(
                f"{label}: its name renders to {path}, as {SKELETON_LABEL}/{sources[path]}'s does"
            )
        sources[path] = name
        text = _as_text(data)
        if text is None:
            rendered[path] = data
            continue
        content = render_text(text, label, namespace)
        if text.endswith("\n") and not content.endswith("\n"):
            content += "\n"
        rendered[path] = content.encode("utf-8")
    return rendered


def _as_text(data: bytes) -> str | None:
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _checked_path(rendered: str, label: str) -> str:
    """The rendered name as a clean relative POSIX path inside the target folder."""
    parts = rendered.split("/")
    bad = (
        not rendered
        or "\\" in rendered
        or rendered.startswith("/")
        or any(part in {"", ".", ".."} or part != part.strip() for part in parts)
    )
    if bad:
        raise RenderError(
            f"{label}: the file name renders to {rendered!r}, which is not a path inside the "
            "folder being scaffolded",
            hint="check the values the name uses; each part must be a non-empty file name",
        )
    if rendered == RECORD_FILE:
        raise RenderError(f"{label}: {RECORD_FILE} is the name of pcli's own record")
    return str(PurePosixPath(rendered))


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _plan(target: Path, rendered: Mapping[str, bytes], previous: Mapping[str, str]) -> _Plan:
    plan = _Plan({}, {}, [], [])
    root = target.resolve()
    for path, data in rendered.items():
        destination = target / path
        if not destination.resolve().is_relative_to(root):
            plan.refused.append((path, "leads outside the folder (through a symbolic link)"))
        elif not destination.exists() and not _blocked_by_file(target, path):
            plan.created[path] = data
        elif not destination.is_file():
            plan.refused.append((path, "a folder or a file stands in the way"))
        else:
            current = destination.read_bytes()
            if current == data:
                plan.unchanged.append(path)
            elif previous.get(path) == file_digest(current):
                plan.updated[path] = data
            elif path in previous:
                plan.refused.append((path, "changed since pcli wrote it"))
            else:
                plan.refused.append((path, "exists, and pcli did not write it"))
    return plan


def _blocked_by_file(target: Path, path: str) -> bool:
    """Whether a file sits where one of `path`'s folders would have to be."""
    parent = PurePosixPath(path).parent
    return any((target / folder).is_file() for folder in (parent, *parent.parents))


@dataclass(frozen=True)
class ScaffoldRecord:
    """What a folder's `.pcli-scaffold.json` says: the blueprint version and the service it was
    scaffolded for, and the digest of each file of that version's render, by relative path."""

    target: Path
    blueprint: str
    version: str
    service: str
    files: Mapping[str, str]


def read_record(target: Path) -> ScaffoldRecord:
    """The record of a folder pcli scaffolded; `UsageError` when it has none or a broken one."""
    path = target / RECORD_FILE
    if not path.is_file():
        raise UsageError(
            f"{target}: no {RECORD_FILE} here, so pcli did not scaffold this folder",
            hint="give the folder named by --scaffold when the service was created",
        )
    record = parse_json(read_text(path, UsageError), str(path), UsageError)
    fields = [record.get(key) if isinstance(record, dict) else None for key in _RECORD_KEYS]
    files = record.get("files") if isinstance(record, dict) else None
    if not all(isinstance(value, str) and value for value in fields) or not (
        isinstance(files, dict) and all(isinstance(v, str) for v in files.values())
    ):
        raise UsageError(
            f"{path}: not a pcli scaffold record",
            hint="it needs blueprint, version, service and files; pcli writes it, do not edit it",
        )
    blueprint, version, service = (str(value) for value in fields)
    return ScaffoldRecord(target, blueprint, version, service, dict(files))


_RECORD_KEYS = ("blueprint", "version", "service")


def _read_record(target: Path, service: str) -> dict[str, str]:
    """{path: digest} of what pcli last wrote in `target` for `service` ({} with no record)."""
    path = target / RECORD_FILE
    if not path.is_file():
        return {}
    record = parse_json(read_text(path, UsageError), str(path), UsageError)
    files = record.get("files") if isinstance(record, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise UsageError(
            f"{path}: not a pcli scaffold record",
            hint="delete it to scaffold afresh (pcli then refuses every file that differs)",
        )
    owner = record.get("service")
    if isinstance(owner, str) and owner != service:
        raise UsageError(
            f"{target}: holds the scaffold of the service '{owner}', not '{service}'",
            hint="scaffold each service into its own folder",
        )
    return {str(key): value for key, value in files.items()}


def write_record(
    target: Path, service: str, blueprint: str, version: str, rendered: Mapping[str, bytes]
) -> None:
    """Record `blueprint`@`version` and the digest of each file of its render in `target`."""
    record = {
        "blueprint": blueprint,
        "version": version,
        "service": service,
        "files": {path: file_digest(data) for path, data in sorted(rendered.items())},
    }
    text = json.dumps(record, indent=2) + "\n"
    path = target / RECORD_FILE
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        atomic_write(path, text)
