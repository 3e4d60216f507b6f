"""What a change set shows of values: property changes masked where they would show a secret,
inputs compared as last deployed and now, secret inputs never in clear."""

from __future__ import annotations

from protoncli.deploy.explain import compare_inputs, masked, shown_value
from protoncli.deploy.model import InputChange, PropertyChange
from protoncli.schema.secrets import SecretMask

PASSWORD = "correct-horse-battery"  # noqa: S105 - a test value, the secret that must not show
REFERENCE = "{{resolve:secretsmanager:pcli/acme/env/dev/db_password:SecretString}}"
MASK = SecretMask.of([PASSWORD])


def detail(before, after, path="/Properties/MasterUserPassword"):
    return PropertyChange(
        path=path,
        attribute="Properties",
        name=path.rsplit("/", 1)[-1],
        change_type="Modify",
        before=before,
        after=after,
        requires_recreation="Never",
    )


def test_values_that_show_no_secret_are_kept():
    change = detail("30", "60", "/Properties/VisibilityTimeout")
    assert masked(change, MASK) == change


def test_a_value_holding_a_secret_input_s_plain_value_hides_both_sides():
    """The value before may be the secret as it was (which pcli never knew): both go."""
    change = masked(detail("old-secret-value", PASSWORD), MASK)
    assert (change.before, change.after) == ("****", "****")
    inside = masked(detail(None, f'{{"password": "{PASSWORD}"}}', "/Properties/Config"), MASK)
    assert (inside.before, inside.after) == (None, "****")


def test_a_reference_replacing_a_plain_value_hides_the_plain_value():
    """A spec moved from a plain secret (Proton's) to a reference: the value before is the
    secret, which no mask knows any more."""
    change = masked(detail("old-plain-secret", REFERENCE), SecretMask())
    assert (change.before, change.after) == ("****", REFERENCE)
    back = masked(detail(REFERENCE, "new-plain-secret"), SecretMask())
    assert (back.before, back.after) == (REFERENCE, "****")


def test_references_on_both_sides_are_shown():
    other = REFERENCE.replace(":SecretString", ":SecretString:::v2")
    change = masked(detail(REFERENCE, other), SecretMask())
    assert (change.before, change.after) == (REFERENCE, other)


def test_values_cloudformation_masks_stay_masked():
    change = masked(detail("****", "****"), SecretMask())
    assert (change.before, change.after) == ("****", "****")


def test_a_dynamic_change_without_values_stays_without():
    change = PropertyChange(
        path="/Properties/KmsKeyId",
        attribute="Properties",
        name="KmsKeyId",
        change_type="Modify",
        before=None,
        after=None,
        requires_recreation="Always",
        evaluation="Dynamic",
        causing_entity="Key.Arn",
    )
    assert masked(change, MASK) == change


def test_inputs_changed_added_and_removed_in_spec_order():
    before = {"team": "core", "retention": 60, "legacy": True}
    after = {"retention": 120, "team": "core", "owner": "web"}

    found = compare_inputs(before, after)

    assert found.known
    assert found.changed == (InputChange("retention", 60, 120),)
    assert found.added == (InputChange("owner", None, "web"),)
    assert found.removed == (InputChange("legacy", before=True),)
    assert compare_inputs(before, before).none_changed


def test_secret_inputs_show_as_references_or_masked_never_in_clear():
    secret = frozenset({"db_password"})
    new_reference = REFERENCE.replace("SecretString", "SecretString:::v2")

    to_reference = compare_inputs(
        {"db_password": PASSWORD}, {"db_password": REFERENCE}, secret=secret
    )
    to_plain = compare_inputs({"db_password": REFERENCE}, {"db_password": PASSWORD}, secret=secret)
    rotated = compare_inputs(
        {"db_password": REFERENCE}, {"db_password": new_reference}, secret=secret
    )
    added = compare_inputs({}, {"db_password": PASSWORD}, secret=secret)

    assert to_reference.changed == (InputChange("db_password", "****", REFERENCE),)
    assert to_plain.changed == (InputChange("db_password", REFERENCE, "****"),)
    assert rotated.changed == (InputChange("db_password", REFERENCE, new_reference),)
    assert added.added == (InputChange("db_password", None, "****"),)
    assert PASSWORD not in repr((to_reference, to_plain, rotated, added))


def test_a_secret_the_record_masked_is_not_compared_with_its_plain_value():
    """A record keeps `****` for a plain secret value: whether it changed cannot be told."""
    found = compare_inputs(
        {"db_password": "****"}, {"db_password": PASSWORD}, secret=frozenset({"db_password"})
    )
    assert found.none_changed


def test_a_value_that_shows_a_secret_s_plain_value_is_masked_wherever_it_is():
    assert shown_value(f"user:{PASSWORD}", secret=False, mask=MASK) == "****"
    assert shown_value(["a", PASSWORD], secret=False, mask=MASK) == "****"
    assert shown_value("plain", secret=False, mask=MASK) == "plain"
    assert shown_value(None, secret=True, mask=MASK) is None
