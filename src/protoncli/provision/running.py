"""One run of Terraform, or of a CodeBuild bundle's commands, for a deployment: the events the
progress views show, the question before anything changes, the outputs it ends with."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from protoncli.deploy.model import (
    Change,
    DeployEvent,
    DeployHooks,
    DeployResult,
    StackEvent,
    StackRequest,
)
from protoncli.errors import PcliError, UsageError
from protoncli.provision.request import Provisioned
from protoncli.state.identity import DEPLOYMENT_TAG

if TYPE_CHECKING:
    from protoncli.deploy.project import Project
    from protoncli.provision.terraform import TerraformRun
    from protoncli.provision.terraform_json import Plan

EventKind = Literal["resource", "changes", "failed", "warning", "log"]
BACKEND_OVERRIDE = "pcli_backend_override.tf"
BACKEND_CONFIG = "pcli.s3.tfbackend"
# Beside Terraform's own files: what the folder was last initialised for (`_init_digest`).
INIT_MARKER = ".terraform/pcli-init.sha256"
_BACKEND_BLOCK = 'terraform {\n  backend "s3" {}\n}\n'
_FAILED_HINT = (
    "fix the cause and deploy again: the run starts from what Terraform's state records, so "
    "what was made is kept"
)
_CODEBUILD_FAILED_HINT = (
    "fix the cause and deploy again: the commands run again from the start, with what the "
    "earlier runs made left in place"
)


@dataclass(frozen=True)
class Run:
    """One deployment's run: what it runs, where, as whom, and whom it tells."""

    project: Project
    request: StackRequest
    files: Provisioned  # the rendered folder, with the deployment's metadata
    folder: Path  # where the files are written
    env: Mapping[str, str]  # the program's environment, credentials included
    hooks: DeployHooks
    deleting: bool
    on_start: Callable[[], None]  # the changes are confirmed: the deployment begins
    backend: Mapping[str, str]  # Terraform's S3 backend settings

    def event(self, kind: EventKind, **fields: Any) -> None:
        self.hooks.on_event(
            DeployEvent(kind, self.request.stack_name, self.request.description, **fields)
        )


def plan_terraform(run: Run) -> tuple[Change, ...]:
    """What an apply would change: init and plan only (`plan --changes`)."""
    return _planned(run)[1].changes


def _planned(run: Run) -> tuple[TerraformRun, Plan]:
    from protoncli.provision.terraform import TerraformFailedError, TerraformRun, find_terraform

    terraform = find_terraform(run.env)
    (run.folder / BACKEND_OVERRIDE).write_text(_BACKEND_BLOCK, encoding="utf-8")
    (run.folder / BACKEND_CONFIG).write_text(_backend_text(run.backend), encoding="utf-8")
    tf = TerraformRun(
        terraform,
        run.folder,
        env=run.env,
        on_event=lambda event: run.event("resource", event=event),
        cancel=run.project.stop,
    )
    marker = run.folder / INIT_MARKER
    digest = _init_digest(run.folder, terraform.version)
    if marker.is_file() and marker.read_text(encoding="utf-8") == digest:
        try:  # initialised for this configuration and backend already
            return tf, tf.plan(destroy=run.deleting)
        except TerraformFailedError:  # it needs init after all (a module, a provider...)
            marker.unlink(missing_ok=True)
    tf.init(run.folder / BACKEND_CONFIG)
    marker.write_text(digest, encoding="utf-8")
    return tf, tf.plan(destroy=run.deleting)


def _init_digest(folder: Path, version: str) -> str:
    """What `terraform init` depends on: the Terraform version, the backend settings and every
    `.tf` file (providers, modules); not the variables' values (`*.tfvars.json`)."""
    digest = hashlib.sha256(version.encode())
    for path in sorted([*folder.glob("*.tf"), folder / BACKEND_CONFIG]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def run_terraform(run: Run) -> dict[str, str] | None:
    """init, plan, the changes confirmed, apply (destroy when deleting); the outputs as
    strings, or None when the plan changes nothing."""
    from protoncli.provision.terraform import TerraformFailedError, string_outputs

    tf, plan = _planned(run)
    if not plan.has_changes:
        return {} if run.deleting else None
    _confirm(run, plan.changes)
    run.on_start()
    try:
        tf.apply()
    except TerraformFailedError as error:
        _failed(run, error.failures, error.message, list(error.details))
    return {} if run.deleting else string_outputs(tf.outputs())


def run_codebuild(run: Run) -> dict[str, str] | None:
    """The manifest's provision (deprovision) commands, with a Proton endpoint for their
    notify calls; the outputs they gave."""
    from protoncli.provision.codebuild import (
        CommandFailedError,
        check_runtimes,
        collect_outputs,
        command_timeout,
        provisioning_environment,
        run_commands,
    )
    from protoncli.provision.notify_endpoint import NotifyEndpoint

    settings = run.files.settings
    runtimes = settings.get("runtimes") or {}
    for problem in check_runtimes(runtimes if isinstance(runtimes, dict) else {}):
        run.event("warning", message=problem)
    commands = run.files.commands(run.deleting)
    if not commands:
        if run.deleting:
            return {}
        raise UsageError(
            f"{run.request.description}: the manifest's settings have no provision commands",
            hint="list the commands to run under infrastructure.templates[0].settings.provision",
        )
    run.on_start()
    with NotifyEndpoint(run.files.identifier) as notify:
        env = {
            **run.env,
            **provisioning_environment(
                resource_arn=run.files.identifier,
                region=run.env.get("AWS_REGION", ""),
                deployment_id=run.request.tags.get(DEPLOYMENT_TAG, ""),
                notify=notify,
            ),
        }
        try:
            run_commands(
                run.folder,
                commands,
                env=env,
                on_line=lambda line: run.event("log", message=line),
                timeout=command_timeout(run.env),
                cancel=run.project.stop,
            )
        except CommandFailedError as error:
            _failed(run, (), error.message, list(error.details), hint=error.hint)
        if "FAILED" in notify.statuses:
            message = "; ".join(notify.messages) or "the commands notified FAILED"
            _failed(run, (), message, [], hint=_CODEBUILD_FAILED_HINT)
        return {} if run.deleting else collect_outputs(run.folder, notify)


def _confirm(run: Run, changes: tuple[Change, ...]) -> None:
    run.event("changes", changes=changes)
    if not run.hooks.confirm(changes):
        raise PcliError(
            f"{run.request.description} not deployed: declined", hint="nothing was changed in AWS"
        )


def _failed(
    run: Run,
    failures: tuple[StackEvent, ...],
    message: str,
    details: list[str],
    *,
    hint: str | None = _FAILED_HINT,
) -> NoReturn:
    from protoncli.deploy.engine import StackFailedError

    status = "DELETE_FAILED" if run.deleting else "UPDATE_FAILED"
    run.event("failed", status=status, failures=failures, message=message)
    name, description = run.request.stack_name, run.request.description
    result = DeployResult(name, description, status, changed=True, failures=failures)
    raise StackFailedError(
        f"{description}: {message}", result, hint=hint, details=details or [message]
    )


def _backend_text(settings: Mapping[str, str]) -> str:
    """The backend settings as an HCL file: booleans bare, the rest as strings. (The endpoint
    comes from AWS_ENDPOINT_URL in Terraform's environment, not from here.)"""
    lines = []
    for key, value in settings.items():
        text = value if value in ("true", "false") else json.dumps(value)
        lines.append(f"{key} = {text}\n")
    return "".join(lines)
