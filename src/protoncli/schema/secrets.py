"""What a secret input's value may look like, and how to keep it out of every message.

An input marked `format: password` is secret. Its value is either a CloudFormation dynamic
reference (`{{resolve:secretsmanager:...}}`, `{{resolve:ssm-secure:...}}`), which CloudFormation
resolves while it deploys, or a plain value that pcli stores in AWS Secrets Manager before it
writes a spec (deploy/secrets.py). A spec carried over from Proton may still hold a plain value;
`SecretMask` hides such values from every message, hint, detail and warning built from rendered
text or from inputs.

These are pure rules: nothing here touches AWS, so the validator and the resolver read them
without importing the deploy layer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from protoncli.errors import PcliError
from protoncli.specs.model import CURRENT_VAL

if TYPE_CHECKING:
    from protoncli.schema.model import InputType

REFERENCE_START = "{{resolve:"
SECRETS_DOC = "docs/reference/secrets.md"
MASK = "****"

SECRET_NAME_CHARS = r"[A-Za-z0-9/_+=.@-]+"  # noqa: S105 - the characters of a secret name, no secret
_SECRET_ARN = rf"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{{12}}:secret:{SECRET_NAME_CHARS}"
_SEGMENT = r"[^:{}\s]*"  # json-key, version-stage, version-id: anything but ':' and braces

# {{resolve:secretsmanager:secret-id[:SecretString[:json-key[:version-stage[:version-id]]]]}}
# where secret-id is a name or an ARN (CloudFormation's own syntax, nothing pcli adds).
SECRET_REFERENCE = re.compile(
    rf"\{{\{{resolve:secretsmanager:(?P<secret_id>{_SECRET_ARN}|{SECRET_NAME_CHARS})"
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


def holds_plain_secret(value: Any) -> bool:
    """True for a value of a secret input that would be written as it is: text or a number
    (not a reference, not `${Proton::CURRENT_VAL}`, not empty)."""
    if value is None or value in ("", CURRENT_VAL):
        return False
    return not looks_like_reference(value)


_MIN_FRAGMENT = 4  # a piece of a value is hidden on its own from this length up
# What encoders escape (JSON, Jinja's tojson, repr, YAML quoting): the pieces between them stay
# as written in every encoding, so hiding them hides the value however it was quoted.
_ESCAPED = re.compile(r"[\"'\\\s<>&]+")


@dataclass(frozen=True)
class SecretMask:
    """The plain values of secret inputs, and how to hide them in text as `****`.

    A value is hidden wherever it appears: as written, stripped of surrounding blanks, and
    escaped as Python's `repr` and JSON write it (an error excerpt shows a line of rendered text
    through `repr`). The pieces of a value between quotes, backslashes, blanks and `<>&` (what
    encoders escape) are hidden on their own too, from four characters up, so an excerpt of one
    line of a multi-line value, or of a value quoted by a filter such as `tojson`, shows
    nothing of it. A value changed by a filter (`upper`, `b64encode`) is not recognised.
    Booleans are never hidden (they would hide every `True` of a message and tell nothing).
    """

    # Every form to hide, longest first; never shown by repr (a mask may reach a log).
    texts: tuple[str, ...] = field(default=(), repr=False)
    _pattern: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.texts and self._pattern is None:
            pattern = re.compile("|".join(re.escape(text) for text in self.texts))
            object.__setattr__(self, "_pattern", pattern)

    @classmethod
    def of(cls, values: Iterable[Any]) -> SecretMask:
        forms: set[str] = set()
        for value in values:
            if isinstance(value, bool) or not holds_plain_secret(value):
                continue
            if not isinstance(value, str | int | float):
                continue
            text = str(value)
            forms.update(_forms(text))
            for piece in _ESCAPED.split(text):
                if len(piece.strip()) >= _MIN_FRAGMENT:
                    forms.update(_forms(piece))
        ordered = sorted((form for form in forms if form.strip()), key=lambda f: (-len(f), f))
        return cls(tuple(ordered))

    @classmethod
    def for_inputs(cls, input_type: InputType | None, inputs: Mapping[str, Any]) -> SecretMask:
        """The mask of the plain values `inputs` gives the secret inputs of `input_type`."""
        if input_type is None:
            return cls()
        return cls.of(inputs.get(item.name) for item in input_type.inputs if item.secret)

    def __bool__(self) -> bool:
        return bool(self.texts)

    def __or__(self, other: SecretMask) -> SecretMask:
        ordered = sorted(set(self.texts) | set(other.texts), key=lambda f: (-len(f), f))
        return SecretMask(tuple(ordered))

    def text(self, text: str) -> str:
        """`text` with every form of every value replaced by `****`."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def hide_in(self, error: PcliError) -> PcliError:
        """`error` with its message, hint and details masked (the same object, changed)."""
        if self.texts:
            error.message = self.text(error.message)
            error.args = (error.message, *error.args[1:])
            error.hint = self.text(error.hint) if error.hint is not None else None
            error.details = [self.text(detail) for detail in error.details]
        return error

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Mask every `PcliError` raised inside, and drop what caused it.

        The cause goes because it may quote the values itself (a YAML error carries an excerpt
        of the text it parsed, and `--debug` prints causes): the masked error says it all.
        """
        if not self.texts:
            yield
            return
        try:
            yield
        except PcliError as error:
            raise self.hide_in(error) from None


def _forms(text: str) -> set[str]:
    forms = {text, text.strip(), repr(text)[1:-1], json.dumps(text)[1:-1]}
    return {form for form in forms if form}
