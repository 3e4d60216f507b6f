"""Environment accounts: the AWS accounts a workspace deploys environments into.

pcli.yaml names them::

    accounts:
      prod:
        id: "111111111111"
        role_arn: arn:aws:iam::111111111111:role/pcli-deploy
        external_id: team-infra        # optional, given to AssumeRole
        session_name: pcli-prod        # optional (default "pcli")

and an environment's spec says `account: prod`. Every stack of that environment (the
environment, its service instances, their components) is deployed, read and deleted with the
role's session; pipelines, and environments without `account:`, stay in the account of the
caller's own credentials. Checked when read: a role ARN in another account than `id`, or a spec
naming an account pcli.yaml does not have, is a usage error (exit 2) naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.blueprints.limits import is_valid_name
from protoncli.errors import UsageError
from protoncli.yamlio import line_of

if TYPE_CHECKING:
    from protoncli.workspace.model import Workspace

ACCOUNTS_KEY = "accounts"
ACCOUNT_ID = re.compile(r"^\d{12}$", re.ASCII)
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$", re.ASCII)
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$", re.ASCII)
SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)
FIELDS = ("id", "role_arn", "external_id", "session_name")
ADD_HINT = "add it: pcli account add NAME --id ACCOUNT_ID --role-arn ARN"


@dataclass(frozen=True)
class Account:
    """One named account of pcli.yaml."""

    name: str
    id: str
    role_arn: str
    external_id: str | None = None
    session_name: str | None = None

    def document(self) -> dict[str, str]:
        """The account as pcli.yaml holds it."""
        found = {"id": self.id, "role_arn": self.role_arn}
        if self.external_id:
            found["external_id"] = self.external_id
        if self.session_name:
            found["session_name"] = self.session_name
        return found


def account_problem(account: Account) -> str | None:
    """What is wrong with an account's fields, in words; None when nothing is."""
    if not is_valid_name(account.name):
        return f"account name {account.name!r} is not a name (letters, digits, '-' and '_')"
    role = ROLE_ARN.fullmatch(account.role_arn)
    checks = (
        (
            ACCOUNT_ID.fullmatch(account.id) is None,
            f"id {account.id!r} is not a 12-digit AWS account id",
        ),
        (
            role is None,
            f"role_arn {account.role_arn!r} is not an IAM role ARN (arn:aws:iam::ID:role/NAME)",
        ),
        (
            role is not None and role.group(1) != account.id,
            (
                f"role_arn {account.role_arn} is a role of account "
                f"{role.group(1) if role else ''}, not of the account's id {account.id}"
            ),
        ),
        (
            account.external_id is not None and EXTERNAL_ID.fullmatch(account.external_id) is None,
            "external_id must be 2 to 1224 characters of letters, digits and +=,.@:/-",
        ),
        (
            account.session_name is not None
            and SESSION_NAME.fullmatch(account.session_name) is None,
            "session_name must be 2 to 64 characters of letters, digits and +=,.@-",
        ),
    )
    return next((f"account {account.name}: {text}" for bad, text in checks if bad), None)


def read_accounts(settings: Mapping[str, Any], source: Path) -> dict[str, Account]:
    """pcli.yaml's `accounts:` (empty when absent); a usage error naming the line of the first
    thing wrong with it."""
    listed = settings.get(ACCOUNTS_KEY)
    if listed is None:
        return {}
    if not isinstance(listed, Mapping):
        raise _bad(settings, ACCOUNTS_KEY, source, "accounts: must be a mapping of names")
    accounts: dict[str, Account] = {}
    for name, fields in listed.items():
        if not isinstance(fields, Mapping):
            raise _bad(listed, name, source, f"account {name}: expected id and role_arn")
        unknown = [key for key in fields if key not in FIELDS]
        if unknown:
            raise _bad(
                fields,
                unknown[0],
                source,
                f"account {name}: unknown key {unknown[0]!r} (an account has: {', '.join(FIELDS)})",
            )
        missing = [key for key in ("id", "role_arn") if not fields.get(key)]
        if missing:
            raise _bad(listed, name, source, f"account {name}: missing {' and '.join(missing)}")
        account = Account(
            name=str(name),
            id=_account_id(fields["id"]),
            role_arn=str(fields["role_arn"]),
            external_id=_optional(fields.get("external_id")),
            session_name=_optional(fields.get("session_name")),
        )
        problem = account_problem(account)
        if problem is not None:
            raise _bad(listed, name, source, problem)
        accounts[account.name] = account
    return accounts


def require_account(accounts: Mapping[str, Account], name: Any, where: str) -> Account:
    """The account a spec names; a usage error when pcli.yaml has none of that name."""
    found = accounts.get(str(name)) if isinstance(name, str) else None
    if found is None:
        known = ", ".join(sorted(accounts)) or "none"
        raise UsageError(
            f"{where}: account {name!r} is not one of pcli.yaml's accounts (known: {known})",
            hint=ADD_HINT.replace("NAME", str(name)),
        )
    return found


def _account_id(value: Any) -> str:
    # An id without quotes is a YAML number: 12 digits, the leading zeros YAML dropped restored.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value).zfill(12)
    return str(value)


def _optional(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _bad(container: Any, key: Any, source: Path, message: str) -> UsageError:
    line = line_of(container, str(key))
    where = f"{source}:{line}" if line else str(source)
    return UsageError(f"{where}: {message}", hint="see docs/how-to/accounts.md")


def add_account(workspace: Workspace, account: Account, *, replace: bool = False) -> bool:
    """Write the account into pcli.yaml's `accounts:` (comments and layout kept, written
    atomically under the workspace lock); whether it replaced one of the same name. An account
    of that name is refused unless `replace`."""
    from protoncli.locks import workspace_lock
    from protoncli.workspace.model import load_workspace
    from protoncli.workspace.roundtrip import double_quoted, edit_yaml_text
    from protoncli.yamlio import atomic_write

    problem = account_problem(account)
    if problem is not None:
        raise UsageError(problem, hint=ADD_HINT.replace("NAME", account.name))
    with workspace_lock(workspace, f"pcli account add {account.name}"):
        current = read_accounts(load_workspace(workspace.root).settings, workspace.file)
        existed = account.name in current
        if existed and not replace:
            raise UsageError(
                f"account {account.name!r} is already in {workspace.file}",
                hint="give --replace to change it",
            )

        def change(document: Any) -> None:
            from ruamel.yaml.comments import CommentedMap

            accounts = document.get(ACCOUNTS_KEY)
            if not isinstance(accounts, Mapping):
                accounts = document[ACCOUNTS_KEY] = CommentedMap()
            fields = CommentedMap()
            for key, value in account.document().items():
                fields[key] = double_quoted(value) if key == "id" else value
            accounts[account.name] = fields

        text = workspace.file.read_text(encoding="utf-8")
        atomic_write(workspace.file, edit_yaml_text(text, change))
    return existed
