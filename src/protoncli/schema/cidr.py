"""Address ranges (CIDR blocks) among a spec's inputs: what AWS certainly refuses, found first.

A VPC blueprint takes a VPC range and subnet ranges as inputs. A subnet outside the VPC's range
passes every `pattern` and fails minutes later, in the deploy, with a raw EC2 error. pcli finds
such values when they are typed and when a spec is checked, before anything is deployed.

**Which inputs hold address ranges.** A string input (or the entries of an array input of
strings) whose schema says so: a `format` with `cidr` in it, or a `pattern` that accepts ranges
such as `10.0.0.0/16` and refuses bare addresses (`10.0.0.0`) and other text (tried on sample
values). Also a string input whose value reads as a range (`10.0.0.0/16`), when another input of
the same spec holds a range too.

**Roles.** An input is *the VPC's range* when its name (else its title) says "vpc" and nothing
else but "cidr", "block", "range", "ip", "ipv4" or "ipv6" (`vpc_cidr`, `VpcCidrBlock`, "VPC CIDR
block"); it is *a subnet's range* when its name (else its title) says "subnet", and none of
"peer", "remote", "ingress", "egress", "allowed", "source", "destination", "client", "vpn",
"transit", "external", "onprem", "other", "customer", "target". Any other range (an ingress
range, a peer network) has no role.

**The rules** (each is a refusal of EC2 — VPCs, subnets, security group rules, route tables,
network ACLs — so a deploy that breaks one certainly fails):

1. a range with host bits set (`10.0.0.5/16`) is refused: EC2 takes only the range's first
   address (`10.0.0.0/16`);
2. a range written as four numbers and a prefix whose numbers are out of bounds (`300.0.0.0/16`,
   `10.0.0.0/33`) is refused;
3. when exactly one input is the VPC's range, every subnet range of the same IP version must lie
   inside it;
4. ... and those subnet ranges may not overlap each other.

Nothing else is judged: with no VPC input, or several, rules 3 and 4 do not apply, and ranges
without a role are only checked by rules 1 and 2. A value that Python's `ipaddress` cannot read
but that is not out of bounds (leading zeros, `010.0.0.0/16`) is left to AWS.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Any

from protoncli.schema.model import InputDef, InputType

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

VPC = "vpc"
SUBNET = "subnet"
IPV4_BITS = 32
EXAMPLE = "10.0.0.0/16"

# Sample values a CIDR pattern accepts (at least one) and refuses (every one).
_PROBE_BASES_V4 = ("10.0.0.0", "172.16.0.0", "192.168.0.0")
_PROBES_V6 = ("2001:db8::/32", "fd00::/8", "2001:db8:1::/48")
_REFUSED_PROBES = (*_PROBE_BASES_V4, "2001:db8::", "abc", "x/1", "a/b/c", "")
_FILLER_WORDS = frozenset({"cidr", "cidrs", "block", "blocks", "range", "ip", "ipv4", "ipv6"})
_OTHER_NETWORK_WORDS = frozenset(
    {
        "peer",
        "peering",
        "remote",
        "ingress",
        "egress",
        "allowed",
        "allow",
        "source",
        "destination",
        "client",
        "clients",
        "vpn",
        "transit",
        "external",
        "onprem",
        "other",
        "customer",
        "target",
    }
)
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
_DOTTED = re.compile(r"^([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)/([0-9]+)$")
_MAX_OCTET = 255


@dataclass(frozen=True)
class CidrPattern:
    """What probing a `pattern` found: the IPv4 prefix lengths it accepts for every sample
    address (empty when it accepts IPv6 ranges only), and whether it accepts IPv6 ranges."""

    prefixes: frozenset[int]
    ipv6: bool


@lru_cache(maxsize=256)
def cidr_pattern(pattern: str) -> CidrPattern | None:
    """The pattern's accepted ranges, or None when it is not a pattern of address ranges."""
    try:
        compiled = re.compile(pattern)
    except re.error:
        return None
    if any(compiled.search(text) for text in _REFUSED_PROBES):
        return None
    by_base = [
        {bits for bits in range(IPV4_BITS + 1) if compiled.search(f"{base}/{bits}")}
        for base in _PROBE_BASES_V4
    ]
    accepted_v4 = frozenset.intersection(*(frozenset(found) for found in by_base))
    ipv6 = any(compiled.search(text) for text in _PROBES_V6)
    if not any(by_base) and not ipv6:
        return None
    return CidrPattern(accepted_v4, ipv6)


def declares_ranges(prop: Mapping[str, Any]) -> bool:
    """Whether a string property's schema says its values are address ranges."""
    if prop.get("type", "string") != "string":
        return False
    fmt = prop.get("format")
    if isinstance(fmt, str) and "cidr" in fmt.lower():
        return True
    pattern = prop.get("pattern")
    return isinstance(pattern, str) and cidr_pattern(pattern) is not None


# --- one value ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Read:
    """A value read as a range: the network (None when it is not one, or pcli cannot tell),
    whether host bits are set, and why it is certainly not a range (None: it may be)."""

    network: Network | None
    host_bits: bool = False
    invalid: str | None = None


def _read(text: str) -> _Read:
    dotted = _DOTTED.match(text)
    if dotted is not None:
        *octets, prefix = (int(part) for part in dotted.groups())
        if any(octet > _MAX_OCTET for octet in octets) or prefix > IPV4_BITS:
            return _Read(
                None, invalid="each of its four numbers must be 0 to 255, the prefix 0 to 32"
            )
    if "/" not in text:
        return _Read(None)
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return _Read(None)
    address = ipaddress.ip_interface(text).ip
    return _Read(network, host_bits=address != network.network_address)


def value_range_problems(text: str) -> list[str]:
    """Rules 1 and 2 for one value of an input that holds ranges."""
    read = _read(text)
    if read.invalid is not None:
        return [f"'{text}' is not an address range: {read.invalid}"]
    if read.host_bits and read.network is not None:
        first = read.network
        return [f"'{text}' has host bits set; AWS takes only the range's first address: {first}"]
    return []


def prop_range_problems(prop: Mapping[str, Any], value: Any) -> list[str]:
    """Rules 1 and 2 for a value of a property whose schema declares ranges (a string, or a
    list whose items' schema does)."""
    if isinstance(value, str) and declares_ranges(prop):
        return value_range_problems(value)
    items = prop.get("items")
    if isinstance(value, list) and isinstance(items, Mapping) and declares_ranges(items):
        return [
            f"item {index + 1}: {problem}"
            for index, entry in enumerate(value)
            if isinstance(entry, str)
            for problem in value_range_problems(entry)
        ]
    return []


# --- the ranges of a spec -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Range:
    input: str
    index: int | None  # the entry of an array input
    text: str
    read: _Read
    role: str | None
    declared: bool  # the schema says the input holds ranges
    default: bool  # the input's value is its default

    def label(self, *, defaults: bool) -> str:
        """The input (and entry) in words; `defaults` says when the value is its default."""
        where = f"input '{self.input}'"
        if self.index is not None:
            where += f" item {self.index + 1}"
        return f"{where}, its default" if defaults and self.default else where

    @property
    def prefix(self) -> str:
        return f"item {self.index + 1}: " if self.index is not None else ""


def _words(text: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(text)}


def role_of(item: InputDef) -> str | None:
    """VPC, SUBNET or None, from the input's name, else its title (see the module's rules)."""
    for text in (item.name, item.title or ""):
        words = _words(text)
        if words & _OTHER_NETWORK_WORDS:
            return None
        if words & {"subnet", "subnets"}:
            return SUBNET
        if words and words - _FILLER_WORDS == {VPC}:
            return VPC
    return None


def _entries(item: InputDef, value: Any) -> Iterator[tuple[int | None, str, bool]]:
    """(index, text, declared) of each string the input holds."""
    prop: Mapping[str, Any] = item.raw or {"type": item.type}
    if item.type == "string" and isinstance(value, str):
        yield None, value, declares_ranges(prop)
    items = prop.get("items")
    if item.type == "array" and isinstance(value, list) and isinstance(items, Mapping):
        declared = declares_ranges(items)
        for index, entry in enumerate(value):
            if isinstance(entry, str):
                yield index, entry, declared


def _ranges(input_type: InputType, values: Mapping[str, Any]) -> list[_Range]:
    found: list[_Range] = []
    for item in input_type.inputs:
        if item.secret or item.name not in values:
            continue
        value = values[item.name]
        default = item.has_default and value == item.default
        role = role_of(item)
        for index, text, declared in _entries(item, value):
            read = _read(text)
            if declared or read.network is not None:
                found.append(_Range(item.name, index, text, read, role, declared, default))
    if not any(r.declared for r in found) and len(found) < 2:  # noqa: PLR2004 - "another input"
        return []
    return found


@dataclass(frozen=True)
class _Conflict:
    """Two ranges that cannot both be: `kind` "outside" (subnet `first` is not inside the VPC
    `second`) or "overlap" (subnets `first` and `second` overlap)."""

    kind: str
    first: _Range
    second: _Range

    def seen_from(self, side: _Range, *, defaults: bool = True) -> str:
        """The problem in words, as the input of `side` states it."""
        other = self.second if side is self.first else self.first
        shown = f"{other.read.network} ({other.label(defaults=defaults)})"
        if self.kind == "outside" and side is self.first:
            return f"{side.prefix}'{side.text}' is not inside the VPC's range {shown}"
        if self.kind == "outside":
            return f"{side.prefix}'{side.text}' does not contain the subnet range {shown}"
        return f"{side.prefix}'{side.text}' overlaps the subnet range {shown} in the same VPC"

    @property
    def blamed(self) -> _Range:
        """The side a spec's check names: the one not holding its default, when only one is
        (a value given against a default is the given value's problem)."""
        if self.first.default and not self.second.default:
            return self.second
        return self.first


def _conflicts(ranges: Sequence[_Range]) -> list[_Conflict]:
    """Rules 3 and 4."""
    vpcs = [r for r in ranges if r.role == VPC]
    network = vpcs[0].read.network if len(vpcs) == 1 and vpcs[0].index is None else None
    if network is None:
        return []  # no VPC input, several, a list of them, or not a range: nothing is certain
    vpc = vpcs[0]
    subnets = [
        (r, r.read.network)
        for r in ranges
        if r.role == SUBNET and r.read.network is not None
        if r.read.network.version == network.version
    ]
    found = [
        _Conflict("outside", subnet, vpc)
        for subnet, inside in subnets
        if not inside.subnet_of(network)  # type: ignore[arg-type] # the same IP version
    ]
    found += [
        _Conflict("overlap", later, earlier)
        for (earlier, first), (later, second) in combinations(subnets, 2)
        if first.overlaps(second)
    ]
    return found


def _own_problems(entry: _Range) -> list[str]:
    return [f"{entry.prefix}{problem}" for problem in value_range_problems(entry.text)]


def spec_range_problems(input_type: InputType, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(input, problem) of every rule a spec's values break (rules 1 and 2 for every range,
    3 and 4 between them), in schema order."""
    ranges = _ranges(input_type, values)
    found = [(entry.input, text) for entry in ranges for text in _own_problems(entry)]
    for conflict in _conflicts(ranges):
        side = conflict.blamed
        found.append((side.input, conflict.seen_from(side)))
    order = {item.name: index for index, item in enumerate(input_type.inputs)}
    return sorted(found, key=lambda pair: order.get(pair[0], len(order)))


def answer_range_problems(input_type: InputType, values: Mapping[str, Any], name: str) -> list[str]:
    """The problems of input `name`'s value among `values` (the answers and values settled so
    far): rules 3 and 4 with the others, and 1 and 2 when its schema does not declare ranges
    (when it does, the schema's own check says so)."""
    ranges = _ranges(input_type, values)
    found = [
        text
        for entry in ranges
        if entry.input == name and not entry.declared
        for text in _own_problems(entry)
    ]
    for conflict in _conflicts(ranges):
        found += [
            conflict.seen_from(side, defaults=False)
            for side in (conflict.first, conflict.second)
            if side.input == name
        ]
    return found
