"""The rollback guard: triggers evaluated every few seconds, automatic rollback, incident reports."""

from turnout.backend.guard.engine import ARMED, DISARMED, TRIPPED, Evaluation, Guard, watched_color
from turnout.backend.guard.incident import Incident
from turnout.backend.guard.measure import Measurer, Streaks

__all__ = ["ARMED", "DISARMED", "TRIPPED", "Evaluation", "Guard", "Incident", "Measurer", "Streaks",
           "watched_color"]
