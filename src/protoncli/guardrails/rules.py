"""Rule sets: the Guard files of a folder, the rules they name, and each rule's severity.

A rule set is a folder (a bundle's `guardrails/`, a folder registry's `.guardrails/`) of:

- `*.guard` files in Guard's language, each read on its own (a file's `let` variables are its
  own); every named rule (`rule NAME ...`) is a guardrail, known by its name;
- an optional `guardrails.yaml` that sets rules' severities: `rules: {NAME: warning}`. A rule it
  does not list is an `error` (it blocks the deploy); a `warning` is shown and lets it go on.

Refused, naming the file (exit 1): a Guard file that does not parse, one that names no rule, a
rule name used twice (in one set, or in a blueprint's and its registry's), a `guardrails.yaml`
that is not the shape above or names a rule no Guard file of the set defines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.errors import BundleError

if TYPE_CHECKING:
    from protoncli.blueprints.model import Bundle

BUNDLE_FOLDER = "guardrails"  # in a bundle
REGISTRY_FOLDER = ".guardrails"  # at a folder registry's root: a dot, so no blueprint's name
SEVERITY_FILE = "guardrails.yaml"
RULE_SUFFIX = ".guard"
ERROR, WARNING = "error", "warning"
SEVERITIES = (ERROR, WARNING)
ENGINE_PACKAGE = "cfn-guard-rs>=0.3.3,<0.4"
SWAP_WAIT = 5.0  # seconds a reader waits for rules being replaced

_SEVERITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "rules": {
            "type": "object",
            "additionalProperties": {"enum": list(SEVERITIES)},
        }
    },
}
# Guard says where a file stops parsing as "... at line 3 at column 7 ..."
_PARSE_PLACE = re.compile(r"at line (\d+) at column (\d+)")


class GuardrailsError(BundleError):
    """Rule files that cannot be used (exit 1): they name the file, and where in it."""


RunChecks = Callable[[str, str, bool], str]


def engine_installed() -> bool:
    """Whether Guard's engine (cfn-guard-rs) can be imported here."""
    import importlib.util

    return importlib.util.find_spec("cfn_guard_rs") is not None


def engine() -> RunChecks:
    """Guard's `run_checks` (data JSON, rules text, verbose) -> its report as JSON text."""
    try:
        from cfn_guard_rs.cfn_guard_rs import run_checks_rs
    except ImportError:
        raise GuardrailsError(
            "this blueprint has guardrails, and checking them needs AWS CloudFormation Guard's "
            "engine (the Python package cfn-guard-rs), which is not installed",
            hint=f"pip install '{ENGINE_PACKAGE}' (on Python 3.13 and newer it builds from "
            "source and needs Rust: https://rustup.rs)",
        ) from None
    return run_checks_rs  # type: ignore[no-any-return]


class ReportCutError(Exception):
    """Guard's report came back cut short: cfn-guard-rs 0.3 returns only the last 8 KiB block
    of a longer report (a dozen failed clauses or so). `tail` is what came back: its end still
    lists the rules that held."""

    def __init__(self, tail: str) -> None:
        super().__init__("Guard's report was cut short")
        self.tail = tail


def run_guard(rules: str, data: str, label: str) -> dict[str, Any]:
    """Guard's report of `rules` on `data` (JSON text); a rule file it refuses is an error
    naming `label`; a report cut short is `ReportCutError`."""
    run = engine()
    try:
        text = run(data, rules, False)  # noqa: FBT003 - Guard's `verbose`
    except (ValueError, NameError) as error:  # Guard's parse errors, unknown variables
        raise _refused(label, error) from None
    try:
        report = json.loads(text)
    except ValueError:
        raise ReportCutError(str(text)) from None
    if not isinstance(report, dict):
        raise GuardrailsError(f"{label}: Guard answered {report!r} instead of a report")
    return report


def _refused(label: str, error: Exception) -> GuardrailsError:
    text = " ".join(str(error).split())
    place = _PARSE_PLACE.search(text)
    where = f"{label}:{place.group(1)}:{place.group(2)}" if place else label
    return GuardrailsError(
        f"{where}: Guard cannot read this rule file",
        details=[text],
        hint="check it with cfn-guard's own tools, or the rules' syntax in "
        "docs/reference/guardrails.md",
    )


@lru_cache(maxsize=512)
def rule_names(text: str, label: str) -> tuple[str, ...]:
    """The named rules of one Guard file, in its order (Guard's report on empty data lists each
    rule once, as compliant, not applicable or not compliant)."""
    try:
        report = run_guard(text, "{}", label)
    except ReportCutError:
        raise GuardrailsError(f"{label}: Guard's report on an empty template is too long") from None
    names: list[str] = []
    for key in ("not_compliant", "not_applicable", "compliant"):
        for entry in report.get(key) or ():
            name = entry.get("Rule", {}).get("name") if isinstance(entry, dict) else entry
            if isinstance(name, str) and name and name not in names:
                names.append(name)
    if not names:
        raise GuardrailsError(
            f"{label}: names no rule",
            hint="write each check inside `rule NAME { ... }`: the name is what severities "
            "and --override-rule use",
        )
    return tuple(names)


@dataclass(frozen=True)
class RuleFile:
    label: str  # where it was read from, for messages
    text: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class RuleSet:
    """Guard files and their rules' severities; empty when there are no rules."""

    files: tuple[RuleFile, ...] = ()
    severities: Mapping[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.files)

    def names(self) -> tuple[str, ...]:
        return tuple(name for rule_file in self.files for name in rule_file.rules)

    def severity(self, rule: str) -> str:
        return self.severities.get(rule, ERROR)

    def joined(self, other: RuleSet) -> RuleSet:
        """This set and `other` checked together (a registry's rules and a blueprint's)."""
        if not other:
            return self
        if not self:
            return other
        joined = RuleSet(self.files + other.files, {**self.severities, **other.severities})
        _refuse_duplicates(joined.files)
        return joined


def rule_set_of(files: Mapping[str, bytes], folder: str, label: Callable[[str], str]) -> RuleSet:
    """The rule set in `folder/` of a mapping of relative paths to bytes (a bundle's files);
    `label(path)` names a file in messages."""
    prefix = f"{folder}/"
    guard_paths = sorted(
        path for path in files if path.startswith(prefix) and path.endswith(RULE_SUFFIX)
    )
    severity_path = prefix + SEVERITY_FILE
    if not guard_paths:
        if severity_path in files:
            raise GuardrailsError(
                f"{label(severity_path)}: sets severities, but {folder}/ holds no "
                f"{RULE_SUFFIX} file"
            )
        return RuleSet()
    rule_files = tuple(_rule_file(files[path], label(path)) for path in guard_paths)
    _refuse_duplicates(rule_files)
    severities: dict[str, str] = {}
    if severity_path in files:
        severities = _severities(files[severity_path], label(severity_path), rule_files)
    return RuleSet(rule_files, severities)


def bundle_rules(bundle: Bundle) -> RuleSet:
    """The rule set a bundle carries in `guardrails/` (empty without one)."""
    return rule_set_of(bundle.files, BUNDLE_FOLDER, lambda path: str(Path(bundle.root, path)))


def rule_set_in(directory: Path) -> RuleSet:
    """The rule set of a folder on disk (a folder registry's `.guardrails/`); empty if none."""
    return rule_set_from(rule_files_in(directory), directory)


def rule_set_from(files: Mapping[str, bytes], directory: Path) -> RuleSet:
    """The rule set of `files` (file name -> bytes) as they are, or would be, in `directory`."""
    prefixed = {f"{directory.name}/{name}": data for name, data in files.items()}
    return rule_set_of(prefixed, directory.name, lambda path: str(directory.parent / path))


def rule_files_in(directory: Path) -> dict[str, bytes]:
    """The rule files of a folder (its `.guard` files and `guardrails.yaml`), by name.

    `replace_rule_folder` moves the old folder aside (`<name>-old-*`) just before it renames the
    new one in: a reader that finds no folder while one is aside, or loses it while reading,
    waits for the new one (up to `SWAP_WAIT` seconds) instead of reading no rules."""
    import time

    deadline = time.monotonic() + SWAP_WAIT
    while True:
        try:
            if directory.is_dir():
                return {
                    path.name: path.read_bytes()
                    for path in sorted(directory.iterdir())
                    if path.is_file()
                    and (path.name.endswith(RULE_SUFFIX) or path.name == SEVERITY_FILE)
                }
        except OSError:  # moved aside while being read
            pass
        swapping = any(directory.parent.glob(f"{directory.name}-old-*"))
        if not swapping or time.monotonic() > deadline:
            if swapping:
                raise GuardrailsError(
                    f"{directory}: its rules are being replaced, and the new ones did not "
                    f"appear within {SWAP_WAIT} s",
                    hint=f"run the command again; remove {directory.name}-old-* folders left "
                    "by an interrupted replacement",
                )
            return {}
        time.sleep(0.02)


def replace_rule_folder(directory: Path, files: Mapping[str, bytes]) -> None:
    """Make `directory` hold exactly `files` (none: remove it). The new folder is written
    beside it, then renamed into place once the old one is moved aside (readers wait for that
    moment, `rule_files_in`); writers take turns on a lock file beside it."""
    import shutil

    from protoncli.blueprints.versions import registry_lock, staging_folder

    with registry_lock(directory.with_name(f"{directory.name}.lock"), "replacing guardrails"):
        staging = staging_folder(directory.parent)
        for name, data in files.items():
            (staging / name).write_bytes(data)
        old = directory.with_name(f"{directory.name}-old-{staging.name.rsplit('-', 1)[-1]}")
        if directory.exists():
            directory.rename(old)
        if files:
            staging.rename(directory)
        else:
            shutil.rmtree(staging)
        shutil.rmtree(old, ignore_errors=True)


def _rule_file(data: bytes, label: str) -> RuleFile:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise GuardrailsError(f"{label}: not UTF-8 text (byte {error.start})") from None
    return RuleFile(label, text, rule_names(text, label))


def _refuse_duplicates(rule_files: tuple[RuleFile, ...]) -> None:
    seen: dict[str, str] = {}
    for rule_file in rule_files:
        for name in rule_file.rules:
            if name in seen:
                raise GuardrailsError(
                    f"rule {name!r} is defined twice: in {seen[name]} and in {rule_file.label}",
                    hint="rename one: overrides and severities name rules by their name",
                )
            seen[name] = rule_file.label


def _severities(data: bytes, label: str, rule_files: tuple[RuleFile, ...]) -> dict[str, str]:
    import jsonschema

    from protoncli.yamlio import parse_yaml

    document = parse_yaml(data.decode("utf-8", "replace"), label, GuardrailsError) or {}
    problems = sorted(
        jsonschema.Draft202012Validator(_SEVERITY_SCHEMA).iter_errors(document),
        key=lambda problem: list(problem.absolute_path),
    )
    if problems:
        raise GuardrailsError(
            f"{label}: not a severity file",
            details=[_problem_line(problem) for problem in problems],
            hint="write `rules: {RULE_NAME: warning}` (or error, the default)",
        )
    severities: dict[str, str] = dict(document.get("rules") or {})
    known = {name for rule_file in rule_files for name in rule_file.rules}
    unknown = sorted(set(severities) - known)
    if unknown:
        from protoncli.errors import did_you_mean

        raise GuardrailsError(
            f"{label}: names rule {unknown[0]!r}, which no {RULE_SUFFIX} file beside it "
            f"defines{did_you_mean(unknown[0], known)}",
            hint=f"its rules: {', '.join(sorted(known))}",
        )
    return severities


def _problem_line(problem: Any) -> str:
    where = ".".join(str(step) for step in problem.absolute_path)
    return f"{where}: {problem.message}" if where else str(problem.message)
