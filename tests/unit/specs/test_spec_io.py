from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from protoncli.errors import InputError
from protoncli.specs.io import (
    dump_spec,
    load_spec,
    load_spec_with_warnings,
    parse_spec,
    parse_spec_with_warnings,
)
from protoncli.specs.model import EnvironmentSpec, InstanceSpec, ServiceSpec

ENV_SPEC = textwrap.dedent(
    """\
    blueprint: shared-network
    version: "2.1"
    region: eu-central-1
    proton: EnvironmentSpec
    spec:
      vpc_cidr: 10.20.0.0/16
      az_count: 3
      flow_logs: true
    """
)

SERVICE_SPEC = textwrap.dedent(
    """\
    blueprint: queue-worker
    version: "1.0"
    proton: ServiceSpec

    pipeline:
      build_image: "builder:3"
      run_tests: false

    instances:
      - name: orders-dev
        environment: dev
        spec:
          queue_name: orders
          concurrency: 2
      - name: orders-prod
        environment: prod-eu_1
    """
)


def parse_error(text: str, source: str = "spec.yaml") -> InputError:
    with pytest.raises(InputError) as caught:
        parse_spec(text, source)
    return caught.value


def test_environment_spec_with_header_and_lines():
    spec, warnings = parse_spec_with_warnings(ENV_SPEC, "envs/stage.yaml")
    assert warnings == []
    assert isinstance(spec, EnvironmentSpec)
    assert spec.source == "envs/stage.yaml"
    assert spec.header == {
        "blueprint": "shared-network",
        "version": "2.1",
        "region": "eu-central-1",
    }
    assert spec.inputs == {"vpc_cidr": "10.20.0.0/16", "az_count": 3, "flow_logs": True}
    assert list(spec.inputs) == ["vpc_cidr", "az_count", "flow_logs"]
    assert spec.key_lines == {"vpc_cidr": 6, "az_count": 7, "flow_logs": 8}
    assert type(spec.inputs) is dict


@pytest.mark.parametrize("body", ["proton: EnvironmentSpec\n", "proton: EnvironmentSpec\nspec:\n"])
def test_environment_spec_without_inputs(body):
    spec = parse_spec(body, "e.yaml")
    assert isinstance(spec, EnvironmentSpec)
    assert spec.inputs == {}
    assert spec.header == {}


def test_flow_form_environment_spec():
    spec = parse_spec("{ proton: EnvironmentSpec, spec: { env_name: qa, size: 2 } }", "cli")
    assert isinstance(spec, EnvironmentSpec)
    assert spec.inputs == {"env_name": "qa", "size": 2}
    assert spec.key_lines == {"env_name": 1, "size": 1}


def test_service_spec_with_pipeline_and_instances():
    spec, warnings = parse_spec_with_warnings(SERVICE_SPEC, "services/orders.yaml")
    assert warnings == []
    assert isinstance(spec, ServiceSpec)
    assert spec.header == {"blueprint": "queue-worker", "version": "1.0"}
    assert spec.pipeline == {"build_image": "builder:3", "run_tests": False}
    assert spec.pipeline_key_lines == {"build_image": 6, "run_tests": 7}
    assert spec.instances == (
        InstanceSpec(
            name="orders-dev",
            environment="dev",
            inputs={"queue_name": "orders", "concurrency": 2},
            line=10,
            key_lines={"queue_name": 13, "concurrency": 14},
        ),
        InstanceSpec(name="orders-prod", environment="prod-eu_1", inputs={}, line=15),
    )
    assert spec.instance("orders-prod") is spec.instances[1]


def test_flow_form_service_spec():
    text = (
        "{proton: ServiceSpec, instances: [{name: a1, environment: e1, spec: {port: 80}}, "
        "{name: a2, environment: e2}]}"
    )
    spec = parse_spec(text, "cli")
    assert isinstance(spec, ServiceSpec)
    assert spec.pipeline is None
    assert [(i.name, i.environment, dict(i.inputs)) for i in spec.instances] == [
        ("a1", "e1", {"port": 80}),
        ("a2", "e2", {}),
    ]


def test_service_spec_without_instances_parses():
    spec = parse_spec("proton: ServiceSpec\npipeline:\n", "s.yaml")
    assert isinstance(spec, ServiceSpec)
    assert spec.instances == ()
    assert spec.pipeline is None


SERVICE_KEYS_TEXT = (
    "proton, pipeline, instances, blueprint, version, repository_id, branch_name, "
    "repository_connection_arn"
)


def test_unknown_keys_are_warnings():
    text = textwrap.dedent(
        """\
        proton: ServiceSpec
        region: us-west-2
        instance:
          - name: x
        owner: team-a
        instances:
          - name: api
            environment: dev
            enviroment: prod
        """
    )
    spec, warnings = parse_spec_with_warnings(text, "s.yaml")
    assert isinstance(spec, ServiceSpec)
    assert spec.header == {}
    assert warnings == [
        (
            "s.yaml:2: unknown key 'region' is ignored: a service runs in the regions of its "
            "environments"
        ),
        (
            "s.yaml:3: unknown key 'instance' is ignored (did you mean 'instances'?) (a "
            f"ServiceSpec has: {SERVICE_KEYS_TEXT})"
        ),
        (f"s.yaml:5: unknown key 'owner' is ignored (a ServiceSpec has: {SERVICE_KEYS_TEXT})"),
        (
            "s.yaml:9: instance 'api': unknown key 'enviroment' is ignored (did you mean "
            "'environment'?) (an instance has: name, environment, spec)"
        ),
    ]


def test_environment_spec_with_service_keys_warns():
    _, warnings = parse_spec_with_warnings("proton: EnvironmentSpec\ninstances: []\n", "e.yaml")
    assert warnings == [
        (
            "e.yaml:2: unknown key 'instances' is ignored (an EnvironmentSpec has: proton, spec, "
            "blueprint, version, region, account, managed_elsewhere, provisioning_repository)"
        )
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "spec.yaml: a spec must be a mapping with 'proton: EnvironmentSpec' or"),
        ("- proton: ServiceSpec\n", "spec.yaml: a spec must be a mapping"),
        ("proton: [ServiceSpec\n", "spec.yaml:2: invalid YAML"),
        ("spec:\n  a: 1\n", "spec.yaml:1: missing 'proton:' (EnvironmentSpec or ServiceSpec)"),
        (
            "\nproton: ServiceSpecs\n",
            (
                "spec.yaml:2: proton: 'ServiceSpecs' is not a spec kind (use EnvironmentSpec or "
                "ServiceSpec) (did you mean 'ServiceSpec'?)"
            ),
        ),
        (
            "proton: EnvironmentSpec\nspec: [a, b]\n",
            "spec.yaml:2: spec must be a mapping of input names to values",
        ),
        (
            "proton: ServiceSpec\npipeline: build\ninstances: [{name: a, environment: b}]\n",
            "spec.yaml:2: pipeline must be a mapping of input names to values",
        ),
        (
            "proton: ServiceSpec\ninstances:\n  name: a\n",
            "spec.yaml:2: instances must be a list of {name, environment, spec} entries",
        ),
        (
            "proton: ServiceSpec\ninstances:\n  - just-a-name\n",
            "spec.yaml:2: instance 1 must be a mapping with name and environment",
        ),
        (
            "proton: ServiceSpec\ninstances:\n  - environment: dev\n",
            "spec.yaml:3: instance 1 has no name",
        ),
        (
            "proton: ServiceSpec\ninstances:\n  - name: api\n    spec: {a: 1}\n",
            "spec.yaml:3: instance 'api' has no environment",
        ),
        (
            "proton: ServiceSpec\ninstances:\n  - name: 0123\n    environment: dev\n",
            "spec.yaml:3: instance 1: name must be text; quote 83",
        ),
        (
            "proton: ServiceSpec\ninstances:\n  - name: api\n    environment: dev\n    spec: 5\n",
            "spec.yaml:5: instance 'api': spec must be a mapping of input names to values",
        ),
        (
            "proton: ServiceSpec\ninstances:\n  - name: api prod\n    environment: dev\n",
            (
                "spec.yaml:3: instance 'api prod': instance name 'api prod' is not a valid Proton "
                "name (a letter or digit first, then letters, digits, '_' or '-', at most 100 "
                "characters)"
            ),
        ),
        (
            "proton: ServiceSpec\ninstances:\n  - name: -api\n    environment: dev\n",
            "spec.yaml:3: instance '-api': instance name '-api' is not a valid Proton name",
        ),
        (
            "proton: ServiceSpec\ninstances:\n  - name: api\n    environment: dev.eu\n",
            "spec.yaml:4: instance 'api': environment name 'dev.eu' is not a valid Proton name",
        ),
        (
            f"proton: ServiceSpec\ninstances:\n  - name: {'a' * 101}\n    environment: dev\n",
            f"spec.yaml:3: instance '{'a' * 101}': instance name '{'a' * 101}' is not a valid",
        ),
        (
            "version: 1.10\nproton: EnvironmentSpec\n",
            (
                'spec.yaml:1: version must be text in quotes, such as version: "1.2" (YAML reads '
                "1.1 without quotes as a number)"
            ),
        ),
        (
            "blueprint: [a]\nproton: EnvironmentSpec\n",
            "spec.yaml:1: blueprint must be non-empty text, not ['a']",
        ),
    ],
)
def test_spec_errors_name_file_and_line(text, expected):
    error = parse_error(text)
    assert error.message.startswith(expected), error.message
    assert error.details == []
    if "invalid YAML" not in error.message:
        assert "proton: EnvironmentSpec" in (error.hint or "")


def test_longest_valid_name_is_accepted():
    spec = parse_spec(
        f"proton: ServiceSpec\ninstances:\n  - name: {'a' * 100}\n    environment: d\n", "s"
    )
    assert isinstance(spec, ServiceSpec)
    assert spec.instances[0].name == "a" * 100


def test_every_spec_error_is_reported_at_once():
    text = textwrap.dedent(
        """\
        version: 2
        proton: ServiceSpec
        instances:
          - name: api
            environment: dev
          - name: worker
          - name: api
            environment: prod
          - environment: qa
            name: bad name!
        """
    )
    error = parse_error(text, "svc.yaml")
    assert error.message == "svc.yaml: 4 problems"
    assert error.details == [
        (
            'svc.yaml:1: version must be text in quotes, such as version: "1.2" (YAML reads 2 '
            "without quotes as a number)"
        ),
        "svc.yaml:6: instance 'worker' has no environment",
        "svc.yaml:7: instance 'api' appears twice (first at line 4); instance names must be unique",
        (
            "svc.yaml:10: instance 'bad name!': instance name 'bad name!' is not a valid Proton "
            "name (a letter or digit first, then letters, digits, '_' or '-', at most 100 "
            "characters)"
        ),
    ]


def test_load_spec_reads_a_file(tmp_path):
    path = tmp_path / "orders.yaml"
    path.write_text(SERVICE_SPEC + "notes: hello\n", encoding="utf-8")
    spec = load_spec(path)
    assert isinstance(spec, ServiceSpec)
    assert spec.source == str(path)
    _, warnings = load_spec_with_warnings(path)
    assert warnings == [
        (f"{path}:17: unknown key 'notes' is ignored (a ServiceSpec has: {SERVICE_KEYS_TEXT})")
    ]


def test_load_spec_missing_file(tmp_path):
    with pytest.raises(InputError) as caught:
        load_spec(tmp_path / "nope.yaml")
    assert caught.value.message == f"{tmp_path / 'nope.yaml'}: file not found"


def test_dump_service_spec_in_protons_shape():
    spec = parse_spec(SERVICE_SPEC, "s.yaml")
    assert dump_spec(spec) == textwrap.dedent(
        """\
        blueprint: queue-worker
        version: '1.0'
        proton: ServiceSpec
        pipeline:
          build_image: builder:3
          run_tests: false
        instances:
          - name: orders-dev
            environment: dev
            spec:
              queue_name: orders
              concurrency: 2
          - name: orders-prod
            environment: prod-eu_1
        """
    )


def test_dump_environment_spec_in_protons_shape():
    spec = EnvironmentSpec(inputs={}, header={"blueprint": "net"})
    assert dump_spec(spec) == "blueprint: net\nproton: EnvironmentSpec\nspec: {}\n"


def assert_same_spec(left, right):
    assert type(left) is type(right)
    assert dict(left.header) == dict(right.header)
    assert list(left.header) == list(right.header)
    if isinstance(left, EnvironmentSpec):
        assert left.inputs == right.inputs
        assert list(left.inputs) == list(right.inputs)
        return
    assert left.pipeline == right.pipeline
    assert [(i.name, i.environment, dict(i.inputs)) for i in left.instances] == [
        (i.name, i.environment, dict(i.inputs)) for i in right.instances
    ]


@pytest.mark.parametrize(
    "spec",
    [
        parse_spec(ENV_SPEC, "e.yaml"),
        parse_spec(SERVICE_SPEC, "s.yaml"),
        EnvironmentSpec(
            inputs={
                "zeta": "${Proton::CURRENT_VAL}",
                "alpha": ["10", 10, 1.5, True, None],
                "quoted": "yes",
                "numeric_text": "0123",
                "multi": "line one\nline two\n",
                "when": dt.date(2024, 2, 29),
                "colon": "key: value",
                "empty": "",
            },
            header={"version": "1.10", "blueprint": "b"},
        ),
        ServiceSpec(
            instances=(InstanceSpec("i1", "e1", {"list": []}), InstanceSpec("i2", "e2", {})),
            pipeline={},
        ),
        ServiceSpec(instances=()),
    ],
)
def test_dump_round_trips(spec):
    text = dump_spec(spec)
    again = parse_spec(text, "again.yaml")
    assert_same_spec(again, spec)
    assert dump_spec(again) == text


def test_a_name_with_a_trailing_line_break_is_not_a_valid_name():
    text = 'proton: ServiceSpec\ninstances:\n  - name: "api\\n"\n    environment: dev\n'
    with pytest.raises(InputError) as error:
        parse_spec(text, "spec.yaml")
    assert "is not a valid Proton name" in " ".join([error.value.message, *error.value.details])
