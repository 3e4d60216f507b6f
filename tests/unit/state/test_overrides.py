"""The `pcli:overrides` tag and where a spec stands against a stack's --param values."""

from __future__ import annotations

from protoncli.deploy.records import DeploymentRecord
from protoncli.state.overrides import (
    COMMITTED,
    HELD,
    NONE,
    REVERTED,
    TAG_LIMIT,
    overrides_of,
    overrides_tag,
    read_overrides_tag,
    standing,
)


def test_the_tag_carries_values_tags_accept_and_names_the_others_by_key():
    values = {"port": 8080, "image": "registry/web:3f2a9c1", "note": "a, b", "debug": True}

    text = overrides_tag(values)

    assert text == "debug=true image=registry/web:3f2a9c1 note port=8080"
    assert read_overrides_tag(text) == {
        "debug": "true",
        "image": "registry/web:3f2a9c1",
        "note": None,
        "port": "8080",
    }


def test_a_tag_too_long_drops_the_longest_values_first():
    text = overrides_tag({"image": "r/" + "x" * 300, "tag": "v1"})

    assert len(text) <= TAG_LIMIT
    assert read_overrides_tag(text) == {"image": None, "tag": "v1"}


def test_the_spec_digest_says_committed_held_or_reverted():
    tags = {
        "pcli:inputs-digest": "file",
        "pcli:overrides-digest": "deployed",
        "pcli:overrides": "image=web:2",
    }

    assert standing(tags, "deployed") == COMMITTED
    assert standing(tags, "file") == HELD
    assert standing(tags, "edited") == REVERTED
    assert standing({"pcli:inputs-digest": "file"}, "file") == NONE


def test_overrides_the_spec_holds_by_value_are_not_shown():
    tags = {"pcli:overrides": "image=web:2 port=81 note"}

    found = overrides_of(tags, {"image": "web:2", "port": 80})

    assert [(o.key, o.deployed, o.declared) for o in found] == [
        ("port", "81", "80"),
        ("note", None, None),
    ]


def test_a_record_written_before_param_reads_with_no_overrides():
    document = {
        "format": 1,
        "stack": "s",
        "region": "us-east-1",
        "identity": {"kind": "service-instance", "service": "web", "instance": "web-dev"},
        "deployment_id": "d",
        "template": "{}",
        "tags": {},
        "started": "2026-01-01T00:00:00+00:00",
        "ended": "2026-01-01T00:00:01+00:00",
        "status": "UPDATE_COMPLETE",
        "outcome": "ok",
    }

    old = DeploymentRecord.from_document("k", document)
    new = DeploymentRecord.from_document("k", {**document, "overrides": {"port": 81}})

    assert old.overrides == {}
    assert new.overrides == {"port": 81}
    assert new.document()["overrides"] == {"port": 81}
