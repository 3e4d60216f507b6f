"""Values `pcli blueprint lint` makes up where a bundle renders without a spec or deployed stacks.

A placeholder has to survive what the template does with it, or cfn-lint reports the placeholder
instead of the template. Rules (docs/reference/lint.md, "Placeholders"):

- An input takes, in order, the first of these its schema accepts: its `example`, its `enum`
  values, a value shaped by what it is (below), `placeholder-<name>`, strings made to match its
  `pattern`. Numbers take a value typical for their name (a port 8080, a count 1, memory 512)
  kept within `minimum`/`maximum`; booleans `false`; arrays `minItems` items (at least one) made
  by the same rules from `items`. Defaults are never replaced: they are the bundle's own values.
- A value is shaped by the CloudFormation key it lands in when it is the whole value there
  (`VpcId` -> `vpc-...`, `Subnets` -> `subnet-...`, `TopicArn` -> an SNS topic ARN), else by its
  own name (`VpcId`, `PrivateSubnet1`, `ClusterArn`, `image`, `schedule_expression`, ...).
- A value the template splits (CloudFormation `!Split`, or `.split(...)` in Jinja) is a list of
  three such values joined by the delimiter, so `!Select [2, ...]` finds an item too; so is an
  output whose name says it holds several (`SubnetIds`, `PrivateSubnets`, `...Arns`).

Identifiers carry hex digits derived from the name, so two placeholders never share a value and a
value found in a rendered template or a cfn-lint message says which placeholder it came from.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from protoncli.blueprints.pattern_examples import pattern_examples
from protoncli.schema.validate import value_problems

ACCOUNT_ID = "000000000000"
REGION = "us-east-1"
LIST_LENGTH = 3  # items of a made-up list: enough for `!Select [2, ...]`
CIDR_CHOICES = 64  # subnet ranges tried, 10.0.1.0/24 up, so that no two inputs overlap

# ---------------------------------------------------------------------------------------------
# What a name or a CloudFormation key says a value is.

# (rule, kind): "=word" matches the whole folded name, "word$" its end, "word" anywhere in it.
# The first rule that matches decides; order matters ("VpcCidr" is a CIDR, "VPCSecurityGroup" a
# security group, "VpcConnectorArn" an ARN).
_KIND_RULES: tuple[tuple[str, str], ...] = (
    ("arn$", "arn"),
    ("arns$", "arn"),
    ("=role", "arn"),
    ("cidr", "cidr"),
    ("securitygroup", "security-group"),
    ("=groupid", "security-group"),
    ("subnet", "subnet"),
    ("vpcid$", "vpc"),
    ("vpc$", "vpc"),
    ("amiid$", "ami"),
    ("=imageid", "ami"),
    ("namespaceid$", "namespace"),
    ("zoneid$", "zone"),
    ("hostedzone", "zone"),
    ("zone$", "zone-name"),
    ("zones$", "zone-name"),
    ("=az", "zone-name"),
    ("image", "image"),
    ("runtime", "runtime"),
    ("handler$", "handler"),
    ("schedule", "schedule"),
    ("cron", "schedule"),
    ("region$", "region"),
    ("accountid", "account"),
    ("email", "email"),
    ("codeuri", "s3-uri"),
    ("s3uri", "s3-uri"),
    ("url$", "url"),
    ("uri$", "url"),
    ("endpoint", "url"),
    ("domain", "domain"),
    ("hostname", "domain"),
    ("dnsname", "domain"),
    ("instancetype", "instance-type"),
    ("port$", "port"),
    ("memory", "memory"),
    ("cpu$", "cpu"),
    ("timeout", "timeout"),
    ("count$", "count"),
    ("capacity$", "count"),
    ("replicas$", "count"),
    ("bucket", "bucket"),
)

# ARNs by the service their name (or key) mentions; the first match decides.
_ARN_FORMATS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("policy",), "arn:aws:iam::{account}:policy/{name}"),
    (("role",), "arn:aws:iam::{account}:role/{name}"),
    (("topic", "sns"), "arn:aws:sns:{region}:{account}:{name}"),
    (("queue", "sqs"), "arn:aws:sqs:{region}:{account}:{name}"),
    (("cluster",), "arn:aws:ecs:{region}:{account}:cluster/{name}"),
    (("bucket", "s3"), "arn:aws:s3:::{name}"),
    (("table", "dynamo"), "arn:aws:dynamodb:{region}:{account}:table/{name}"),
    (("stream", "kinesis"), "arn:aws:kinesis:{region}:{account}:stream/{name}"),
    (("function", "lambda"), "arn:aws:lambda:{region}:{account}:function:{name}"),
    (("secret",), "arn:aws:secretsmanager:{region}:{account}:secret:{name}-AbCdEf"),
    (("certificate", "cert", "acm"), "arn:aws:acm:{region}:{account}:certificate/{uuid}"),
    (("kms", "key"), "arn:aws:kms:{region}:{account}:key/{uuid}"),
    (("targetgroup",), "arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{short}/{hex}"),
    (
        ("listener",),
        "arn:aws:elasticloadbalancing:{region}:{account}:listener/app/{short}/{hex}/{hex}",
    ),
    (
        ("loadbalancer", "alb", "nlb", "elb"),
        "arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/{short}/{hex}",
    ),
    (("connector",), "arn:aws:apprunner:{region}:{account}:vpcconnector/{short}/1/{hex}{hex}"),
    (("connection",), "arn:aws:codestar-connections:{region}:{account}:connection/{uuid}"),
    (("loggroup", "log"), "arn:aws:logs:{region}:{account}:log-group:{name}"),
    (("statemachine",), "arn:aws:states:{region}:{account}:stateMachine:{name}"),
    (("eventbus",), "arn:aws:events:{region}:{account}:event-bus/{name}"),
    (("repository", "ecr"), "arn:aws:ecr:{region}:{account}:repository/{name}"),
    (("namespace",), "arn:aws:servicediscovery:{region}:{account}:namespace/ns-{hex}"),
)
_DEFAULT_ARN = "arn:aws:iam::{account}:policy/{name}"

_NUMBERS = {"port": 8080, "memory": 512, "cpu": 256, "timeout": 30, "count": 1}


def fold(text: str) -> str:
    """`text` in lower case with everything but letters and digits dropped."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40].strip("-") or "value"


def _hex(seed: str, count: int = 17) -> str:
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:count]


def kind_of(word: str | None) -> str | None:
    """What `word` (an input or output name, or a CloudFormation key) says its value is."""
    folded = fold(word or "")
    if not folded:
        return None
    for rule, kind in _KIND_RULES:
        if rule.startswith("="):
            hit = folded == rule[1:]
        elif rule.endswith("$"):
            hit = folded.endswith(rule[:-1])
        else:
            hit = rule in folded
        if hit:
            return kind
    return None


def names_a_list(name: str) -> bool:
    """Whether an output's name says it holds several values (`SubnetIds`, `PrivateSubnets`)."""
    folded = fold(name)
    if folded.endswith(("ids", "arns", "list")):
        return True
    return folded.endswith("s") and kind_of(name) in ("subnet", "security-group")


def _arn(words: str, name: str, seed: str) -> str:
    digits = _hex(seed, 32)
    fields = {
        "account": ACCOUNT_ID,
        "region": REGION,
        "name": f"placeholder-{_slug(name)}-{digits[:8]}",
        "short": f"placeholder-{digits[:8]}",
        "hex": digits[:16],
        "uuid": f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:32]}",
    }
    for fragments, form in _ARN_FORMATS:
        if any(fragment in words for fragment in fragments):
            return form.format(**fields)
    return _DEFAULT_ARN.format(**fields)


def _simple(kind: str, name: str, seed: str) -> str:  # noqa: PLR0911 - one return per kind of value
    digits = _hex(seed)
    if kind in ("security-group", "subnet", "vpc", "ami"):
        prefix = {"security-group": "sg", "subnet": "subnet", "vpc": "vpc", "ami": "ami"}[kind]
        return f"{prefix}-{digits}"
    if kind == "namespace":
        return f"ns-{digits[:16]}"
    if kind == "zone":
        return f"Z{digits[:13].upper()}"
    if kind in _NUMBERS:
        return str(_NUMBERS[kind])
    if kind == "cidr":
        return "10.0.1.0/24" if "subnet" in fold(name) else "10.0.0.0/16"
    fixed = {
        "image": "public.ecr.aws/docker/library/nginx:latest",
        "runtime": "python3.12",
        "handler": "index.handler",
        "schedule": "rate(5 minutes)",
        "region": REGION,
        "account": ACCOUNT_ID,
        "instance-type": "t3.micro",
        "zone-name": f"{REGION}a",
    }
    if kind in fixed:
        return fixed[kind]
    slug = _slug(name)
    forms = {
        "email": "placeholder@example.com",
        "s3-uri": f"s3://placeholder-{digits[:8]}/{slug}.zip",
        "url": f"https://placeholder-{digits[:8]}.example.com/{slug}",
        "domain": f"placeholder-{digits[:8]}.example.com",
        "bucket": f"placeholder-{slug[:30]}-{digits[:8]}".replace("--", "-"),
    }
    return forms.get(kind, f"placeholder-{slug}")


def shaped(name: str, *, landing: str | None = None, seed: str | None = None) -> str:
    """A value for `name`, shaped by the key it lands in (when known) or by the name itself."""
    seed = seed or name
    kind = kind_of(landing) or kind_of(name) or "name"
    if kind == "arn":
        return _arn(f"{fold(landing or '')} {fold(name)}", name, seed)
    return _simple(kind, name, seed)


def shaped_list(name: str, delimiter: str, *, landing: str | None = None, seed: str) -> str:
    """`LIST_LENGTH` shaped values joined by `delimiter` (a value the template splits)."""
    singular = re.sub(r"(?i)(ids|s)$", "", name) or name
    items = [
        shaped(singular, landing=landing, seed=f"{seed}#{index}") for index in range(LIST_LENGTH)
    ]
    return delimiter.join(items)


# ---------------------------------------------------------------------------------------------
# Input values.


def input_value(
    prop: Mapping[str, Any],
    name: str,
    *,
    seed: str,
    landing: str | None = None,
    avoid: Sequence[Any] = (),
) -> Any:
    """The first candidate the property's schema accepts (else the first candidate)."""
    first: Any = None
    for index, candidate in enumerate(_candidates(prop, name, seed, landing)):
        if index == 0:
            first = candidate
        if candidate in avoid:
            continue
        if not value_problems(prop, candidate, secret=False, remember=False):
            return candidate
    return first


def _candidates(
    prop: Mapping[str, Any], name: str, seed: str, landing: str | None
) -> Iterator[Any]:
    if "example" in prop:
        yield prop["example"]
    enum = prop.get("enum")
    if isinstance(enum, list) and enum:
        yield from enum
    kind = prop.get("type", "string")
    if kind in ("number", "integer"):
        yield from _numbers(prop, name, integer=kind == "integer")
    elif kind == "boolean":
        yield from (False, True)
    elif kind == "array":
        yield _array(prop, name, seed, landing)
    elif kind == "object":
        yield {}
    else:
        yield from _strings(prop, name, seed, landing)


def _numbers(prop: Mapping[str, Any], name: str, *, integer: bool) -> Iterator[Any]:
    preferred = _NUMBERS.get(kind_of(name) or "", 1)
    bounds = [
        value
        for key in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")
        if isinstance(value := prop.get(key), int | float) and not isinstance(value, bool)
    ]
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    clamped: float = preferred
    if isinstance(low, int | float) and clamped < low:
        clamped = low
    if isinstance(high, int | float) and clamped > high:
        clamped = high
    for value in (preferred, clamped, *(bound + step for bound in bounds for step in (0, 1, -1))):
        if integer or float(value).is_integer():
            yield int(value)
        else:
            yield value


def _array(prop: Mapping[str, Any], name: str, seed: str, landing: str | None) -> list[Any]:
    items = prop.get("items")
    item_prop: Mapping[str, Any] = items if isinstance(items, Mapping) else {"type": "string"}
    minimum = prop.get("minItems")
    count = max(minimum if isinstance(minimum, int) else 1, 1)
    singular = re.sub(r"(?i)s$", "", name) or name
    values: list[Any] = []
    for index in range(count):  # items differ where they can: subnets that overlap fail
        seed_of_item = f"{seed}[{index}]"
        values.append(
            input_value(item_prop, singular, seed=seed_of_item, landing=landing, avoid=values)
        )
    return values


def _strings(prop: Mapping[str, Any], name: str, seed: str, landing: str | None) -> Iterator[str]:
    low = prop.get("minLength")
    high = prop.get("maxLength")
    min_length = low if isinstance(low, int) else 0
    max_length = high if isinstance(high, int) else None
    for text in _texts(name, seed, landing):
        yield text
        if len(text) < min_length:
            yield text + "x" * (min_length - len(text))
        if max_length is not None and len(text) > max_length:
            yield text[:max_length].rstrip("-_.")
    pattern = prop.get("pattern")
    if isinstance(pattern, str):
        yield from pattern_examples(pattern, min_length=min_length, max_length=max_length)
    yield "x" * max(min_length, 1)


def _texts(name: str, seed: str, landing: str | None) -> Iterator[str]:
    """Shaped text first; then, where values must differ (address ranges, zones), the next ones
    of that shape; then `placeholder-<name>`."""
    yield shaped(name, landing=landing, seed=seed)
    kind = kind_of(landing) or kind_of(name)
    if kind == "cidr":
        yield from (f"10.0.{index}.0/24" for index in range(2, CIDR_CHOICES))
    elif kind == "zone-name":
        yield from (f"{REGION}{letter}" for letter in "bcdef")
    yield f"placeholder-{_slug(name)}"


# ---------------------------------------------------------------------------------------------
# Which outputs templates read, and where placeholders land in a rendered template.

_OUTPUT_REF = re.compile(
    r"(\w+|\])\s*\.\s*outputs\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*(['\"])([^'\"\n]+)\3\s*\])"
)
_JINJA_SPLIT = re.compile(r"\s*\.\s*split\(\s*(['\"])(.*?)\1")
_COMPONENTS_BEFORE = re.compile(r"components\s*\.\s*$")


@dataclass(frozen=True)
class OutputReference:
    owner: str  # "environment" | "instance" | "component"
    key: str
    split: str | None  # the delimiter when the template splits the value in Jinja


def output_references(texts: Sequence[str]) -> list[OutputReference]:
    """Every `<owner>.outputs.<Key>` a template reads, by whose outputs they are."""
    found: dict[tuple[str, str], OutputReference] = {}
    for text in texts:
        for match in _OUTPUT_REF.finditer(text):
            key = match.group(2) or match.group(4)
            if match.group(2) and text[match.end() : match.end() + 1] == "(":
                continue  # a method of the mapping (`outputs.items()`), not an output
            owner = "instance"
            if match.group(1) == "environment":
                owner = "environment"
            elif _COMPONENTS_BEFORE.search(text[max(0, match.start() - 40) : match.start()]):
                owner = "component"
            split = _JINJA_SPLIT.match(text, match.end())
            reference = OutputReference(owner, key, split.group(2) if split else None)
            previous = found.get((owner, key))
            if previous is None or (previous.split is None and reference.split is not None):
                found[(owner, key)] = reference
    return list(found.values())


_INSTANCE_INPUT_REF = re.compile(
    r"service_instance\s*\.\s*inputs\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*(['\"])([^'\"\n]+)\2\s*\])"
)


def instance_input_references(texts: Sequence[str]) -> list[str]:
    """Names of `service_instance.inputs.<name>` a template reads (a component's templates)."""
    names: dict[str, None] = {}
    for text in texts:
        for match in _INSTANCE_INPUT_REF.finditer(text):
            if match.group(1) and text[match.end() : match.end() + 1] == "(":
                continue
            names[match.group(1) or match.group(3)] = None
    return list(names)


@dataclass(frozen=True)
class Landing:
    """Where a placeholder landed, as a whole value, in a rendered CloudFormation template."""

    key: str | None  # the property (or list) it is the value of
    split: str | None = None  # the `Fn::Split` delimiter when it is the string split


_SPLIT_ARGUMENTS = 2  # Fn::Split: [delimiter, source]
MIN_TRACKED_LENGTH = 6  # shorter values are too common to say where a placeholder landed


class _LandingFinder:
    """Walks a parsed template, noting where each wanted value is a whole value."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.wanted = {
            value: ident for ident, value in values.items() if len(value) >= MIN_TRACKED_LENGTH
        }
        self.landings: dict[str, Landing] = {}
        self.seen: set[int] = set()  # containers walked (YAML aliases can make cycles)

    def record(self, text: str, key: str | None, split: str | None) -> None:
        ident = self.wanted.get(text)
        if ident is None:
            return
        old = self.landings.get(ident)
        better = (
            old is None
            or (old.split is None and split is not None)
            or (old.split is None and kind_of(old.key) is None and kind_of(key) is not None)
        )
        if better:
            self.landings[ident] = Landing(key, split)

    def walk(self, node: Any, key: str | None) -> None:
        if isinstance(node, Mapping | list):
            if id(node) in self.seen:
                return
            self.seen.add(id(node))
        if isinstance(node, Mapping):
            if len(node) == 1 and self.intrinsic(*next(iter(node.items())), key):
                return
            for child_key, child in node.items():
                self.walk(child, str(child_key))
        elif isinstance(node, list):
            for item in node:
                self.walk(item, key)
        elif isinstance(node, str):
            self.record(node, key, None)

    def intrinsic(self, name: Any, argument: Any, key: str | None) -> bool:
        """Walk an intrinsic function's arguments under the key that holds it."""
        if name == "Fn::Split" and isinstance(argument, list) and len(argument) == _SPLIT_ARGUMENTS:
            delimiter, source = argument
            if isinstance(source, str) and isinstance(delimiter, str):
                self.record(source, key, delimiter)
            else:
                self.walk(source, key)
            return True
        if str(name).startswith("Fn::") or name == "Ref":
            self.walk(argument, key)
            return True
        return False


def find_landings(document: Any, values: Mapping[str, str]) -> dict[str, Landing]:
    """For each placeholder (id -> value) found as a whole value in `document`, where it is.

    A landing under a key that says what it holds wins over one that does not (`VpcId` over a
    tag's `Value`); one inside `Fn::Split` wins over any other.
    """
    finder = _LandingFinder(values)
    finder.walk(document, None)
    return finder.landings


def literal_outputs(document: Any) -> dict[str, str]:
    """Outputs of a rendered template whose value is plain text (known before deployment)."""
    outputs = document.get("Outputs") if isinstance(document, Mapping) else None
    if not isinstance(outputs, Mapping):
        return {}
    found: dict[str, str] = {}
    for key, body in outputs.items():
        value = body.get("Value") if isinstance(body, Mapping) else None
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            found[str(key)] = str(value)
    return found
