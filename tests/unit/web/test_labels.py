"""Every internal value a page can show has a human label (issue 11, item 2)."""

from __future__ import annotations

import pytest
from jinja2 import Environment

from airlock.web import labels


@pytest.mark.parametrize("vocabulary", sorted(labels.sources()))
def test_every_value_defined_in_code_has_a_label_and_no_label_is_stale(vocabulary: str) -> None:
    values = set(labels.sources()[vocabulary])
    assert values, f"no values found for {vocabulary}"
    written = set(labels.LABELS.get(vocabulary, {}))
    assert values - written == set(), f"{vocabulary}: values without a label"
    assert written - values == set(), f"{vocabulary}: labels for values that no longer exist"
    for value in values:
        text = labels.label(value, vocabulary)
        assert text and "_" not in text and text[0].isupper(), f"{vocabulary}.{value}: {text!r}"


def test_every_move_of_a_submission_or_participation_has_an_action_name() -> None:
    for vocabulary in ("submission", "participation"):
        for value in labels.sources()[vocabulary]:
            name = labels.ACTIONS[vocabulary][value]
            assert name != labels.label(value, vocabulary), f"{value}: a state, not an action"
    assert labels.action("accepted") == "Accept submission"
    assert labels.action("in_review") == "Start review"
    assert labels.action("returned") == "Return to firm"


def test_roles_are_offered_least_powerful_first() -> None:
    for role in labels.sources()["role"]:
        assert role in labels.ROLE_POWER
    assert labels.least_powerful_first(["developer_admin", "developer_member"])[0] == (
        "developer_member"
    )
    assert labels.least_powerful_first(["agency_admin", "coordinator", "auditor", "reviewer"]) == [
        "auditor",
        "reviewer",
        "coordinator",
        "agency_admin",
    ]


def test_dossier_paths_read_as_section_and_field_titles() -> None:
    sep = labels.SEPARATOR
    assert labels.field_title("sections.B.versions[1].authenticity_hashes[2].digest") == sep.join(
        ["B. Model identity", "Versions 1", "Authenticity hashes 2", "Digest"]
    )
    assert labels.field_title("sections.A.developer_name.value") == sep.join(
        ["A. Developer and submission", "Developer name"]
    )
    assert labels.field_title("sections.D.training_flop") == sep.join(
        ["D. Training and compute", "Training FLOP"]
    )
    assert labels.field_title("versions[1].version", section="B") == sep.join(
        ["Versions 1", "Version"]
    )


def test_unknown_values_become_words_not_raw_identifiers() -> None:
    assert labels.label("some_new_state", "submission") == "Some new state"
    assert labels.label(None, "role") == ""


def test_the_filters_render_in_templates() -> None:
    env = Environment(autoescape=True)
    labels.install(env)
    out = env.from_string(
        "{{ 'in_review'|label('submission') }}|{{ 'agency_admin'|label('role') }}|"
        "{{ 'self_reported'|label('provenance') }}|{{ 'restricted'|label('disclosure') }}|"
        "{{ 'accepted'|action }}|{{ 'block'|tone }}"
    ).render()
    assert out == (
        "In review|Agency administrator|Self-reported|Named reviewers only|Accept submission|bad"
    )


def test_a_confirmation_is_only_ever_one_of_the_fixed_notices() -> None:
    from airlock.web.pages.render import redirect

    assert redirect("/portal", done="saved").headers["location"] == "/portal?done=saved"
    assert redirect("/review?state=x", done="moved").headers["location"].endswith("&done=moved")
    with pytest.raises(ValueError, match="unknown confirmation"):
        redirect("/portal", done="<script>")
