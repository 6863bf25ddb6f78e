"""Least privilege the other way round: every grant of every function's role (each Action x
Resource of its Allow statements, in ``template.yaml`` as SAM translates it) is used by some
scenario of ``tests/integration``, whose calls ``tests.support.iam`` records.

The judgement needs the whole integration tier in the same session: the test runs last
(``runs_last``) and skips, saying why, in a session that ran only part of it."""

import pytest

from devtools.template import ROOT
from devtools.translate import Resolver, SamUnavailableError
from tests.support import iam
from tests.support.tiers import unavailable


@pytest.mark.runs_last
def test_every_permission_a_role_grants_is_used_by_an_integration_scenario(
    request: pytest.FixtureRequest,
) -> None:
    tier = iam.LEDGER.integration
    incomplete = tier.incomplete(str(request.config.rootpath))
    if incomplete is not None:
        pytest.skip(f"judged only in a session that runs all of {tier.folder}: {incomplete}")
    if iam.LEDGER.checks_off is not None:
        pytest.skip(f"the calls were not checked: {iam.LEDGER.checks_off}")

    unused = iam.unused_grants()

    caveat = ""
    if tier.failed or tier.skipped:
        caveat = (
            f" ({len(tier.failed)} integration tests failed and {len(tier.skipped)} were "
            "skipped: their scenarios may have stopped short of these calls)"
        )
    assert not unused, (
        "grants that no scenario of tests/integration used: remove them from template.yaml, "
        f"or add the scenario that needs them{caveat}:\n"
        + "\n".join(f"  - {grant.describe()}" for grant in unused)
    )


def _translation() -> None:
    try:
        iam.translated_template()
    except SamUnavailableError as exc:
        unavailable("the SAM CLI", str(exc))


def test_a_role_no_scenario_used_has_every_grant_reported() -> None:
    _translation()
    ledger = iam.Ledger()

    unused = [g.describe() for g in iam.unused_grants(ledger)]

    assert any(
        text.startswith("IngestFunction: ReadIncoming")
        and "grants s3:GetObject on arn:aws:s3:::" in text
        for text in unused
    ), unused
    assert any(text.startswith("ApiFunction: ReadFeedIndex") for text in unused)
    assert any(text.startswith("DigestSenderFunction: SendDigests") for text in unused)


def test_a_used_grant_is_not_reported() -> None:
    _translation()
    ledger = iam.Ledger()
    template = iam.translated_template()
    role = iam.function_role(template, "ApiFunction", Resolver(template))
    feed_index = next(s for s in role.statements if s.sid == "ReadFeedIndex")

    ledger.record_use(
        "ApiFunction",
        iam.Decision(
            iam.Request("dynamodb:Query", "x"), (iam.Match(feed_index, (0,), (0,)),), None
        ),
    )

    unused = [g.describe() for g in iam.unused_grants(ledger)]
    assert not any(text.startswith("ApiFunction: ReadFeedIndex") for text in unused)
    assert any(text.startswith("ApiFunction: ReadStories") for text in unused)


def _tier(**changes: set[str] | bool) -> iam.TierRun:
    tier = iam.TierRun("tests/integration")
    files = tier.files_on_disk(str(ROOT))
    tier.collected = {f"{f}::test_one" for f in files}
    tier.ran = set(tier.collected)
    for name, value in changes.items():
        setattr(tier, name, value)
    return tier


def test_the_coverage_is_judged_only_when_the_whole_tier_ran() -> None:
    whole = _tier()
    some_file = sorted(whole.collected)[0]

    assert whole.incomplete(str(ROOT)) is None
    assert (
        _tier(skipped={some_file}, ran=whole.collected - {some_file}).incomplete(str(ROOT)) is None
    )
    assert "was not collected whole" in str(
        _tier(collected=whole.collected - {some_file}).incomplete(str(ROOT))
    )
    assert "node ids" in str(_tier(narrowed=True).incomplete(str(ROOT)))
    assert "deselected" in str(_tier(deselected={some_file}).incomplete(str(ROOT)))
    assert "have not run" in str(_tier(ran=whole.collected - {some_file}).incomplete(str(ROOT)))
