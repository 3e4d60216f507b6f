"""Calls to AWS Proton's API in a bundle's files: the API is retired (end of support 2026-10-07),
so a pipeline's `aws proton update-service-instance` fails where it runs. `blueprint lint`
names each call with the pcli command that replaces it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

_CALL = re.compile(r"\baws\s+proton\s+([a-z][a-z0-9-]*)")

# Proton command -> what replaces it (a pcli command line, or why nothing is needed).
REPLACEMENTS: Mapping[str, str] = {
    "update-service-instance": "`pcli svc deploy SERVICE --instance INSTANCE --yes` after the "
    "instance's inputs in the service spec are updated",
    "update-service-pipeline": "`pcli svc deploy SERVICE --yes` (the pipeline deploys after the "
    "instances)",
    "update-service": "`pcli svc deploy SERVICE --yes`",
    "update-environment": "`pcli env deploy ENVIRONMENT --yes`",
    "notify-resource-deployment-status-change": "nothing: pcli follows the stack itself and "
    "reports how it ended",
    "get-service-instance": "`pcli svc show SERVICE --json` or `pcli svc outputs SERVICE`",
    "get-service": "`pcli svc show SERVICE --json`",
    "list-service-instances": "`pcli svc show SERVICE --json`",
    "list-service-instance-outputs": "`pcli svc outputs SERVICE --json`",
    "get-environment": "`pcli env show ENVIRONMENT --json`",
    "list-environment-outputs": "`pcli env outputs ENVIRONMENT --json`",
}
_DEFAULT = "the matching pcli command (`pcli --help` lists them)"


@dataclass(frozen=True)
class ProtonCall:
    path: str  # the bundle file, relative
    line: int
    command: str  # update-service-instance, ...

    @property
    def replacement(self) -> str:
        return REPLACEMENTS.get(self.command, _DEFAULT)

    @property
    def message(self) -> str:
        return (
            f"calls `aws proton {self.command}`: the AWS Proton API is retired (end of support "
            f"2026-10-07) and the call fails where it runs; use {self.replacement}"
        )


def proton_calls(files: Mapping[str, bytes]) -> Iterator[ProtonCall]:
    """Every `aws proton COMMAND` in the bundle's text files, in file and line order."""
    for path in sorted(files):
        try:
            text = files[path].decode("utf-8")
        except UnicodeDecodeError:
            continue  # not text: nothing a shell runs
        for number, line in enumerate(text.splitlines(), start=1):
            for found in _CALL.finditer(line):
                yield ProtonCall(path, number, found.group(1))
