"""The rollback guard: triggers evaluated every few seconds, automatic rollback, incident reports."""

from turnout.backend.guard.engine import Evaluation, Guard, watched_color
from turnout.backend.guard.incident import Incident
from turnout.backend.guard.measure import Measurer, Streaks
from turnout.backend.guard.ports import ARMED, DISARMED, TRIPPED

__all__ = ["ARMED", "DISARMED", "TRIPPED", "Evaluation", "Guard", "Incident", "Measurer", "Streaks",
           "watched_color"]
