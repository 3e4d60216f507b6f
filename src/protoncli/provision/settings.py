"""How the workspace provisions Terraform items: `provisioning:` and `provisioning_repository:`
in pcli.yaml, and `--provisioning` on a command (which wins)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from protoncli.errors import UsageError
from protoncli.provision.request import Provisioned, check_method, provisioned_of
from protoncli.provision.state import LOCAL
from protoncli.render.model import RenderedResource
from protoncli.yamlio import line_of

if TYPE_CHECKING:
    from protoncli.deploy.project import Project
    from protoncli.provision.repository import ProvisioningRepository

METHOD_KEY = "provisioning"
REPOSITORY_KEY = "provisioning_repository"
REPOSITORY_HINT = (
    "add to pcli.yaml:\n  provisioning_repository:\n    url: URL-OR-PATH\n    branch: main"
)


def provisioning_method(project: Project) -> str:
    """local (pcli runs Terraform) or pull-request (pcli commits to the provisioning
    repository): the command's --provisioning, else pcli.yaml's, else local."""
    if project.provisioning is not None:
        return check_method(project.provisioning, "--provisioning")
    settings = project.workspace.settings
    value = settings.get(METHOD_KEY)
    if value is None:
        return LOCAL
    where = f"{project.workspace.file}:{line_of(settings, METHOD_KEY)}"
    return check_method(str(value), where)


def provisioning_repository(project: Project) -> ProvisioningRepository:
    """pcli.yaml's provisioning repository; an error saying how to name one when none is."""
    from protoncli.provision.repository import ProvisioningRepository

    settings = project.workspace.settings
    value = settings.get(REPOSITORY_KEY)
    source = project.workspace.file
    if value is None:
        raise UsageError(
            f"{source}: no provisioning_repository: Terraform by pull request needs one",
            hint=REPOSITORY_HINT,
        )
    where = f"{source}:{line_of(settings, REPOSITORY_KEY)}"
    if isinstance(value, str):
        value = {"url": value}
    if not isinstance(value, dict) or not isinstance(value.get("url"), str) or not value["url"]:
        raise UsageError(f"{where}: provisioning_repository needs a url", hint=REPOSITORY_HINT)
    branch = value.get("branch", "main")
    if not isinstance(branch, str) or not branch:
        raise UsageError(f"{where}: provisioning_repository's branch must be text")
    url = value["url"]
    if "://" not in url and ":" not in url.split("/")[0] and not url.startswith("/"):
        url = str((project.workspace.root / url).resolve())  # relative to the workspace
    return ProvisioningRepository(url=url, branch=branch)


def provisioned_for(project: Project, resource: RenderedResource) -> Provisioned | None:
    """How a rendered resource is provisioned, None for CloudFormation (a stack)."""
    if resource.provisioning == "cloudformation":
        return None
    return provisioned_of(resource, provisioning_method(project))
