"""Deploy and delete items that CloudFormation does not deploy, as the engine does stacks: the
same events (start, changes and the question, resources, done or failed), the same result, and
the item's state kept in AWS (`provision/state.py`).

- Terraform, `local`: pcli runs Terraform in a work folder of its own (`init` with the S3
  backend in the item's account and region, its native lock file, `plan`, the changes shown
  and confirmed, `apply` with each resource's progress, `output`); `destroy` on delete.
- Terraform, `pull-request`: the rendered folder is committed on a new branch of the
  provisioning repository and the item waits, IN_PROGRESS, until `pcli notify` says how the
  team's automation ended (`provision/notify.py`).
- CodeBuild: the manifest's `provision` (`deprovision`) commands run here with Proton's
  contract (`proton-inputs.json`, `RESOURCE_ARN`, a Proton endpoint for their notify calls).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from protoncli.deploy.engine import Deployer, utc_now
from protoncli.deploy.model import (
    PULL_REQUEST_PENDING,
    Change,
    DeployEvent,
    DeployHooks,
    DeployResult,
    OnEvent,
    StackEvent,
    StackRequest,
)
from protoncli.errors import PcliError, UsageError
from protoncli.provision.request import Provisioned
from protoncli.provision.state import (
    FAILED,
    IN_PROGRESS,
    PULL_REQUEST,
    SUCCEEDED,
    TERRAFORM,
    Pending,
    ProvisionedState,
    new_state,
)
from protoncli.provision.store import (
    delete_folder,
    delete_state,
    read_folder,
    read_state,
    remember_deployment,
    write_folder,
    write_state,
)
from protoncli.state.identity import DEPLOYMENT_TAG

if TYPE_CHECKING:
    from protoncli.aws.s3 import ArtifactStore
    from protoncli.deploy.project import Project

KEPT = (".terraform", ".terraform.lock.hcl", "pcli.tfplan")  # kept between runs of a folder


class ProvisionedDeployer:
    """Deploys and deletes the provisioned items of one account and region."""

    def __init__(
        self,
        project: Project,
        region: str,
        account: str | None,
        *,
        known: ProvisionedState | None = None,
    ) -> None:
        """`known`: an item's state read moments ago (`deleter`), used for that item once."""
        self._project = project
        self._region = region
        self._account = account
        self._known = known

    @property
    def store(self) -> ArtifactStore:
        return self._project.artifacts(self._region, self._account)

    def deploy(self, request: StackRequest, hooks: DeployHooks) -> DeployResult:
        provisioned = _provisioned(request)
        hooks.on_event(DeployEvent("start", request.stack_name, request.description))
        state = self._state_for(request, provisioned)
        if provisioned.method == PULL_REQUEST:
            return self._pull_request(request, provisioned, state, hooks.on_event, deleting=False)
        return self._run(request, provisioned, state, hooks, deleting=False)

    def delete(self, stack_name: str, description: str, *, on_event: OnEvent) -> DeployResult:
        """Destroy what the item's deployments made (from the folder the last one ran), then
        forget its state; by pull request, commit the deletion and wait for `pcli notify`."""
        on_event(DeployEvent("start", stack_name, description, status="DELETING"))
        known, self._known = self._known, None
        state = known if known is not None and known.name == stack_name else None
        state = state or read_state(self.store, stack_name)
        provisioned = read_folder(self.store, stack_name)
        if state is None:
            on_event(DeployEvent("deleted", stack_name, description, message="nothing runs"))
            return DeployResult(stack_name, description, "DELETE_COMPLETE", changed=False)
        if provisioned is None:
            raise PcliError(
                f"{description}: the folder its last deployment ran is not in "
                f"s3://{self.store.bucket}/provisioned-folders/; nothing was deleted",
                hint="deploy it once more (which keeps the folder), then delete it",
            )
        method = self._method(provisioned)
        provisioned = replace(provisioned, method=method)
        tags = dict(state.tags or (state.pending.tags if state.pending else {}))
        request = StackRequest(
            stack_name, "", tags, description, provisioned=provisioned, account=self._account
        )
        if method == PULL_REQUEST:
            return self._pull_request(request, provisioned, state, on_event, deleting=True)
        hooks = DeployHooks(on_event=on_event, confirm=lambda _changes: True)
        result = self._run(request, provisioned, state, hooks, deleting=True)
        delete_state(self.store, stack_name)
        delete_folder(self.store, stack_name)
        on_event(DeployEvent("deleted", stack_name, description))
        return result

    def preview(self, request: StackRequest) -> tuple[Change, ...]:
        """What a deploy of `request` would change, without changing anything: Terraform's
        plan, run locally. By pull request or with CodeBuild commands, pcli cannot tell."""
        from protoncli.provision.running import Run, plan_terraform

        provisioned = _provisioned(request)
        if provisioned.engine != TERRAFORM or provisioned.method == PULL_REQUEST:
            how = (
                "its pull request's automation"
                if provisioned.engine == TERRAFORM
                else ("its commands, when they run")
            )
            raise PcliError(f"{request.description}: the changes are known to {how} only")
        folder = self._work_folder(request.stack_name)
        _write_folder(folder, provisioned)
        hooks = DeployHooks(on_event=lambda _event: None, confirm=lambda _changes: False)
        run = Run(
            self._project,
            request,
            provisioned,
            folder,
            self._environment(),
            hooks,
            deleting=False,
            on_start=lambda: None,
            backend=self._backend(request.stack_name),
        )
        return plan_terraform(run)

    def _method(self, provisioned: Provisioned) -> str:
        if provisioned.engine != TERRAFORM:
            return provisioned.method
        from protoncli.provision.settings import provisioning_method

        return provisioning_method(self._project)

    # -----------------------------------------------------------------------------------

    def _state_for(self, request: StackRequest, provisioned: Provisioned) -> ProvisionedState:
        state = read_state(self.store, request.stack_name)
        now = utc_now()
        if state is None:
            return new_state(
                request.stack_name, self._region, provisioned.engine, provisioned.method, now
            )
        pending = state.pending
        if state.status == IN_PROGRESS and pending is not None and pending.branch:
            raise UsageError(
                f"{request.description}: deployment {pending.deployment_id} waits for its pull "
                f"request ({pending.pull_request or pending.branch}); nothing was deployed",
                hint="merge it and let its automation run `pcli notify`, or abandon it: pcli "
                f"notify --deployment-id {pending.deployment_id} --status FAILED",
            )
        return replace(state, method=provisioned.method)

    def _pull_request(
        self,
        request: StackRequest,
        provisioned: Provisioned,
        state: ProvisionedState,
        on_event: OnEvent,
        *,
        deleting: bool,
    ) -> DeployResult:
        from protoncli.paths import cache_dir
        from protoncli.provision.repository import branch_name_for, publish, pull_request_hint
        from protoncli.provision.settings import provisioning_repository

        deployment_id = request.tags.get(DEPLOYMENT_TAG, "")
        if deleting:  # a deployment of its own, named after what it deletes
            deployment_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"pcli-delete:{deployment_id}"))
        if not deleting and state.status == SUCCEEDED and dict(state.tags) == dict(request.tags):
            on_event(DeployEvent("no-changes", request.stack_name, request.description))
            return DeployResult(
                request.stack_name,
                request.description,
                "NO_CHANGES",
                changed=False,
                outputs=state.outputs,
            )
        files = provisioned.for_deployment(deployment_id, deleting=deleting)
        verb = "destroy" if deleting else "deploy"
        environment = request.tags.get("pcli:environment")  # None: a pipeline
        published = publish(
            provisioning_repository(self._project, environment),
            work_root=cache_dir() / "provisioning",
            folder=files.folder,
            files={**files.files, **files.binary_files},
            deleted=deleting,
            # one branch per attempt: the same deployment may be proposed again (after a
            # failure, or going back to an earlier spec), and its old branch merged or gone;
            # to the millisecond, so two attempts within one second get two branches
            branch_name=f"{branch_name_for(request.stack_name, deployment_id)}-"
            f"{utc_now().strftime('%Y%m%d%H%M%S%f')[:-3]}",
            message=f"pcli: {verb} {request.description}\n\ndeployment {deployment_id}",
        )
        where = published.pull_request or pull_request_hint(published)
        message = (
            f"branch {published.branch} pushed to {published.url}: {where}; when it is merged, "
            f"its automation runs terraform and then pcli notify --deployment-id {deployment_id}"
        )
        pending = Pending(
            deployment_id,
            dict(request.tags),
            deleting=deleting,
            branch=published.branch,
            pull_request=published.pull_request or where,
        )
        if not published.changed:  # its base branch holds these files already: no branch
            message = (
                f"{published.url} ({published.base}) holds these files already: nothing to "
                "commit; run its automation again, which then runs pcli notify --deployment-id "
                f"{deployment_id}"
            )
            pending = replace(pending, branch=published.base, pull_request=None)
        remember_deployment(self.store, deployment_id, request.stack_name)
        if not deleting:
            write_folder(self.store, request.stack_name, provisioned)
        write_state(self.store, state.started(pending, utc_now()))
        on_event(
            DeployEvent(
                "done",
                request.stack_name,
                request.description,
                status=PULL_REQUEST_PENDING,
                message=message,
            )
        )
        return DeployResult(
            request.stack_name,
            request.description,
            PULL_REQUEST_PENDING,
            changed=True,
            outputs=state.outputs,
        )

    def _run(
        self,
        request: StackRequest,
        provisioned: Provisioned,
        state: ProvisionedState,
        hooks: DeployHooks,
        *,
        deleting: bool,
    ) -> DeployResult:
        from protoncli.provision.running import Run, run_codebuild, run_terraform

        deployment_id = request.tags.get(DEPLOYMENT_TAG, "")
        files = provisioned.for_deployment(deployment_id, deleting=deleting)
        folder = self._work_folder(request.stack_name)
        _write_folder(folder, files)
        pending = Pending(deployment_id, dict(request.tags), deleting=deleting)
        started = state.started(pending, utc_now())
        written: list[bool] = []

        def on_start() -> None:  # the changes are confirmed: the deployment begins
            if not deleting:
                write_folder(self.store, request.stack_name, provisioned)
            write_state(self.store, started)
            written.append(True)

        runner = run_terraform if provisioned.engine == TERRAFORM else run_codebuild
        run = Run(
            self._project,
            request,
            files,
            folder,
            self._environment(),
            hooks,
            deleting=deleting,
            on_start=on_start,
            backend=self._backend(request.stack_name),
        )
        try:
            outcome = runner(run)
        except PcliError as error:
            if written:
                failed = started.ended(FAILED, utc_now(), outputs=None, message=error.message)
                write_state(self.store, failed)
            raise
        name, description = request.stack_name, request.description
        if outcome is None:  # nothing to change: the tags may still be new
            write_folder(self.store, request.stack_name, provisioned)  # what a delete destroys
            if dict(state.tags) != dict(request.tags) or state.status != SUCCEEDED:
                write_state(
                    self.store, started.ended(SUCCEEDED, utc_now(), outputs=None, message=None)
                )
            hooks.on_event(DeployEvent("no-changes", name, description))
            return DeployResult(
                name, description, "NO_CHANGES", changed=False, outputs=state.outputs
            )
        if deleting:
            return DeployResult(name, description, "DELETE_COMPLETE", changed=True)
        ended = started.ended(SUCCEEDED, utc_now(), outputs=outcome, message=None)
        write_state(self.store, ended)
        status = ended.stack_status()
        hooks.on_event(DeployEvent("done", name, description, status=status))
        return DeployResult(name, description, status, changed=True, outputs=outcome)

    def _work_folder(self, name: str) -> Path:
        from protoncli.paths import state_dir

        account = self._project.account_id(self._region, self._account)
        workspace = self._project.workspace.name
        return state_dir() / "provisioned" / workspace / account / self._region / name

    def _environment(self) -> dict[str, str]:
        from protoncli.aws.session import CLEARED_SETTINGS

        target = self._project.target(self._region, self._account)
        env = {k: v for k, v in os.environ.items() if k not in CLEARED_SETTINGS}
        return env | self._project.sessions.process_environment(target)

    def _backend(self, name: str) -> Mapping[str, str]:
        """Terraform's S3 backend settings: the item's state in the artifact bucket, locked
        with Terraform's own lock file beside it."""
        self.store.ensure()
        settings = {
            "bucket": self.store.bucket,
            "key": f"terraform/{name}/terraform.tfstate",
            "region": self._region,
            "encrypt": "true",
            "use_lockfile": "true",
        }
        custom = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")
        if self._project.settings.endpoint_url or any(os.environ.get(key) for key in custom):
            settings["use_path_style"] = "true"  # an endpoint of its own: no bucket host names
        return settings


def _provisioned(request: StackRequest) -> Provisioned:
    if request.provisioned is None:
        raise PcliError(f"{request.description}: not a provisioned item")  # a bug to report
    return request.provisioned


def _write_folder(folder: Path, files: Provisioned) -> None:
    """The rendered files, replacing what an earlier run left there but Terraform's own
    working files (its providers and lock file)."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in folder.iterdir():
        if entry.name in KEPT:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for name, text in files.files.items():
        _path(folder, name).write_text(text, encoding="utf-8")
    for name, data in files.binary_files.items():
        _path(folder, name).write_bytes(data)


def _path(folder: Path, name: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def resource_event(request: StackRequest, event: StackEvent) -> DeployEvent:
    return DeployEvent("resource", request.stack_name, request.description, event=event)


def deleter(
    project: Project, region: str, account: str | None, name: str
) -> ProvisionedDeployer | Deployer:
    """What deletes the item named `name`: its provisioned state's deployer when it has one
    (given the state just read, so the delete does not read it again), else the stack's."""
    from protoncli.provision.store import state_of

    state = state_of(project, region, account, name)
    if state is not None:
        return ProvisionedDeployer(project, region, account, known=state)
    return project.deployer(region, account)
