"""Where the values of secret inputs go: AWS Secrets Manager, referenced from the spec.

An input marked `format: password` never keeps a plain value in a spec file that pcli writes.
The value is stored as the secret `pcli/<workspace>/<owner>/<input>` in the account and region
the resource is deployed to, and the spec holds CloudFormation's dynamic reference to it::

    {{resolve:secretsmanager:pcli/acme/env/dev/db_password:SecretString}}

CloudFormation resolves the reference while it deploys; the template, git and pcli's output only
ever see the reference. A value that already is a dynamic reference (`secretsmanager` or
`ssm-secure`) belongs to a team that manages its own secret and is kept as written.

Owners name what an input belongs to: `env/<environment>`, `svc/<service>/<instance>` or
`svc/<service>/pipeline`.

What a reference looks like, and which values count as plain, are rules of the schema
(schema/secrets.py); this module only acts on them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from protoncli.errors import InputError
from protoncli.schema.secrets import (
    REFERENCE_FORMS,
    SECRET_NAME_CHARS,
    holds_plain_secret,
    reference_problem,
)

if TYPE_CHECKING:
    from protoncli.deploy.project import Project
    from protoncli.schema.model import InputDef, InputType

NAME_PREFIX = "pcli"
MAX_SECRET_NAME = 512  # Secrets Manager's limit on a secret's name

_OWNER_KINDS = {"env": "environment", "svc": "service-instance"}


def secret_name(workspace: str, owner: str, input_name: str) -> str:
    """`pcli/<workspace>/<owner>/<input>`: the secret that holds one input's value."""
    name = f"{NAME_PREFIX}/{workspace}/{owner}/{input_name}"
    if not re.fullmatch(SECRET_NAME_CHARS, name) or len(name) > MAX_SECRET_NAME:
        raise InputError(
            f"secret input '{input_name}' of {owner}: '{name}' cannot be a Secrets Manager "
            f"secret name (letters, digits and /_+=.@- only, at most {MAX_SECRET_NAME} "
            "characters)",
            hint=f"store the value yourself and give a dynamic reference: {REFERENCE_FORMS}",
        )
    return name


def secret_reference(name: str) -> str:
    """The dynamic reference CloudFormation resolves to the current value of secret `name`."""
    return f"{{{{resolve:secretsmanager:{name}:SecretString}}}}"


def secret_tags(workspace: str, owner: str, input_name: str) -> dict[str, str]:
    """pcli's tags for the secret of one input: workspace, kind, names, input."""
    kind, names = _owner_parts(owner)
    tags = {"pcli:workspace": workspace, "pcli:kind": kind}
    if kind == "environment":
        tags["pcli:environment"] = names[0]
    else:
        tags["pcli:service"] = names[0]
        if kind == "service-instance":
            tags["pcli:instance"] = names[1]
    tags["pcli:input"] = input_name
    return tags


def _owner_parts(owner: str) -> tuple[str, list[str]]:
    """The tag kind and names of `env/NAME`, `svc/SERVICE/INSTANCE` or `svc/SERVICE/pipeline`."""
    word, _, rest = owner.partition("/")
    names = rest.split("/") if rest else []
    expected = 1 if word == "env" else 2
    if word not in _OWNER_KINDS or len(names) != expected or not all(names):
        raise ValueError(
            f"owner {owner!r} is not env/NAME, svc/SERVICE/INSTANCE or svc/SERVICE/pipeline"
        )
    if word == "svc" and names[1] == "pipeline":
        return "pipeline", names[:1]
    return _OWNER_KINDS[word], names


def protect_secret_inputs(
    project: Project,
    owner: str,
    input_type: InputType,
    inputs: Mapping[str, Any],
    region: str,
    *,
    account: str | None = None,
) -> dict[str, Any]:
    """`inputs` with every plain value of a secret input replaced by a dynamic reference.

    Each plain value is stored first (created, or given as a new value when the secret
    exists) in `region` of `account` (pcli.yaml's name; None: the caller's own account, as for
    pipelines), where the stacks that resolve it run, as `secret_name(workspace, owner, input)`,
    tagged with pcli's tags. References and other inputs are returned unchanged; with no
    plain secret value, no AWS call is made. Messages never hold a value.
    """
    protected = dict(inputs)
    secret = [item for item in input_type.inputs if item.secret and item.name in inputs]
    for item in secret:
        problem = reference_problem(inputs[item.name])
        if problem is not None:
            raise InputError(f"{owner}: input '{item.name}': {problem}")
    plain = [item for item in secret if holds_plain_secret(inputs[item.name])]
    if not plain:
        return protected
    workspace = project.workspace.name
    store = project.secrets(region, account)
    for item in plain:
        name = secret_name(workspace, owner, item.name)
        text = _secret_text(item, owner, inputs[item.name])
        store.put(name, text, secret_tags(workspace, owner, item.name))
        protected[item.name] = secret_reference(name)
    return protected


def _secret_text(item: InputDef, owner: str, value: Any) -> str:
    """The text stored for a value: strings as they are, numbers and booleans as YAML writes
    them (CloudFormation resolves a reference to text either way)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise InputError(
        f"secret input '{item.name}' of {owner}: only text or a number can be stored in "
        "AWS Secrets Manager",
        hint=f"give a single value, or a dynamic reference: {REFERENCE_FORMS}",
    )
