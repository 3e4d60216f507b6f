from __future__ import annotations

import textwrap

import pytest

from protoncli.errors import InputError
from protoncli.schema.model import Schema
from protoncli.schema.parse import parse_schema
from protoncli.specs.io import parse_spec
from protoncli.specs.model import EnvironmentSpec, ServiceSpec
from protoncli.specs.resolve import (
    ResolvedEnvironment,
    ResolvedService,
    resolve_environment_spec,
    resolve_inputs,
    resolve_service_spec,
)

SERVICE_SCHEMA = textwrap.dedent(
    """\
    schema:
      format: {openapi: "3.0.0"}
      service_input_type: WorkerInput
      pipeline_input_type: BuildInput
      types:
        WorkerInput:
          type: object
          properties:
            queue_name:
              type: string
              description: "Queue to poll"
              pattern: "^[a-z-]+$"
            concurrency:
              type: integer
              default: 4
              minimum: 1
              maximum: 32
            packaging_command:
              type: string
            log_level:
              type: string
              enum: [debug, info, warn]
              default: info
            subnets:
              type: array
              items: {type: string}
              default: [subnet-a, subnet-b]
          required: [queue_name]
        BuildInput:
          type: object
          properties:
            build_image:
              type: string
              default: "builder:latest"
            test_command:
              type: string
          required: [test_command]
    """
)

ENV_SCHEMA = textwrap.dedent(
    """\
    schema:
      format: {openapi: "3.0.0"}
      environment_input_type: NetInput
      types:
        NetInput:
          type: object
          properties:
            vpc_cidr: {type: string, default: "10.0.0.0/16"}
            az_count: {type: number, minimum: 1, maximum: 3}
            nat: {type: boolean, default: public}
          required: [az_count]
    """
)


@pytest.fixture(scope="module")
def worker() -> Schema:
    return parse_schema(SERVICE_SCHEMA, "worker/schema/schema.yaml")


@pytest.fixture(scope="module")
def network() -> Schema:
    return parse_schema(ENV_SCHEMA, "net/schema/schema.yaml")


def service(text: str, source: str = "svc.yaml") -> ServiceSpec:
    spec = parse_spec(textwrap.dedent(text), source)
    assert isinstance(spec, ServiceSpec)
    return spec


def environment(text: str, source: str = "env.yaml") -> EnvironmentSpec:
    spec = parse_spec(textwrap.dedent(text), source)
    assert isinstance(spec, EnvironmentSpec)
    return spec


def resolve_error(*args, **kwargs) -> InputError:
    resolve = resolve_service_spec if isinstance(args[1], ServiceSpec) else resolve_environment_spec
    with pytest.raises(InputError) as caught:
        resolve(*args, **kwargs)
    return caught.value


def test_defaults_merged_spec_wins_and_optional_without_default_absent(worker):
    spec = service(
        """\
        proton: ServiceSpec
        pipeline:
          test_command: make test
        instances:
          - name: orders
            environment: dev
            spec:
              log_level: debug
              queue_name: orders
          - name: billing
            environment: dev
            spec:
              queue_name: billing
              packaging_command: zip -r app.zip .
              concurrency: 8
        """
    )
    resolved = resolve_service_spec(worker, spec, has_pipeline=True)
    assert resolved == ResolvedService(
        pipeline_inputs={"build_image": "builder:latest", "test_command": "make test"},
        instances={
            "orders": {
                "queue_name": "orders",
                "concurrency": 4,
                "log_level": "debug",
                "subnets": ["subnet-a", "subnet-b"],
            },
            "billing": {
                "queue_name": "billing",
                "concurrency": 8,
                "packaging_command": "zip -r app.zip .",
                "log_level": "info",
                "subnets": ["subnet-a", "subnet-b"],
            },
        },
        warnings=(),
    )
    assert list(resolved.instances) == ["orders", "billing"]
    assert "packaging_command" not in resolved.instances["orders"]
    resolved.instances["orders"]["subnets"].append("subnet-c")
    assert worker.main.get("subnets").default == ["subnet-a", "subnet-b"]  # type: ignore[union-attr]


def test_environment_inputs_and_default_that_breaks_its_schema(network):
    spec = environment("proton: EnvironmentSpec\nspec:\n  az_count: 2\n")
    resolved = resolve_environment_spec(network, spec)
    assert resolved == ResolvedEnvironment(
        inputs={"vpc_cidr": "10.0.0.0/16", "az_count": 2, "nat": "public"},
        warnings=(
            (
                "input 'nat': the blueprint's default does not fit its schema (expected true or "
                "false, got the string 'public'); it is used as written"
            ),
        ),
    )


def test_environment_problems_name_lines(network):
    spec = environment(
        """\
        proton: EnvironmentSpec
        spec:
          vpc_cidr: 10
          az_count: 9
        """
    )
    error = resolve_error(network, spec)
    assert error.message == "env.yaml: 2 inputs are not valid"
    assert error.details == [
        (
            "env.yaml:3: input 'vpc_cidr': expected a string, got the number 10; quote the value "
            "in YAML to keep it as written"
        ),
        "env.yaml:4: input 'az_count': 9 is greater than the maximum of 3",
        (
            "warning: input 'nat': the blueprint's default does not fit its schema (expected true "
            "or false, got the string 'public'); it is used as written"
        ),
    ]
    assert error.hint == "see the blueprint's inputs with: pcli blueprint show NAME"


def test_single_problem_is_the_message_and_hint_names_the_blueprint(network):
    spec = environment("blueprint: net\nproton: EnvironmentSpec\nspec: {}\n")
    error = resolve_error(network, spec)
    assert error.message == "env.yaml: input 'az_count' is required (type number)"
    assert error.hint == "see the blueprint's inputs with: pcli blueprint show net"


def test_every_problem_across_pipeline_and_instances_at_once(worker):
    spec = service(
        """\
        blueprint: queue-worker
        proton: ServiceSpec
        pipeline:
          build_image: 7
        instances:
          - name: orders
            environment: dev
            spec:
              queue_name: Orders
              concurrency: 64
          - name: billing
            environment: prod
            spec:
              log_level: trace
              packaging_commands: zip
          - name: audit
            environment: prod
        """
    )
    error = resolve_error(worker, spec, has_pipeline=True)
    assert error.message == "svc.yaml: 7 inputs are not valid"
    assert error.details == [
        (
            "svc.yaml:4: pipeline, input 'build_image': expected a string, got the number 7; "
            "quote the value in YAML to keep it as written"
        ),
        "svc.yaml: pipeline, input 'test_command' is required (type string)",
        (
            "svc.yaml:9: instance 'orders', input 'queue_name': 'Orders' must be lower-case "
            "letters and '-' only"
        ),
        "svc.yaml:10: instance 'orders', input 'concurrency': 64 is greater than the maximum of 32",
        (
            "svc.yaml:11: instance 'billing', input 'queue_name' is required (type string: Queue "
            "to poll)"
        ),
        (
            "svc.yaml:14: instance 'billing', input 'log_level': 'trace' is not one of the allowed "
            "values: 'debug', 'info', 'warn'"
        ),
        (
            "svc.yaml:16: instance 'audit', input 'queue_name' is required (type string: Queue to "
            "poll)"
        ),
        (
            "warning: svc.yaml:15: instance 'billing': unknown input 'packaging_commands' is "
            "ignored (did you mean 'packaging_command'?)"
        ),
    ]
    assert error.hint == "see the blueprint's inputs with: pcli blueprint show queue-worker"


def test_unknown_keys_warn_with_close_match_and_are_dropped(worker):
    spec = service(
        """\
        proton: ServiceSpec
        pipeline:
          test_command: pytest
          test_comand: x
        instances:
          - name: orders
            environment: dev
            spec:
              queue_name: orders
              packaging_commands: make zip
              colour: blue
        """
    )
    resolved = resolve_service_spec(worker, spec, has_pipeline=True)
    assert "packaging_commands" not in resolved.instances["orders"]
    assert "colour" not in resolved.instances["orders"]
    assert "test_comand" not in (resolved.pipeline_inputs or {})
    assert resolved.warnings == (
        (
            "svc.yaml:4: pipeline: unknown input 'test_comand' is ignored (did you mean "
            "'test_command'?)"
        ),
        (
            "svc.yaml:10: instance 'orders': unknown input 'packaging_commands' is ignored (did "
            "you mean 'packaging_command'?)"
        ),
        "svc.yaml:11: instance 'orders': unknown input 'colour' is ignored",
    )


def test_pipeline_inputs_for_a_blueprint_without_pipeline_warn(worker):
    spec = service(
        """\
        proton: ServiceSpec
        pipeline:
          test_command: pytest
        instances:
          - {name: orders, environment: dev, spec: {queue_name: orders}}
        """
    )
    resolved = resolve_service_spec(worker, spec, has_pipeline=False)
    assert resolved.pipeline_inputs is None
    assert resolved.warnings == (
        "svc.yaml: pipeline inputs are ignored: the blueprint has no pipeline",
    )


def test_no_pipeline_no_pipeline_inputs(worker):
    spec = service(
        "proton: ServiceSpec\ninstances: [{name: a, environment: d, spec: {queue_name: q}}]\n"
    )
    resolved = resolve_service_spec(worker, spec, has_pipeline=False)
    assert resolved.pipeline_inputs is None
    assert resolved.warnings == ()


def test_pipeline_without_pipeline_type_in_schema(network):
    schema = parse_schema(
        SERVICE_SCHEMA.replace("  pipeline_input_type: BuildInput\n", ""), "s/schema.yaml"
    )
    spec = service(
        "proton: ServiceSpec\npipeline: {a: 1}\n"
        "instances: [{name: a, environment: d, spec: {queue_name: q}}]\n"
    )
    resolved = resolve_service_spec(schema, spec, has_pipeline=True)
    assert resolved.pipeline_inputs == {}
    assert resolved.warnings == (
        "svc.yaml: pipeline inputs are ignored: the schema has no pipeline_input_type",
    )


def test_service_without_instances_is_a_problem(worker):
    spec = service("proton: ServiceSpec\npipeline: {test_command: t}\n")
    error = resolve_error(worker, spec, has_pipeline=True)
    assert error.message == (
        "svc.yaml: the service has no instances; add one under instances: (name, environment)"
    )


def test_current_val_takes_the_previous_value(worker):
    previous = service(
        """\
        proton: ServiceSpec
        pipeline: {test_command: "make check", build_image: "builder:2"}
        instances:
          - {name: orders, environment: dev, spec: {queue_name: orders, concurrency: 12}}
        """
    )
    spec = service(
        """\
        proton: ServiceSpec
        pipeline:
          test_command: "${Proton::CURRENT_VAL}"
          build_image: "${Proton::CURRENT_VAL}"
        instances:
          - name: orders
            environment: dev
            spec:
              queue_name: "${Proton::CURRENT_VAL}"
              concurrency: "${Proton::CURRENT_VAL}"
              log_level: warn
        """
    )
    resolved = resolve_service_spec(worker, spec, previous, has_pipeline=True)
    assert resolved.pipeline_inputs == {"build_image": "builder:2", "test_command": "make check"}
    assert resolved.instances["orders"] == {
        "queue_name": "orders",
        "concurrency": 12,
        "log_level": "warn",
        "subnets": ["subnet-a", "subnet-b"],
    }


def test_current_val_without_previous_value_is_a_problem(worker):
    previous = service(
        "proton: ServiceSpec\n"
        "instances: [{name: orders, environment: dev, spec: {queue_name: orders}}]\n"
    )
    spec = service(
        """\
        proton: ServiceSpec
        instances:
          - name: orders
            environment: dev
            spec:
              queue_name: orders
              concurrency: "${Proton::CURRENT_VAL}"
          - name: billing
            environment: dev
            spec:
              queue_name: "${Proton::CURRENT_VAL}"
        """
    )
    expected = [
        (
            "svc.yaml:7: instance 'orders', input 'concurrency' uses ${Proton::CURRENT_VAL} but "
            "there is no previous value; give a value or pass the previous spec"
        ),
        (
            "svc.yaml:11: instance 'billing', input 'queue_name' uses ${Proton::CURRENT_VAL} but "
            "there is no previous value; give a value or pass the previous spec"
        ),
    ]
    error = resolve_error(worker, spec, previous, has_pipeline=False)
    assert error.message == "svc.yaml: 2 inputs are not valid"
    assert error.details == expected
    error = resolve_error(worker, spec, has_pipeline=False)
    assert error.details == expected


def test_current_val_in_environment_spec(network):
    previous = environment("proton: EnvironmentSpec\nspec: {az_count: 3}\n", "old.yaml")
    spec = environment("proton: EnvironmentSpec\nspec: {az_count: '${Proton::CURRENT_VAL}'}\n")
    assert resolve_environment_spec(network, spec, previous).inputs["az_count"] == 3
    error = resolve_error(network, spec)
    assert error.message == (
        "env.yaml:2: input 'az_count' uses ${Proton::CURRENT_VAL} but there is no previous "
        "value; give a value or pass the previous spec"
    )


def test_spec_kind_must_match_the_blueprint(worker, network):
    env_spec = environment("proton: EnvironmentSpec\nspec: {}\n")
    with pytest.raises(InputError) as caught:
        resolve_environment_spec(worker, env_spec)
    assert caught.value.message == (
        "env.yaml: an EnvironmentSpec cannot use worker/schema/schema.yaml: it is a service "
        "blueprint"
    )
    svc_spec = service("proton: ServiceSpec\ninstances: [{name: a, environment: b}]\n")
    with pytest.raises(InputError) as caught:
        resolve_service_spec(network, svc_spec, has_pipeline=False)
    assert caught.value.message.startswith("svc.yaml: a ServiceSpec cannot use net/schema")


def test_resolve_inputs_returns_problems_and_warnings(worker):
    inputs, problems, warnings = resolve_inputs(
        worker.main,
        {"queue_name": 5, "extra": 1},
        where="instance 'x'",
        previous=None,
    )
    assert inputs == {
        "queue_name": 5,
        "concurrency": 4,
        "log_level": "info",
        "subnets": ["subnet-a", "subnet-b"],
    }
    assert [str(problem) for problem in problems] == [
        (
            "instance 'x', input 'queue_name': expected a string, got the number 5; quote the "
            "value in YAML to keep it as written"
        )
    ]
    assert warnings == ["instance 'x': unknown input 'extra' is ignored"]
