"""Corrections pcli applies to moto when it runs moto as the sandbox (and in tests).

pcli deploys only through change sets, where moto 5.2 differs from CloudFormation:

- executing a change set does not re-read the template's Outputs (a stack shows no or stale
  outputs): they are resolved again after each execution, as moto's own UpdateStack does;
- executing an UPDATE change set does not apply its tags to the stack: they are applied;
- executing a change set leaves the stack's other change sets in place, and executing one that
  is gone fails with an internal error: as CloudFormation does, executing one drops the others
  (they no longer fit the stack), and a missing one is ChangeSetNotFound;
- a CREATE change set for a name whose stack is still REVIEW_IN_PROGRESS (an empty stack left by a
  change set never executed) makes a second stack of that name: the empty one is dropped first,
  as CloudFormation reuses it;
- deleting a stack leaves its route tables, internet gateways and gateway attachments behind
  (moto has no CloudFormation delete for them), so the VPC they hang on cannot be deleted and
  DeleteStack fails: each gets the delete CloudFormation would do, and moto's own retry of
  resources that still have dependents puts them in order;
- ListChangeSets ignores StackName (it answers with every change set of the region) and hands
  the serialiser a live view of the change sets, which concurrent deploys change under it (some
  calls answer 500, "OrderedDict mutated during iteration"): it answers with the named stack's
  change sets only (by name: the live stack of that name; or by stack id), from a copy taken
  at once. moto does not paginate ListChangeSets, so neither does the correction;
- DescribeStacks by name and moto's own lookups of a stack by name walk the live dict of stacks,
  which a concurrent create adds to ("dictionary changed size during iteration": an error page
  under a fleet's deploys): they walk a copy taken at once, as ListChangeSets does;
- moto's server lists its own package folder (some 150 entries, a stat each) on every request,
  holding the lock every request takes, to tell a service's name from a host name: it is listed
  once. A third of the server's time went there under a fleet's deploys;
- moto's response serialiser works out, for every field of every object it answers with, which
  attribute names may hold it (six alias rules, each asked again for each object: some 50 per
  stack): nine tenths of a DescribeStacks page of 50 stacks went there. The names depend only
  on the object's class, the field and the field's model shape, so each answer is kept;
- a YAML short form whose argument is a mapping (`!GetAZs {Ref: AWS::Region}`, as AWS's sample
  VPC templates write it) reaches moto as YAML parser nodes, not as the mapping: it is read as
  one;
- `Fn::GetAZs` takes its argument as it is written (`{Ref: AWS::Region}` gives zones such as
  "{'Ref': 'AWS::Region'}a"), reads an empty one as us-east-1 whatever the stack's region, and
  answers zones a to d of any region (some have fewer, so a subnet in the one it picks is
  refused): the argument is resolved, an empty one is the stack's region, and the answer is the
  availability zones moto's EC2 has in that region;
- an update that changes a resource of a type moto cannot update (some 50: VPCs, subnets, log
  groups, DynamoDB tables, load balancers, ...) drops the resource from the stack while it keeps
  running: the stack then loses outputs that `Ref` it, any `Fn::GetAtt` of it makes every later
  DescribeStacks of the region fail (a ValidationError, until the server restarts), and deleting
  the stack leaves the resource behind. The resource stays in the stack, unchanged, as moto
  leaves it;
- log groups are such a type, and their CloudFormation model drops KmsKeyId: an update of a log
  group applies RetentionInDays, KmsKeyId and Tags (a new LogGroupName replaces it, as
  CloudFormation does), and a new one gets its KmsKeyId.
- a conditional PutObject (`If-Match`, `If-None-Match: *`) checks its condition, then writes, in
  two steps: two requests at once can both pass the check, and one write silently replaces the
  other (a team registry's index loses a version). S3 makes the check and the write one step:
  conditional PutObjects run one at a time.
"""

from __future__ import annotations

from typing import Any

_MARK = "_pcli_outputs_fix"


def apply_moto_fixes() -> None:
    """Patch moto's CloudFormation backend in this process; idempotent."""
    from moto.cloudformation.exceptions import CloudFormationError, ValidationError
    from moto.cloudformation.models import CloudFormationBackend

    original = CloudFormationBackend.execute_change_set
    if getattr(original, _MARK, False):
        return

    class ChangeSetNotFoundError(CloudFormationError):
        code = "ChangeSetNotFoundException"  # the model's shape; AWS answers ChangeSetNotFound

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.change_sets.get(change_set_name) or next(
            (cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name),
            None,
        )
        if change_set is None or change_set.stack_id not in self.stacks:
            raise ChangeSetNotFoundError(f"ChangeSet [{change_set_name}] does not exist")
        original(self, change_set_name, stack_name)
        stack = self.stacks[change_set.stack_id]
        for key, other in list(self.change_sets.items()):
            if other is not change_set and other.stack_name == stack.name:
                del self.change_sets[key]
        stack._parse_template()  # noqa: SLF001 - moto has no public hook for this
        stack.output_map = stack._create_output_map()  # noqa: SLF001 - same
        if change_set.tags is not None:
            stack.tags = dict(change_set.tags)

    original_create = CloudFormationBackend.create_change_set

    def create_change_set(self: Any, stack_name: str, *args: Any, **kwargs: Any) -> Any:
        position = 4  # change_set_type's place after stack_name in moto's signature
        change_set_type = kwargs.get(
            "change_set_type", args[position] if len(args) > position else None
        )
        if change_set_type == "CREATE":
            for stack_id, stack in list(self.stacks.items()):
                if stack.name != stack_name or stack.status == "DELETE_COMPLETE":
                    continue
                if stack.status == "REVIEW_IN_PROGRESS":
                    del self.stacks[stack_id]
                    continue
                # moto would make a second stack of the name; CloudFormation refuses.
                change_set_name = kwargs.get("change_set_name", args[0] if args else "")
                raise ValidationError(
                    message=f"Stack [{stack_name}] already exists and cannot be created again "
                    f"with the changeSet [{change_set_name}]."
                )
        return original_create(self, stack_name, *args, **kwargs)

    _answer_list_change_sets_per_stack()
    _find_stacks_in_a_copy()
    _teach_ec2_deletes()
    _list_moto_modules_once()
    _remember_attribute_aliases()
    _read_short_forms_of_mappings()
    _resolve_get_azs()
    _keep_resources_moto_cannot_update()
    _update_log_groups()
    _serialise_conditional_puts()
    setattr(execute_change_set, _MARK, True)
    CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]
    CloudFormationBackend.create_change_set = create_change_set  # type: ignore[method-assign]


def _answer_list_change_sets_per_stack() -> None:
    """ListChangeSets(StackName=...) as CloudFormation answers it, safe under concurrent deploys."""
    from moto.cloudformation.models import CloudFormationBackend
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult

    def list_change_sets(self: Any, stack_name: str | None = None) -> list[Any]:
        # list() copies a dict in one step (no other request runs half-way through it);
        # iterating moto's dicts themselves while other requests change them is what fails.
        change_sets = list(self.change_sets.values())
        if not stack_name:
            return change_sets
        live = list(self.stacks.items())
        ids = {stack_name} | {i for i, stack in live if stack.name == stack_name}
        return [cs for cs in change_sets if cs.stack_id in ids]

    def list_change_sets_response(self: Any) -> ActionResult:
        stack_name = self._get_param("StackName")
        summaries = self.cloudformation_backend.list_change_sets(stack_name)
        return ActionResult({"Summaries": summaries})

    CloudFormationBackend.list_change_sets = list_change_sets  # type: ignore[method-assign]
    CloudFormationResponse.list_change_sets = list_change_sets_response  # type: ignore[method-assign]


def _find_stacks_in_a_copy() -> None:
    """DescribeStacks and GetStack as moto has them, walking copies of its dicts."""
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.models import CloudFormationBackend

    def describe_stacks(self: Any, name_or_stack_id: str) -> list[Any]:
        stacks = list(self.stacks.values())
        if not name_or_stack_id:
            return stacks
        for stack in stacks:
            if name_or_stack_id in (stack.name, stack.stack_id):
                return [stack]
        for stack in list(self.deleted_stacks.values()):
            if stack.stack_id == name_or_stack_id:
                return [stack]
        raise ValidationError(name_or_stack_id)

    def get_stack(self: Any, name_or_stack_id: str) -> Any:
        live = dict(self.stacks)
        known = {**dict(self.deleted_stacks), **live}
        if name_or_stack_id in known:  # a stack id: deleted stacks included
            return known[name_or_stack_id]
        for stack in live.values():  # a name: live stacks only
            if stack.name == name_or_stack_id:
                return stack
        raise ValidationError(name_or_stack_id)

    CloudFormationBackend.describe_stacks = describe_stacks  # type: ignore[method-assign]
    CloudFormationBackend.get_stack = get_stack  # type: ignore[method-assign]


def _serialise_conditional_puts() -> None:
    """A conditional PutObject checks and writes under one lock, as S3 does it atomically."""
    import threading

    from moto.s3.responses import S3Response

    original = S3Response.put_object
    lock = threading.Lock()

    def put_object(self: Any) -> Any:
        if self.headers.get("If-Match") or self.headers.get("If-None-Match"):
            with lock:
                return original(self)
        return original(self)

    S3Response.put_object = put_object  # type: ignore[method-assign]


def _list_moto_modules_once() -> None:
    """moto's modules, listed once (the server asks for them on every request)."""
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


_ALIAS_MEMORY_LIMIT = 100_000  # (class, field, shape) answers kept; moto's models have far fewer


def _remember_attribute_aliases() -> None:
    """moto's serialiser asks its alias rules once per (class, field, shape), not per object.

    The rules read the object's class (its name and its `Meta.serialization_aliases`), the field
    and the shape (its name, serialisation name, and the structure that holds it), which moto's
    service models keep for the life of the process."""
    from moto.core import serialize

    picker = serialize.XFormedAttributePicker
    original = picker.get_possible_keys
    known: dict[tuple[Any, ...], tuple[str, ...]] = {}

    def get_possible_keys(self: Any, context: Any) -> Any:
        shape = context.shape
        key = (type(context.obj), context.key, shape, getattr(shape, "parent", None))
        names = known.get(key)
        if names is None:
            names = tuple(original(self, context))
            if len(known) >= _ALIAS_MEMORY_LIMIT:
                known.clear()
            known[key] = names
        return names

    get_possible_keys.__wrapped__ = original  # type: ignore[attr-defined]
    picker.get_possible_keys = get_possible_keys  # type: ignore[method-assign]


def _teach_ec2_deletes() -> None:
    """Give moto's CloudFormation models of EC2 networking the deletes a stack deletion needs
    (moto calls `resource.delete(account_id, region)` and retries a resource that raises)."""
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.internet_gateways import InternetGateway
    from moto.ec2.models.route_tables import RouteTable
    from moto.ec2.models.vpn_gateway import VPCGatewayAttachment

    def delete_route_table(self: Any, account_id: str, region_name: str) -> None:
        del account_id, region_name
        if self.id in self.ec2_backend.route_tables:
            self.ec2_backend.delete_route_table(self.id)

    def delete_internet_gateway(self: Any, account_id: str, region_name: str) -> None:
        del account_id, region_name
        if self.id in self.ec2_backend.internet_gateways:
            self.ec2_backend.delete_internet_gateway(self.id)

    def delete_attachment(self: Any, account_id: str, region_name: str) -> None:
        backend = ec2_backends[account_id][region_name]
        gateway = str(self.gateway_id or "")
        if gateway.startswith("igw-") and gateway in backend.internet_gateways:
            igw = backend.internet_gateways[gateway]
            if igw.vpc is not None and igw.vpc.id == self.vpc_id:
                backend.detach_internet_gateway(gateway, self.vpc_id)
        elif gateway.startswith("vgw-"):
            backend.detach_vpn_gateway(gateway, self.vpc_id)

    RouteTable.delete = delete_route_table  # type: ignore[attr-defined]
    InternetGateway.delete = delete_internet_gateway  # type: ignore[attr-defined]
    VPCGatewayAttachment.delete = delete_attachment  # type: ignore[attr-defined]


def _read_short_forms_of_mappings() -> None:
    """moto's YAML constructor of short forms (`!Ref`, `!GetAZs`, ...), with a mapping argument
    read as a mapping. moto registers the constructor again before each template it parses,
    under the name its modules import, so those names are what is replaced."""
    import yaml
    from moto.cloudformation import models, responses, utils

    original = utils.yaml_tag_constructor

    def yaml_tag_constructor(loader: Any, tag: str, node: Any) -> Any:
        if isinstance(node, yaml.MappingNode):
            key = "Ref" if tag == "!Ref" else f"Fn::{tag[1:]}"
            return {key: loader.construct_mapping(node, deep=True)}
        return original(loader, tag, node)

    for module in (utils, models, responses):
        module.yaml_tag_constructor = yaml_tag_constructor  # type: ignore[attr-defined]


def _resolve_get_azs() -> None:
    """`Fn::GetAZs` as CloudFormation answers it: the availability zones of the region its
    argument names once resolved, the stack's region when the argument is empty."""
    from moto.cloudformation import parsing

    original = parsing.clean_json

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, dict) and list(resource_json) == ["Fn::GetAZs"]:
            # resolved as any value is: most often {Ref: AWS::Region}
            region = parsing.clean_json(resource_json["Fn::GetAZs"], resources_map)
            return _availability_zones(
                str(resources_map["AWS::AccountId"]),
                str(region or resources_map["AWS::Region"]),
            )
        return original(resource_json, resources_map)

    parsing.clean_json = clean_json


def _availability_zones(account_id: str, region: str) -> list[str]:
    """The availability zones moto's EC2 has in the region (none for a region it lacks)."""
    from moto.ec2.models import ec2_backends

    try:
        zones = ec2_backends[account_id][region].describe_availability_zones()
    except KeyError:  # not a region moto knows
        return []
    return sorted(zone.name for zone in zones if zone.zone_type == "availability-zone")


def _keep_resources_moto_cannot_update() -> None:
    """A resource whose type moto has no update for stays in the stack as it is, instead of
    dropping out of it (moto's answer: None, which its stack keeps in the resource's place)."""
    from moto.cloudformation import parsing

    original = parsing.parse_and_update_resource

    def parse_and_update_resource(
        logical_id: str,
        resource_json: dict[str, Any],
        resources_map: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        model = parsing.get_model_map().get(resource_json.get("Type", ""))
        if model is not None and hasattr(
            model.update_from_cloudformation_json, "__isabstractmethod__"
        ):
            return resources_map[logical_id]  # the resource as it runs
        return original(logical_id, resource_json, resources_map, account_id, region_name)

    parsing.parse_and_update_resource = parse_and_update_resource


_GENERATED_SUFFIX = 12  # moto names a resource with no name of its own STACK-LOGICALID-<12 chars>


def _update_log_groups() -> None:
    """AWS::Logs::LogGroup updates as CloudFormation does them, and KmsKeyId on creation."""
    from moto.logs.models import LogGroup, logs_backends

    original_create = LogGroup.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(
        cls: Any,
        /,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        group = original_create(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        _set_log_group_properties(group, cloudformation_json.get("Properties") or {})
        return group

    def update(  # moto passes these by name
        cls: Any,
        *,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        properties = cloudformation_json.get("Properties") or {}
        backend = logs_backends[account_id][region_name]
        old_name = str(original_resource.name)
        if properties.get("LogGroupName") is None:
            # still unnamed: keep the name moto made up, which a new one would replace
            same = len(old_name) == len(new_resource_name) and (
                old_name[:-_GENERATED_SUFFIX] == new_resource_name[:-_GENERATED_SUFFIX]
            )
        else:
            same = properties["LogGroupName"] == old_name
        if not same:  # a new name: a new log group, and the old one goes
            replacement = create(
                cls, new_resource_name, cloudformation_json, account_id, region_name
            )
            if old_name in backend.groups:
                backend.delete_log_group(old_name)
            return replacement
        _set_log_group_properties(original_resource, properties)
        tags = {str(t["Key"]): str(t["Value"]) for t in properties.get("Tags") or []}
        dropped = [
            key for key in backend.list_tags_for_resource(original_resource.arn) if key not in tags
        ]
        if dropped:
            backend.untag_resource(original_resource.arn, dropped)
        backend.tag_resource(original_resource.arn, tags)
        return original_resource

    LogGroup.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]
    LogGroup.update_from_cloudformation_json = classmethod(update)  # type: ignore[method-assign,assignment]


def _set_log_group_properties(group: Any, properties: dict[str, Any]) -> None:
    retention = properties.get("RetentionInDays")
    group.set_retention_policy(int(retention) if retention not in (None, "") else None)
    group.kms_key_id = properties.get("KmsKeyId")
