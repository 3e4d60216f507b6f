"""pcli's identifiers of rendered resources and blueprints.

They have exactly the shape of Proton's ARNs, with `pcli` as the service part, so automation
written for Proton's pull requests keeps working: a GitHub Actions workflow that tests
`*":environment/"*`, `*"/service-instance/"*` or `*"/pipeline"*`, takes `${arn##*/}` as the
environment name and splits `${arn##*:}` on `/` for the service and instance names reads them
unchanged.

    arn:aws:pcli:<region>:<account>:environment/<env>
    arn:aws:pcli:<region>:<account>:service/<svc>/service-instance/<inst>
    arn:aws:pcli:<region>:<account>:service/<svc>/pipeline
    arn:aws:pcli:<region>:<account>:component/<name>
    arn:aws:pcli:<region>:<account>:environment-template/<name>
    arn:aws:pcli:<region>:<account>:service-template/<name>
"""

from __future__ import annotations

from dataclasses import dataclass

from protoncli.blueprints.limits import MAX_NAME_LENGTH, is_valid_name
from protoncli.errors import UsageError

# Proton's ResourceName pattern: every environment, service, instance and component name.


def check_resource_name(name: str, what: str) -> str:
    """Return `name` if it is a valid Proton resource name; raise `UsageError` otherwise.

    Names end up in identifiers and output folders, so a name with `/`, `:` or `..` never gets
    that far.
    """
    if not is_valid_name(name):
        raise UsageError(
            f"invalid {what} name {name!r}",
            hint=(
                "names start with a letter or digit and hold only letters, digits, '-' and '_' "
                f"(at most {MAX_NAME_LENGTH} characters)"
            ),
        )
    return name


@dataclass(frozen=True)
class Identifiers:
    """Builds identifiers for one region and management account."""

    region: str
    account_id: str

    def _arn(self, resource: str) -> str:
        return f"arn:aws:pcli:{self.region}:{self.account_id}:{resource}"

    def environment(self, name: str) -> str:
        return self._arn(f"environment/{name}")

    def service(self, name: str) -> str:
        return self._arn(f"service/{name}")

    def service_instance(self, service: str, instance: str) -> str:
        return self._arn(f"service/{service}/service-instance/{instance}")

    def pipeline(self, service: str) -> str:
        return self._arn(f"service/{service}/pipeline")

    def component(self, name: str) -> str:
        return self._arn(f"component/{name}")

    def template(self, kind: str, name: str) -> str:
        """`kind` is "environment" or "service" (components have no template)."""
        return self._arn(f"{kind}-template/{name}")
