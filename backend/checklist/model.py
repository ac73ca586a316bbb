"""The checklist's records (`CheckItem`, `Checklist`, the `Manifests` read), and the helpers
every object kind's rules share: fields by dotted path, quantities, label selectors, values
made inert for display, and `Items`, the items being gathered."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import msgspec

from turnout.backend.models import Color
from turnout.backend.sanitize import inert

Status = Literal["pass", "warn", "fail"]
RANK: dict[str, int] = {"pass": 0, "warn": 1, "fail": 2}
Json = Mapping[str, Any]

PSS_LABEL = "pod-security.kubernetes.io/enforce"


class CheckItem(msgspec.Struct, frozen=True, kw_only=True):
    """One rule of the checklist on one object."""

    item: str
    """The rule, in the operator's words (`liveness probe`, `PodDisruptionBudget`)."""
    status: Status
    object: str
    """`kind/name` of the object at fault (or the one that satisfies the rule)."""
    field: str
    """The field the rule reads, as kubectl explain spells it."""
    expected: str
    actual: str


class Checklist(msgspec.Struct, frozen=True, kw_only=True):
    """Every item of one app's checklist; `status` is the worst of them."""

    app: str
    namespace: str
    context: str
    items: tuple[CheckItem, ...]

    @property
    def status(self) -> Status:
        """The worst item's status (an empty checklist cannot pass)."""
        if not self.items:
            return "fail"
        worst = max(self.items, key=lambda i: RANK[i.status])
        return worst.status

    @property
    def failed(self) -> tuple[CheckItem, ...]:
        """The items that fail."""
        return tuple(i for i in self.items if i.status == "fail")


class Manifests(msgspec.Struct, frozen=True):
    """What the checklist reads about one app, as the API server returned it."""

    app: str
    namespace: str
    live: Color
    deployments: Mapping[Color, Json | None]
    hpas: Sequence[Json] = ()
    pdbs: Sequence[Json] = ()
    policies: Sequence[Json] = ()
    ingresses: Sequence[Json] = ()
    namespace_labels: Mapping[str, str] | None = None
    """None when the Namespace could not be read (see `unreadable`)."""
    live_service: str = ""
    gateway: bool = False
    """The app is routed by an HTTPRoute: TLS ends at its Gateway, not an Ingress."""
    unreadable: Mapping[str, str] = msgspec.field(default_factory=dict)
    """Kinds that could not be read (`horizontalpodautoscalers` -> the reason)."""


def get(obj: Json | None, path: str) -> Any:
    """A nested field by dotted path; None when any step is missing."""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    return cur


def name(obj: Json) -> str:
    return str(get(obj, "metadata.name") or "")


def ref(kind: str, obj: Json) -> str:
    return f"{kind}/{name(obj)}"


# --- quantities --------------------------------------------------------------

_SUFFIX = {"": 1.0, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
           "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")


def quantity(text: object) -> float | None:
    """A Kubernetes resource quantity (`200m`, `0.5`, `256Mi`) as a number; None if not one."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str):
        return None
    found = _QUANTITY.match(text.strip())
    if found is None:
        return None
    return float(found.group(1)) * _SUFFIX[found.group(2) or ""]


def show(value: object) -> str:
    """A value as the checklist shows it: outside text made inert, absent as `unset`."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    return inert(str(value), single_line=True)


# --- items --------------------------------------------------------------------

class Items(msgspec.Struct):
    """The items being gathered, with one helper per status rule."""

    out: list[CheckItem] = msgspec.field(default_factory=list)

    def add(self, item: str, status: Status, obj: str, path: str, expected: str,
            actual: object) -> None:
        self.out.append(CheckItem(item=item, status=status, object=inert(obj, single_line=True),
                                  field=inert(path, single_line=True), expected=expected,
                                  actual=show(actual)))

    def equal(self, item: str, obj: str, path: str, expected: object, actual: object, *,
              missing: Status = "fail", differs: Status = "warn") -> None:
        """Pass when `actual == expected`; `missing` when unset, `differs` otherwise."""
        status: Status = ("pass" if actual == expected else missing if actual is None else differs)
        self.add(item, status, obj, path, show(expected), actual)


def selects(selector: Json | None, labels: Mapping[str, str]) -> bool:
    """Whether a LabelSelector matches `labels` (an empty selector matches everything)."""
    if not isinstance(selector, Mapping):
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(_expression(e, labels) for e in selector.get("matchExpressions") or [])


def _expression(expr: Json, labels: Mapping[str, str]) -> bool:
    key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    present = key in labels
    checks: dict[str, Callable[[], bool]] = {
        "In": lambda: present and labels[str(key)] in values,
        "NotIn": lambda: not present or labels[str(key)] not in values,
        "Exists": lambda: present, "DoesNotExist": lambda: not present}
    return checks.get(str(op), lambda: False)()


def pod_labels(dep: Json) -> Mapping[str, str]:
    labels = get(dep, "spec.template.metadata.labels")
    return labels if isinstance(labels, Mapping) else {}


def lines(checklist: Checklist) -> Iterator[str]:
    """The checklist as plain lines (the CLI's table and the TUI's panel share them)."""
    icon = {"pass": "✓", "warn": "!", "fail": "✗"}
    for i in checklist.items:
        tail = "" if i.status == "pass" else f" (expected {i.expected}, found {i.actual})"
        yield f"{icon[i.status]} {i.status:<4} {i.item}: {i.object} {i.field}{tail}"
