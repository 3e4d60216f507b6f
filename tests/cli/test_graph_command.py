"""`pcli graph` against a real moto server: the fleet's items with the outputs that flow between
them, coloured by state, in Mermaid and in DOT (parsed by pydot, so it is valid Graphviz)."""

from __future__ import annotations

import warnings

import pydot
import yaml
from tests.cli.test_component_status_commands import TINY_ENV, TINY_SVC, ok

INSTANCE_READS = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: "{{ service.name }}-{{ service_instance.name }}"
      Tags:
        - Key: topic
          Value: "{{ environment.outputs.TopicArn }}"
Outputs:
  QueueUrl:
    Value: !Ref Queue
"""
PIPELINE_READS = """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  Queues:
    Value: "{% for i in service_instances %}{{ i.outputs.QueueUrl }} {% endfor %}"
"""


def fleet(cli, tmp_path, write_files):
    svc = dict(TINY_SVC)
    svc["instance_infrastructure/cloudformation.yaml"] = INSTANCE_READS
    svc["pipeline_infrastructure/cloudformation.yaml"] = PIPELINE_READS
    for name, files in (("tiny-env", TINY_ENV), ("tiny-svc", svc)):
        ok(cli("blueprint", "publish", str(write_files(tmp_path / name, files)), "--name", name))
    ok(cli("env", "create", "dev", "-b", "tiny-env", "--yes"))
    ok(cli("env", "create", "qa", "-b", "tiny-env", "--yes"))
    instances = ["-i", "web-dev=dev", "-i", "web-qa=qa"]
    source = ["--repository", "acme/web", "--branch", "main"]
    ok(cli("svc", "create", "web", "-b", "tiny-svc", *instances, *source, "--yes"))


def test_the_mermaid_graph_names_the_outputs_that_flow_and_the_state_of_each_item(
    cli, tmp_path, write_files
):
    fleet(cli, tmp_path, write_files)
    drawn = ok(cli("graph")).stdout.splitlines()
    assert drawn[0] == "flowchart LR"
    assert '  subgraph env_dev["environment dev"]' in drawn
    assert '    environment__dev["dev<br/>tiny-env@1.0"]:::up_to_date' in drawn
    assert '    service_instance__web_web_dev("web/web-dev<br/>tiny-svc@1.0"):::up_to_date' in drawn
    assert '  pipeline__web[["web<br/>tiny-svc@1.0"]]:::up_to_date' in drawn
    assert '  environment__dev -->|"TopicArn"| service_instance__web_web_dev' in drawn
    assert '  service_instance__web_web_qa -->|"QueueUrl"| pipeline__web' in drawn
    assert "  classDef up_to_date fill:#d4edda,stroke:#2e7d32" in drawn

    only = ok(cli("graph", "--env", "qa")).stdout
    assert "web_web_qa" in only
    assert "pipeline__web" in only  # its service has an instance in qa
    assert "environment__dev" not in only
    assert "web_web_dev" not in only


def test_the_dot_graph_is_valid_graphviz_and_shows_orphans_and_pending_items(
    cli, tmp_path, write_files
):
    fleet(cli, tmp_path, write_files)
    # web-qa leaves the spec (its stack is an orphan); dev's environment spec changes (pending)
    spec = cli.workspace / "services" / "web.yaml"
    document = yaml.safe_load(spec.read_text())
    document["instances"] = [i for i in document["instances"] if i["name"] != "web-qa"]
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    env_spec = cli.workspace / "environments" / "dev.yaml"
    document = yaml.safe_load(env_spec.read_text())
    document["spec"] = {"team": "platform"}
    env_spec.write_text(yaml.safe_dump(document, sort_keys=False))

    drawn = ok(cli("graph", "--format", "dot")).stdout
    with warnings.catch_warnings():  # pydot's parser calls pyparsing's old names
        warnings.simplefilter("ignore", DeprecationWarning)
        (parsed,) = pydot.graph_from_dot_data(drawn)
    nodes = {node.get_name(): node for sub in parsed.get_subgraphs() for node in sub.get_nodes()}
    nodes |= {node.get_name(): node for node in parsed.get_nodes()}
    orphan = nodes["service_instance__web_web_qa"]
    assert "dashed" in orphan.get("style")
    assert orphan.get("fillcolor") == '"#eeeeee"'
    assert nodes["environment__dev"].get("fillcolor") == '"#fff3cd"'  # pending
    edges = {(e.get_source(), e.get_destination()): e.get("label") for e in parsed.get_edges()}
    assert edges[("environment__qa", "service_instance__web_web_qa")] == '"TopicArn"'
    assert ("service_instance__web_web_dev", "pipeline__web") in edges


def test_an_unknown_environment_is_a_usage_error(cli, tmp_path, write_files):
    fleet(cli, tmp_path, write_files)
    refused = cli("graph", "--env", "prod")
    assert refused.exit_code == 2, refused.output
    assert "no environment 'prod'" in refused.output
    assert "its environments: dev, qa" in refused.output
