"""Spec files of a workspace: read, write new, edit in place keeping comments; components.

Edits go through ruamel.yaml's round-trip mode (`workspace.roundtrip`), so comments, blank lines,
key order, style and the quoting of every value the edit does not touch survive.

Every write is atomic (a reader sees the old file or the new one) and is checked to parse as a
valid spec first: an edit that would break the file raises and leaves the file as it was.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protoncli.blueprints.limits import check_name
from protoncli.errors import InputError, NotFoundError, PcliError, UsageError, did_you_mean
from protoncli.locks import file_lock, workspace_lock
from protoncli.specs.io import load_spec_with_warnings, parse_spec_with_warnings
from protoncli.specs.model import ENVIRONMENT_SPEC, HEADER_KEYS, SERVICE_SPEC, Spec
from protoncli.workspace.model import (
    COMPONENT_FILE,
    COMPONENTS,
    Workspace,
    yaml_scalar,
)
from protoncli.yamlio import (
    MarkedDict,
    atomic_create,
    atomic_write,
    line_of,
    parse_yaml,
    read_text,
)

# ---------------------------------------------------------------------------------------------
# Reading and building documents


def require_removable(path: Path) -> None:
    """Refuse, before anything is deleted in AWS, when `path` (a spec file or a component's
    folder) could not be removed afterwards: its folder cannot be written."""
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PcliError(
            f"{folder}: cannot be written, so {path.name} could not be removed after its stacks; "
            "nothing was deleted",
            hint="make the workspace writable for this user, then run the deletion again",
        )


def read_spec(path: Path) -> tuple[Spec, list[str]]:
    """The spec in `path` and warnings about keys pcli ignores (specs.io rules)."""
    return load_spec_with_warnings(path)


def environment_document(
    *,
    blueprint: str,
    version: str,
    region: str | None,
    inputs: Mapping[str, Any],
    account: str | None = None,
) -> dict[str, Any]:
    """A Proton EnvironmentSpec with pcli's header keys (`region` and `account` left out when
    None)."""
    document: dict[str, Any] = {"blueprint": blueprint, "version": version}
    if region is not None:
        document["region"] = region
    if account is not None:
        document["account"] = account
    document["proton"] = ENVIRONMENT_SPEC
    document["spec"] = dict(inputs)
    return document


def service_document(
    *,
    blueprint: str,
    version: str,
    instances: Sequence[tuple[str, str, Mapping[str, Any]]],
    pipeline: Mapping[str, Any] | None,
    source: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A Proton ServiceSpec with pcli's header keys (`source`: the repository fields given).

    `instances` are (name, environment, inputs); an instance with no inputs gets no `spec:`, and
    `pipeline: None` leaves the pipeline section out, as Proton requires for pipeline-less
    blueprints.
    """
    document: dict[str, Any] = {"blueprint": blueprint, "version": version, **(source or {})}
    document["proton"] = SERVICE_SPEC
    if pipeline is not None:
        document["pipeline"] = dict(pipeline)
    document["instances"] = [
        instance_entry(name, environment, inputs) for name, environment, inputs in instances
    ]
    return document


def instance_entry(name: str, environment: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "environment": environment}
    if inputs:
        entry["spec"] = dict(inputs)
    return entry


# ---------------------------------------------------------------------------------------------
# Writing


def write_new_spec(path: Path, document: Mapping[str, Any], *, overwrite: bool = False) -> None:
    """Write a new spec file atomically: header keys first, then `proton`, then the rest.

    Refuses an existing file unless `overwrite`, also one another process creates at the same
    moment (the file appears in one exclusive step: of concurrent creates exactly one wins);
    refuses a document that is not a valid spec.
    """
    from protoncli.workspace.roundtrip import double_quoted, dump_new_yaml

    if path.exists() and not overwrite:
        raise _exists(path)
    ordered = {key: document[key] for key in (*HEADER_KEYS, "proton") if key in document}
    ordered.update((key, value) for key, value in document.items() if key not in ordered)
    if isinstance(ordered.get("version"), str):
        ordered["version"] = double_quoted(ordered["version"])  # "1.0", as Proton's docs write it
    text = dump_new_yaml(ordered)
    _check_spec(text, path, changed=False)
    if overwrite:
        atomic_write(path, text)
        return
    try:
        atomic_create(path, text)
    except FileExistsError:
        raise _exists(path) from None


def _exists(path: Path) -> UsageError:
    return UsageError(
        f"{path}: already exists", hint="edit it, or choose another name for the new one"
    )


def update_spec(path: Path, changes: Callable[[Any], None]) -> None:
    """Edit a spec file in place, keeping the user's comments, order and quoting.

    `changes` gets the document (a ruamel `CommentedMap`) and edits it: set the `version`
    header, set an input, add or remove an instance (see `set_header`, `find_instance`,
    `add_instance`, `remove_instance`). Values in it are as YAML 1.2 reads them (`yes` is text);
    read the spec with `read_spec`. The result is checked and written atomically; nothing is
    written when the text does not change.

    The whole read-modify-write holds the lock of the spec's workspace (`locks.workspace_lock`,
    or a lock file beside a spec outside any workspace), so edits made at the same time by other
    processes are applied one after the other, none lost.
    """
    with file_lock(_lock_for(path), f"editing {path.name}"):
        _update_spec(path, changes)


# The spec's top-level `version:` line: its value (quoted or plain) and what follows it.
_VERSION_LINE = re.compile(
    r"""^version:[ \t]*(?P<value>"[^"\n]*"|'[^'\n]*'|[^\s#"'][^\n#]*?)?[ \t]*(?:#[^\n]*)?$""",
    re.MULTILINE,
)


def set_version(path: Path, version: str, *, expected: str) -> str | None:
    """Pin `version` in the spec's header if it pins `expected` now; else write nothing and
    return what it pins (None: done). Under the same lock and checks as `update_spec`.

    The change of one header value is made in the text itself when the file has one
    `version:` line that can be edited so, and the edited file is checked to hold the same data
    but the version; any other file goes through the round trip of `update_spec`. Either way
    comments, order and quoting survive; the text edit costs a fraction of the round trip,
    which counts when an upgrade moves a fleet of specs."""
    from protoncli.workspace.roundtrip import double_quoted

    with file_lock(_lock_for(path), f"editing {path.name}"):
        text = read_text(path, InputError)
        data = parse_yaml(text, str(path), InputError)
        pinned = str(data.get("version")) if isinstance(data, Mapping) else None
        if pinned != expected:
            return pinned
        edited = _text_with_version(text, data, version)
        if edited is None:

            def change(document: Any) -> None:
                set_header(document, "version", double_quoted(version))

            _update_spec(path, change)
            return None
        _write_edit(path, text, edited)
        return None


def _text_with_version(text: str, data: Mapping[str, Any], version: str) -> str | None:
    """The text with its one `version:` line's value replaced by `version` (double-quoted);
    None unless the result reads as `data` with that version alone changed."""
    lines = list(_VERSION_LINE.finditer(text))
    if len(lines) != 1 or lines[0].group("value") is None:
        return None
    found = lines[0]
    edited = f'{text[: found.start("value")]}"{version}"{text[found.end("value") :]}'
    try:
        reread = parse_yaml(edited, "<edited>", InputError)
    except InputError:
        return None
    return edited if reread == {**data, "version": version} else None


def _lock_for(spec: Path) -> Path:
    """The lock that guards a spec file: its workspace's, else one for the file in pcli's state
    folder (a spec outside a workspace gets no lock file beside it)."""
    import hashlib

    from protoncli import paths
    from protoncli.locks import workspace_lock_file
    from protoncli.workspace.model import WORKSPACE_FILE

    folder = spec.absolute().parent
    for root in (folder, folder.parent):
        if (root / WORKSPACE_FILE).is_file():
            return workspace_lock_file(root)
    key = hashlib.sha256(str(spec.absolute()).encode("utf-8")).hexdigest()[:16]
    return paths.state_dir() / "locks" / f"spec-{key}.lock"


def _update_spec(path: Path, changes: Callable[[Any], None]) -> None:
    from protoncli.workspace.roundtrip import RoundTripError, edit_yaml_text

    source = str(path)
    text = read_text(path, InputError)
    parse_spec_with_warnings(text, source)  # refuse to edit a spec that is already broken
    try:
        new_text = edit_yaml_text(text, changes)
    except RoundTripError as error:
        where = f"{source}:{error.line}" if error.line else source
        raise InputError(f"{where}: cannot edit this YAML: {error.problem}") from error
    _write_edit(path, text, new_text)


def _write_edit(path: Path, text: str, new_text: str) -> None:
    """Write an edited spec (checked first, with the file's line ends); nothing when the
    edit changed nothing."""
    if new_text == text:
        return
    _check_spec(new_text, path, changed=True)
    windows = b"\r\n" in path.read_bytes()  # read_text gave "\n" for any line end
    atomic_write(path, new_text.replace("\n", "\r\n") if windows else new_text)


def _check_spec(text: str, path: Path, *, changed: bool) -> None:
    try:
        parse_spec_with_warnings(text, str(path))
    except InputError as error:
        what, note = ("edited", f"{path} is unchanged") if changed else ("new", "nothing written")
        raise InputError(
            f"the {what} spec would be invalid: {error.message} ({note})",
            hint=error.hint,
            details=error.details,
        ) from None


# ---------------------------------------------------------------------------------------------
# Helpers for `update_spec` changes


def set_header(document: Any, key: str, value: str) -> None:
    """Set a header key (`HEADER_KEYS`), adding it in header order when absent."""
    if key not in HEADER_KEYS:
        raise ValueError(f"{key!r} is not a header key")
    if key in document:
        document[key] = value
        return
    position = 0
    for index, existing in enumerate(document):
        if existing in HEADER_KEYS and HEADER_KEYS.index(existing) < HEADER_KEYS.index(key):
            position = index + 1
    document.insert(position, key, value)


def find_instance(document: Any, name: str) -> Any | None:
    """The instance entry named `name` in a service spec document, or None."""
    for entry in document.get("instances") or []:
        if isinstance(entry, Mapping) and entry.get("name") == name:
            return entry
    return None


def add_instance(document: Any, name: str, environment: str, inputs: Mapping[str, Any]) -> None:
    if find_instance(document, name) is not None:
        raise UsageError(f"service instance '{name}' already exists in the spec")
    if document.get("instances") is None:
        document["instances"] = []
    document["instances"].append(instance_entry(name, environment, inputs))


def remove_instance(document: Any, name: str) -> bool:
    """Remove the instance named `name`; False when there is none."""
    entries = document.get("instances") or []
    for index, entry in enumerate(entries):
        if isinstance(entry, Mapping) and entry.get("name") == name:
            del entries[index]
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Components


@dataclass(frozen=True)
class ComponentRecord:
    """A component of the workspace: its bundle folder and the service instance it attaches to."""

    name: str
    service: str
    instance: str
    environment: str
    bundle_dir: Path


def write_component(
    ws: Workspace,
    name: str,
    *,
    bundle_dir: Path,
    service: str,
    instance: str,
    environment: str,
    replace: bool = False,
) -> Path:
    """Copy a component bundle into components/<name>/ and record where it is attached.

    The folder is built next to its final place and swapped in, so a failure leaves the old one
    (or none). Refuses an existing component unless `replace`, a bundle that is not a component
    bundle, and a service instance that already has another component (Proton attaches at most
    one).
    """
    from protoncli.blueprints.archive import is_os_noise
    from protoncli.blueprints.bundle import load_bundle
    from protoncli.blueprints.model import Kind

    target = ws.component_dir(name)
    bundle = load_bundle(bundle_dir)
    if bundle.kind is not Kind.COMPONENT:
        raise UsageError(
            f"{bundle_dir}: is a {bundle.kind} bundle, not a component bundle",
            hint="a component bundle has manifest.yaml and its IaC at the top, and no schema/",
        )
    if COMPONENT_FILE in bundle.files:
        raise UsageError(
            f"{bundle_dir}: has a file named {COMPONENT_FILE}, the name pcli keeps the "
            "component's record under",
            hint="rename that file (and the manifest's `file:`) to, e.g., cloudformation.yaml",
        )
    files = {path: data for path, data in bundle.files.items() if not is_os_noise(path)}
    files[COMPONENT_FILE] = component_file_text(service, instance, environment).encode()
    with workspace_lock(ws, f"writing component {name}"):
        _check_attachment(ws, name, service, instance, environment)
        if target.exists() and not replace:
            raise _component_exists(name, target)
        try:
            _swap_in_folder(target, files, replace=replace)
        except FileExistsError:
            raise _component_exists(name, target) from None
    return target


def _component_exists(name: str, target: Path) -> UsageError:
    return UsageError(
        f"component '{name}' already exists: {target}",
        hint="choose another name, or update the existing component",
    )


def _check_attachment(
    ws: Workspace, name: str, service: str, instance: str, environment: str
) -> None:
    check_name(environment, "environment")
    check_name(service, "service")
    check_name(instance, "service instance")
    for other in ws.components():
        if other == name:
            continue
        record = read_component(ws, other)
        if (record.service, record.instance) == (service, instance):
            raise UsageError(
                f"service instance {service}/{instance} already has the component '{other}'",
                hint="Proton attaches at most one component to a service instance; "
                f"detach or delete '{other}' first",
            )


def _swap_in_folder(target: Path, files: Mapping[str, bytes], *, replace: bool) -> None:
    """Build the folder beside `target`, then rename it into place. Without `replace`, an
    existing `target` (also one made meanwhile by another process) is `FileExistsError`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    retired: Path | None = None
    try:
        for relative, data in files.items():
            destination = staging / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(data)
        if replace and target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            target.replace(retired / target.name)
        _rename_new(staging, target)
    except BaseException:
        if retired is not None and not target.exists():
            (retired / target.name).replace(target)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)


def _rename_new(staging: Path, target: Path) -> None:
    """Rename a folder to a path that must not exist (or be an empty folder, which goes)."""
    if target.is_file() or target.is_symlink():
        raise FileExistsError(target)
    try:
        staging.rename(target)  # POSIX: refuses a target folder that is not empty
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise FileExistsError(target) from exc
        raise


def component_file_text(service: str, instance: str, environment: str) -> str:
    return (
        "# pcli component record: the service instance this component is attached to.\n"
        f"service: {yaml_scalar(service)}\n"
        f"instance: {yaml_scalar(instance)}\n"
        f"environment: {yaml_scalar(environment)}\n"
    )


def read_component(ws: Workspace, name: str) -> ComponentRecord:
    folder = ws.component_dir(name)
    path = folder / COMPONENT_FILE
    if not path.is_file():
        known = ws.components()
        raise NotFoundError(
            f"no component named '{name}' in {ws.root / COMPONENTS}{did_you_mean(name, known)}",
            hint=f"components here: {', '.join(known)}" if known else "this workspace has none yet",
        )
    source = str(path)
    document = parse_yaml(read_text(path, InputError), source, InputError, marked=True)
    if not isinstance(document, MarkedDict):
        raise InputError(f"{source}: expected a mapping with service, instance and environment")
    service = _record_name(document, "service", source)
    instance = _record_name(document, "instance", source)
    environment = _record_name(document, "environment", source)
    return ComponentRecord(name, service, instance, environment, folder)


def _record_name(document: MarkedDict, key: str, source: str) -> str:
    value = document.get(key)
    if value is None:
        raise InputError(
            f"{source}: missing '{key}:'",
            hint="a component record has service, instance, environment",
        )
    if not isinstance(value, str):
        raise InputError(f"{source}:{line_of(document, key)}: {key} must be text, not {value!r}")
    try:
        check_name(value, key)
    except UsageError as error:
        raise InputError(f"{source}:{line_of(document, key)}: {error.message}") from None
    return value
