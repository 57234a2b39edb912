"""A two-column sheet (names beside e-mails, a row number before each name) has its names masked:
found by the generated recording, where the names leaked into the text layer and the report."""

from __future__ import annotations

from veil.api import build_pipeline, redact_image
from veil.mining.synth_video import TASKS, sheet_pixels
from veil.options import Policy
from veil.synth.fakedata import FakeData


def test_every_name_of_a_two_column_sheet_is_masked() -> None:
    task = next(t for t in TASKS if len(t.fields) == 2)
    fake = FakeData(13)
    rows = [[fake.name("en").text, fake.value("email", "en").text] for _ in range(12)]
    policy = Policy()
    _pixels, result = redact_image(
        sheet_pixels(task, rows, 0, None, toast=False), policy, build_pipeline(policy)
    )
    names = [f for f in result.findings if f.type == "person_name"]
    emails = [f for f in result.findings if f.type == "email"]
    assert len(emails) >= 10 and len(names) >= len(emails)
