"""What `create_environment` and `create_service` offer and check while asking, through a scripted
prompter (a person typing answers), with a real workspace and registry:

- the blueprint and version questions offer what pcli can use first; the others come after,
  with the reason beside them, and cannot be chosen; a version named by a flag that pcli cannot
  use is refused before any input is asked;
- an answer AWS would certainly refuse (a subnet outside the VPC's range) is refused at the
  question, with the reason;
- each instance's questions, and the pipeline's, come under a heading.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from protoncli.aws.session import SessionFactory
from protoncli.blueprints.registry import Registry
from protoncli.deploy.environments import create_environment
from protoncli.deploy.project import Project
from protoncli.deploy.service_create import create_service
from protoncli.errors import UsageError
from protoncli.workspace.model import init_workspace

REPO = Path(__file__).resolve().parents[3]
MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
TERRAFORM_MANIFEST = """\
infrastructure:
  templates:
    - file: "*"
      rendering_engine: hcl
      template_language: terraform
"""
MANAGED_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: ManagedInput
  types:
    ManagedInput:
      type: object
      properties:
        team: {type: string, title: Team, default: core}
"""
TEMPLATE = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
TEAM_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: TeamInput
  types:
    TeamInput:
      type: object
      required: [team]
      properties:
        team: {type: string, title: Team, pattern: "^[a-z][a-z0-9-]*$"}
"""
WEB_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  service_input_type: WebInput
  pipeline_input_type: PipelineInput
  types:
    WebInput:
      type: object
      required: [owner]
      properties:
        owner: {type: string}
    PipelineInput:
      type: object
      properties:
        stage: {type: string, default: test}
"""
DEFAULT = object()  # Enter on what is pre-filled


class Typist:
    """Answers each question with the next entry of its script: text is typed (a refused text
    is recorded with its reason and the next entry typed), a select is answered by a choice's
    value (refused like a person's pick of a disabled choice), a checkbox by a list of values."""

    def __init__(self, *script):
        self.script = list(script)
        self.asked = []
        self.refused = []

    def ask(self, question):
        self.asked.append(question)
        while True:
            answer = self.script.pop(0)
            if question.kind in ("checkbox", "confirm"):
                return question.default if answer is DEFAULT else answer
            if question.kind == "select":
                value = question.default if answer is DEFAULT else answer
                reason = question.check_answer(value)
            else:
                text = question.default_text if answer is DEFAULT else answer
                reason = question.validate(text)
                value = None if reason else question.answer(text)
            if reason is None:
                return value
            self.refused.append((question.key, reason))

    def show_summary(self, _title, _rows):
        return True

    def question(self, key):
        return next(q for q in self.asked if q.key == key)


def publish(registry, tmp_path, name, files, *, major=False, draft=False):
    bundle = tmp_path / "bundles" / name
    if bundle.exists():
        shutil.rmtree(bundle)
    for path, text in files.items():
        (bundle / path).parent.mkdir(parents=True, exist_ok=True)
        (bundle / path).write_text(text)
    return registry.publish(bundle, name=name, major=major, draft=draft).version


def cloudformation_env(schema=TEAM_SCHEMA, comment=""):
    return {
        "schema/schema.yaml": schema,
        "infrastructure/manifest.yaml": MANIFEST,
        "infrastructure/cloudformation.yaml": TEMPLATE + comment,
    }


def terraform_env(schema=TEAM_SCHEMA):
    return {
        "schema/schema.yaml": schema,
        "infrastructure/manifest.yaml": TERRAFORM_MANIFEST,
        "infrastructure/main.tf": 'resource "null_resource" "x" {}\n',
    }


def managed_env():
    """An environment with no infrastructure of its own (customer-managed): schema/ only."""
    return {"schema/schema.yaml": MANAGED_SCHEMA}


@pytest.fixture
def project(tmp_path):
    """team-env (CloudFormation), a-tf-env (Terraform), b-draft-env (a draft only), managed-env
    (no infrastructure: provisioned elsewhere)."""
    workspace = init_workspace(tmp_path / "ws", name="demo", region="us-east-1", registry=None)
    registry = Registry(tmp_path / "reg")
    publish(registry, tmp_path, "team-env", cloudformation_env())
    publish(registry, tmp_path, "a-tf-env", terraform_env())
    publish(registry, tmp_path, "b-draft-env", cloudformation_env(), draft=True)
    publish(registry, tmp_path, "managed-env", managed_env())
    return Project(workspace, registry, SessionFactory())


MANAGED_REASON = "no infrastructure (provisioned elsewhere): nothing for pcli to deploy"
PROVISIONING_HINT = (
    "choose a blueprint with infrastructure (CloudFormation, Terraform or CodeBuild), or give "
    "--no-deploy to write the spec file only"
)


def test_the_blueprint_question_offers_what_pcli_deploys_first(project):
    typist = Typist("team-env", "core")

    record = create_environment(project, "dev", None, prompter=typist, deploy=True)

    choices = typist.question("blueprint").choices
    assert [(c.value, c.title, c.disabled) for c in choices] == [
        ("a-tf-env", "a-tf-env", None),  # Terraform: pcli deploys it too
        ("team-env", "team-env", None),
        ("b-draft-env", "b-draft-env (drafts only)", None),
        ("managed-env", "managed-env", MANAGED_REASON),
    ]
    assert typist.question("blueprint").default == "a-tf-env"  # the first pcli can deploy
    assert record.blueprint == "team-env"


def test_a_blueprint_pcli_cannot_deploy_cannot_be_chosen(project):
    typist = Typist("managed-env", "team-env", "core")

    create_environment(project, "dev", None, prompter=typist, deploy=True)

    assert typist.refused == [("blueprint", MANAGED_REASON)]


def test_with_no_deploy_every_blueprint_can_be_chosen(project):
    typist = Typist("managed-env", "core")

    record = create_environment(project, "dev", None, prompter=typist)

    choices = typist.question("blueprint").choices
    assert [c.disabled for c in choices] == [None, None, None, None]
    assert record.blueprint == "managed-env"


def test_a_blueprint_named_by_a_flag_is_refused_before_any_input_is_asked(project):
    typist = Typist()  # nothing may be asked

    with pytest.raises(UsageError) as raised:
        create_environment(project, "dev", "managed-env", prompter=typist, deploy=True)

    assert raised.value.message == (
        f"blueprint managed-env@1.0 cannot be used here: {MANAGED_REASON}"
    )
    assert raised.value.hint == PROVISIONING_HINT
    assert typist.asked == []
    assert not (project.workspace.root / "environments" / "dev.yaml").exists()


def test_the_version_question_offers_deployable_versions_first(project, tmp_path):
    publish(project.registry, tmp_path, "team-env", managed_env(), major=True)  # 2.0
    typist = Typist("team-env", DEFAULT, "core")

    record = create_environment(project, "dev", None, prompter=typist, deploy=True)

    version = typist.question("version")
    assert [(c.title, c.disabled) for c in version.choices] == [
        ("1.0", None),
        ("2.0 (recommended)", MANAGED_REASON),
    ]
    assert version.default == "1.0"
    assert record.version == "1.0"


def test_no_blueprint_pcli_can_deploy_is_said_at_once(tmp_path):
    workspace = init_workspace(tmp_path / "ws", name="demo", region="us-east-1", registry=None)
    registry = Registry(tmp_path / "reg")
    publish(registry, tmp_path, "managed-env", managed_env())
    typist = Typist()

    with pytest.raises(UsageError) as raised:
        create_environment(
            Project(workspace, registry, SessionFactory()),
            "dev",
            None,
            prompter=typist,
            deploy=True,
        )

    assert raised.value.message == (
        f"no environment blueprint of registry {registry.root} can be used here"
    )
    assert raised.value.details == [f"managed-env: {MANAGED_REASON}"]
    assert raised.value.hint == PROVISIONING_HINT
    assert typist.asked == []


@pytest.fixture
def services(project, tmp_path):
    """web-svc runs on team-env:1 (two such environments here), far-svc on other-env:1 (none)."""
    for name, runs_on in (("web-svc", "team-env:1"), ("far-svc", "other-env:1")):
        files = {
            ".template-registration.yaml": f"compatible_environments:\n  - {runs_on}\n",
            "schema/schema.yaml": WEB_SCHEMA,
            "instance_infrastructure/manifest.yaml": MANIFEST,
            "instance_infrastructure/cloudformation.yaml": TEMPLATE,
            "pipeline_infrastructure/manifest.yaml": MANIFEST,
            "pipeline_infrastructure/cloudformation.yaml": TEMPLATE,
        }
        publish(project.registry, tmp_path, name, files)
    for env in ("dev", "prod"):
        create_environment(project, env, "team-env", params={"team": "a"})
    return project


def test_a_service_blueprint_no_environment_here_runs_is_listed_last_with_why(services):
    typist = Typist("far-svc", "web-svc", ["dev"], DEFAULT, "ops", DEFAULT)

    create_service(services, "web", None, instances=[], prompter=typist)

    choices = typist.question("blueprint").choices
    assert [(c.value, c.disabled) for c in choices] == [
        ("web-svc", None),
        ("far-svc", "runs on other-env:1: no environment here does"),
    ]
    assert typist.refused == [("blueprint", "runs on other-env:1: no environment here does")]


def test_with_instances_given_a_service_blueprint_must_run_in_their_environments(services):
    typist = Typist("web-svc", "ops", DEFAULT)

    create_service(services, "web", None, instances=[("web-dev", "dev")], prompter=typist)

    choices = typist.question("blueprint").choices
    assert [(c.value, c.disabled) for c in choices] == [
        ("web-svc", None),
        ("far-svc", "does not run in environment dev (team-env:1)"),
    ]


def test_each_instance_and_the_pipeline_are_asked_under_a_heading(services):
    typist = Typist(["dev", "prod"], DEFAULT, DEFAULT, "ops", "ops", "qa")

    create_service(services, "web", "web-svc", instances=[], prompter=typist)

    headed = [(q.key, q.heading) for q in typist.asked if q.heading]
    assert headed == [
        ("instances.web-dev.inputs.owner", "Instance web-dev (environment dev)"),
        ("instances.web-prod.inputs.owner", "Instance web-prod (environment prod)"),
        ("pipeline.stage", "Pipeline"),
    ]


# --- answers checked with the other inputs -------------------------------------------------------


@pytest.fixture
def vpc_project(tmp_path):
    workspace = init_workspace(tmp_path / "ws", name="demo", region="us-east-1", registry=None)
    registry = Registry(tmp_path / "reg")
    registry.publish(REPO / "blueprints" / "vpc-ecs-env" / "v1", name="vpc-ecs-env")
    return Project(workspace, registry, SessionFactory())


def test_a_subnet_outside_the_vpc_range_is_refused_at_its_question(vpc_project):
    typist = Typist(
        "10.1.0.0/16",  # vpc_cidr
        "10.1.0.0/24",  # public_subnet_one_cidr
        "10.0.1.0/24",  # public_subnet_two_cidr: outside 10.1.0.0/16
        "10.1.0.128/25",  # overlaps the first subnet
        "10.1.1.0/24",
        DEFAULT,  # load_balancer_ingress_cidr
        DEFAULT,  # log_retention_days
        DEFAULT,  # container_insights
    )

    record = create_environment(vpc_project, "dev", "vpc-ecs-env", prompter=typist)

    assert typist.refused == [
        (
            "inputs.public_subnet_two_cidr",
            "'10.0.1.0/24' is not inside the VPC's range 10.1.0.0/16 (input 'vpc_cidr')",
        ),
        (
            "inputs.public_subnet_two_cidr",
            (
                "'10.1.0.128/25' overlaps the subnet range 10.1.0.0/24 (input "
                "'public_subnet_one_cidr') in the same VPC"
            ),
        ),
    ]
    assert record.spec.inputs["public_subnet_two_cidr"] == "10.1.1.0/24"


def test_a_vpc_answer_is_checked_against_the_subnets_given(vpc_project):
    typist = Typist("10.0.0.5/16", "192.168.0.0/16", "10.0.0.0/16", DEFAULT, DEFAULT, DEFAULT)

    create_environment(
        vpc_project,
        "dev",
        "vpc-ecs-env",
        params={"public_subnet_one_cidr": "10.0.4.0/24", "public_subnet_two_cidr": "10.0.5.0/24"},
        prompter=typist,
    )

    assert typist.refused == [
        (
            "inputs.vpc_cidr",
            (
                "'10.0.0.5/16' has host bits set; AWS takes only the range's first address: "
                "10.0.0.0/16"
            ),
        ),
        (
            "inputs.vpc_cidr",
            (
                "'192.168.0.0/16' does not contain the subnet range 10.0.4.0/24 (input "
                "'public_subnet_one_cidr'); '192.168.0.0/16' does not contain the subnet range "
                "10.0.5.0/24 (input 'public_subnet_two_cidr')"
            ),
        ),
    ]
    help_text = typist.question("inputs.vpc_cidr").help
    assert help_text == (
        "Address range of the VPC, from /16 to /24; an IPv4 address range (CIDR) such as "
        "10.0.0.0/16, with a prefix from /16 to /24"
    )
