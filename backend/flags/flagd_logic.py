"""Segments as flagd JSON-logic, and back, refusing what would change meaning.

A Turnout segment matches a listed user key, or a context satisfying every
condition (an AND of conditions, each an OR over its values). The JSON-logic
read back must be exactly that shape: an `or` across different tests, an
`and` inside an `or`, a `!` around anything but `in`, or any other operator
cannot be held by a segment and is refused with its JSON path rather than
read as something it is not. Evaluation of what is accepted equals
flagd-core's (json-logic `in`, `!`, `and`, `or`, flagd's `starts_with` and
`ends_with`): a missing or non-string attribute never matches a test, and
always matches a `!in`.
"""

from __future__ import annotations

import json
from typing import Any

from turnout.backend.errors import InvalidInput
from turnout.backend.flags.model import Condition, Op, Segment

JsonLogic = dict[str, Any]
KEY_VAR = {"var": "targetingKey"}
_MULTI_VALUE_OPS = ("starts_with", "ends_with", "in")


def bad(path: str, message: str) -> InvalidInput:
    """The refusal of a construct, naming its JSON path."""
    return InvalidInput(f"{path}: {message}")


def _short(logic: Any) -> str:
    text = json.dumps(logic, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


# --- export ---------------------------------------------------------------


def condition_logic(condition: Condition) -> JsonLogic:
    """JSON-logic true when the context satisfies `condition`."""
    attr = {"var": condition.attribute}
    if condition.op in ("in", "not_in"):
        test: JsonLogic = {"in": [attr, list(condition.values)]}
        return test if condition.op == "in" else {"!": test}
    tests: list[JsonLogic] = [{condition.op: [attr, value]} for value in condition.values]
    return tests[0] if len(tests) == 1 else {"or": tests}


def segment_logic(segment: Segment) -> JsonLogic:
    """JSON-logic true for members of `segment`."""
    users = {"in": [KEY_VAR, list(segment.users)]}
    conditions = [condition_logic(c) for c in segment.conditions]
    if not conditions:
        return users
    matched = conditions[0] if len(conditions) == 1 else {"and": conditions}
    return {"or": [users, matched]} if segment.users else matched


# --- import ---------------------------------------------------------------


def operation(logic: Any, path: str) -> tuple[str, list[Any]]:
    """The single operator of a JSON-logic object and its arguments as a list."""
    if not isinstance(logic, dict) or len(logic) != 1:
        raise bad(path, f"expected one JSON-logic operation, got {_short(logic)}")
    ((op, args),) = logic.items()
    return op, args if isinstance(args, list) else [args]


def _var_of(arg: Any, path: str) -> str:
    if isinstance(arg, dict) and list(arg) == ["var"] and isinstance(arg["var"], str) and arg["var"]:
        return arg["var"]
    raise bad(path, f"expected {{'var': NAME}}, got {_short(arg)}")


def user_list(logic: Any) -> tuple[str, ...] | None:
    """The keys of `{"in": [{"var": "targetingKey"}, [...]]}`, else None."""
    if not (isinstance(logic, dict) and list(logic) == ["in"] and isinstance(logic["in"], list)):
        return None
    args = logic["in"]
    keys = args[1] if len(args) == 2 and args[0] == KEY_VAR else None
    if isinstance(keys, list) and all(isinstance(u, str) for u in keys):
        return tuple(keys)
    return None


def _strings(values: Any, path: str) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise bad(path, f"values must be a list of strings, got {_short(values)}")
    return tuple(values)


def _test(logic: Any, path: str) -> Condition:
    """One test: `in`, `!in`, `starts_with` or `ends_with` on one attribute."""
    op, args = operation(logic, path)
    if op == "!":
        if len(args) != 1:
            raise bad(f"{path}.!", "'!' takes one argument")
        inner = _test(args[0], f"{path}.!")
        if inner.op != "in":
            raise bad(f"{path}.!", f"only '!' around 'in' can be held, not around '{inner.op}'")
        return Condition(inner.attribute, "not_in", inner.values)
    if op == "in":
        if len(args) != 2:
            raise bad(f"{path}.in", "'in' takes [{'var': NAME}, [values]]")
        # A string haystack would be a substring test: not a list of values.
        return Condition(_var_of(args[0], f"{path}.in[0]"), "in", _strings(args[1], f"{path}.in[1]"))
    if op in ("starts_with", "ends_with"):
        if len(args) != 2 or not isinstance(args[1], str):
            raise bad(f"{path}.{op}", f"'{op}' takes [{{'var': NAME}}, \"text\"]")
        text_op: Op = "starts_with" if op == "starts_with" else "ends_with"
        return Condition(_var_of(args[0], f"{path}.{op}[0]"), text_op, (args[1],))
    if op == "or":
        return _one_test_of_many_values(args, f"{path}.or")
    raise bad(path, f"operator '{op}' cannot be held by a Turnout segment")


def _one_test_of_many_values(args: list[Any], path: str) -> Condition:
    """`or` across the values of one test: the only OR a condition holds."""
    if not args:
        raise bad(path, "'or' of nothing")
    parts = [_test(a, f"{path}[{i}]") for i, a in enumerate(args)]
    first = parts[0]
    if first.op not in _MULTI_VALUE_OPS or any((p.attribute, p.op) != (first.attribute, first.op)
                                               for p in parts):
        raise bad(path, "'or' across different tests cannot be held by a Turnout segment "
                        "(only across values of one test)")
    values = tuple(dict.fromkeys(v for p in parts for v in p.values))
    return Condition(first.attribute, first.op, values)


def _conditions(logic: Any, path: str) -> list[Condition]:
    """An AND of tests (or a single test)."""
    if isinstance(logic, dict) and list(logic) == ["and"]:
        _, args = operation(logic, path)
        if not args:
            raise bad(f"{path}.and", "'and' of nothing")
        found: list[Condition] = []
        for index, arg in enumerate(args):
            found += _conditions(arg, f"{path}.and[{index}]")
        return found
    return [_test(logic, path)]


def parse_segment(key: str, logic: Any, path: str) -> Segment:
    """The segment `logic` describes: users, or conditions, or `or` of users then conditions."""
    users = user_list(logic)
    if users is not None:
        return Segment(key=key, users=users)
    if isinstance(logic, dict) and list(logic) == ["or"]:
        _, args = operation(logic, path)
        head = user_list(args[0]) if len(args) == 2 else None
        if head is not None:
            return Segment(key=key, users=head, conditions=tuple(_conditions(args[1], f"{path}.or[1]")))
    return Segment(key=key, conditions=tuple(_conditions(logic, path)))
