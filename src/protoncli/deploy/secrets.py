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

This module stays light (no botocore import): the validator uses its reference patterns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from protoncli.errors import InputError
from protoncli.specs.model import CURRENT_VAL

if TYPE_CHECKING:
    from protoncli.deploy.project import Project
    from protoncli.schema.model import InputDef, InputType

NAME_PREFIX = "pcli"
MAX_SECRET_NAME = 512  # Secrets Manager's limit on a secret's name
REFERENCE_START = "{{resolve:"
SECRETS_DOC = "docs/reference/secrets.md"

_NAME_CHARS = r"[A-Za-z0-9/_+=.@-]+"  # what Secrets Manager allows in a name
_SECRET_ARN = rf"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{{12}}:secret:{_NAME_CHARS}"
_SEGMENT = r"[^:{}\s]*"  # json-key, version-stage, version-id: anything but ':' and braces

# {{resolve:secretsmanager:secret-id[:SecretString[:json-key[:version-stage[:version-id]]]]}}
# where secret-id is a name or an ARN (CloudFormation's own syntax, nothing pcli adds).
SECRET_REFERENCE = re.compile(
    rf"\{{\{{resolve:secretsmanager:(?P<secret_id>{_SECRET_ARN}|{_NAME_CHARS})"
    rf"(?::SecretString(?::(?P<json_key>{_SEGMENT})"
    rf"(?::(?P<version_stage>{_SEGMENT})(?::(?P<version_id>{_SEGMENT}))?)?)?)?\}}\}}"
)
# {{resolve:ssm-secure:parameter-name[:version]}}
SSM_SECURE_REFERENCE = re.compile(
    r"\{\{resolve:ssm-secure:(?P<parameter>[A-Za-z0-9_.\-/]+)(?::(?P<version>\d+))?\}\}"
)
REFERENCE_FORMS = (
    "{{resolve:secretsmanager:SECRET-ID:SecretString}} or {{resolve:ssm-secure:PARAMETER}}"
)

_OWNER_KINDS = {"env": "environment", "svc": "service-instance"}


def looks_like_reference(value: Any) -> bool:
    """True for text written as a dynamic reference (`{{resolve:...`), well formed or not."""
    return isinstance(value, str) and value.strip().startswith(REFERENCE_START)


def is_dynamic_reference(value: Any) -> bool:
    """True for a whole, well-formed `secretsmanager` or `ssm-secure` dynamic reference."""
    if not isinstance(value, str):
        return False
    found = SECRET_REFERENCE.fullmatch(value)
    if found is not None:
        # CloudFormation takes a version stage or a version id, never both.
        return not (found.group("version_stage") and found.group("version_id"))
    return SSM_SECURE_REFERENCE.fullmatch(value) is not None


def reference_problem(value: Any) -> str | None:
    """What is wrong with a value written as a dynamic reference (never the value itself)."""
    if not looks_like_reference(value) or is_dynamic_reference(value):
        return None
    return f"the value is not a valid dynamic reference; write {REFERENCE_FORMS}"


def secret_name(workspace: str, owner: str, input_name: str) -> str:
    """`pcli/<workspace>/<owner>/<input>`: the secret that holds one input's value."""
    name = f"{NAME_PREFIX}/{workspace}/{owner}/{input_name}"
    if not re.fullmatch(_NAME_CHARS, name) or len(name) > MAX_SECRET_NAME:
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


def holds_plain_secret(value: Any) -> bool:
    """True for a value of a secret input that would be written as it is: text or a number
    (not a reference, not `${Proton::CURRENT_VAL}`, not empty)."""
    if value is None or value in ("", CURRENT_VAL):
        return False
    return not looks_like_reference(value)


def protect_secret_inputs(
    project: Project,
    owner: str,
    input_type: InputType,
    inputs: Mapping[str, Any],
    region: str,
) -> dict[str, Any]:
    """`inputs` with every plain value of a secret input replaced by a dynamic reference.

    Each plain value is stored first (created, or given as a new value when the secret
    exists) in `region` of the project's account, as `secret_name(workspace, owner, input)`,
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
    store = project.secrets(region)
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
