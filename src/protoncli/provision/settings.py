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


def provisioning_repository(
    project: Project, environment: str | None = None
) -> ProvisioningRepository:
    """Where the pull requests of `environment`'s items go: its spec file's
    `provisioning_repository:` (`URL` or `URL#BRANCH`), else pcli.yaml's; an error saying how
    to name one when neither does."""
    from protoncli.provision.repository import ProvisioningRepository

    if environment is not None:
        from protoncli.state.declared import read_environment

        named = read_environment(project, environment).spec.header.get(REPOSITORY_KEY)
        if named:
            url, _, branch = str(named).partition("#")
            return ProvisioningRepository(url=_absolute(project, url), branch=branch or "main")
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
    return ProvisioningRepository(url=_absolute(project, value["url"]), branch=branch)


def _absolute(project: Project, url: str) -> str:
    """A URL as given; a relative path taken from the workspace's folder."""
    if "://" in url or ":" in url.split("/", maxsplit=1)[0] or url.startswith("/"):
        return url
    return str((project.workspace.root / url).resolve())


def provisioned_for(project: Project, resource: RenderedResource) -> Provisioned | None:
    """How a rendered resource is provisioned, None for CloudFormation (a stack)."""
    if resource.provisioning == "cloudformation":
        return None
    return provisioned_of(resource, provisioning_method(project))
