"""Duplicate JSON keys are refused, never read as "the last one wins" (POLICY 1.1 §8.1)."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clotsafe.domain import strictjson
from clotsafe.domain.errors import IntakeError
from clotsafe.domain.intake import parse_intake_json
from clotsafe.domain.strictjson import MAX_REPORTED, JsonInputError, duplicate_keys
from tests.strategies import intakes

RED_FLAG_HIDDEN = (
    b'{"screened_on":"2026-11-30","answers":{"rf_breathless":"yes","rf_breathless":"no"}}'
)


def _refused(raw: bytes | str) -> list[tuple[str, str]]:
    with pytest.raises(JsonInputError) as exc:
        strictjson.loads(raw)
    return [(e.field, e.code) for e in exc.value.errors]


def test_repeated_answer_is_refused_not_last_one_wins() -> None:
    """A red flag answered "yes" then "no" is refused, never screened as the later "no"."""
    assert _refused(RED_FLAG_HIDDEN) == [("answers.rf_breathless", "duplicate_key")]


def test_the_message_names_the_key() -> None:
    """The therapist is told which key was given twice, without any raw JSON."""
    with pytest.raises(JsonInputError) as exc:
        strictjson.loads(RED_FLAG_HIDDEN)
    message = exc.value.errors[0].message
    assert "'rf_breathless'" in message and "{" not in message


def test_parse_intake_json_refuses_with_intake_error() -> None:
    """The intake parser refuses a repeated answer with IntakeError (exit 1 in the CLI)."""
    with pytest.raises(IntakeError) as exc:
        parse_intake_json(RED_FLAG_HIDDEN)
    assert [(e.field, e.code) for e in exc.value.errors] == [
        ("answers.rf_breathless", "duplicate_key")
    ]


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (b'{"screened_on":"2026-11-30","screened_on":"2026-01-01","answers":{}}', "screened_on"),
        (b'{"screened_on":"2026-11-30","answers":{"rf_faint":"yes"},"answers":{}}', "answers"),
        (
            b'{"answers":{"clots":[{"kind":"dvt"},{"treatment":"none","treatment":"ongoing"}]}}',
            "answers.clots[1].treatment",
        ),
        (
            b'{"clearances":[{"date":"2026-11-01"},{"date":"2026-11-01","date":"2026-01-01"}]}',
            "clearances[1].date",
        ),
        (
            b'{"clearances":[{"restrictions":{"pressure_max":{"legs":1,"legs":3}}}]}',
            "clearances[0].restrictions.pressure_max.legs",
        ),
        (b'[{"a":1},[{"b":1,"b":1}]]', "[1][0].b"),
        (b'{"entry":[{},{},{},{"resource":{"code":1,"code":2}}]}', "entry[3].resource.code"),
    ],
)
def test_repeated_key_at_any_depth(raw: bytes, path: str) -> None:
    """A repeated screening date, answers object, clot field, clearance field or cap is refused
    with the key's path, inside objects and arrays at any depth."""
    assert _refused(raw) == [(path, "duplicate_key")]


def test_escaped_spelling_is_the_same_key() -> None:
    """ "rf_\\u0062reathless" IS "rf_breathless": an escape cannot smuggle in a second answer."""
    raw = rb'{"answers":{"rf_breathless":"yes","rf_\u0062reathless":"no"}}'
    assert _refused(raw) == [("answers.rf_breathless", "duplicate_key")]


def test_keys_differing_in_case_are_different_keys() -> None:
    """Keys are case-sensitive in JSON: "RF_breathless" beside "rf_breathless" is not a repeat
    (the intake parser then refuses the unknown question on its own)."""
    assert strictjson.loads(b'{"rf_breathless":"yes","RF_breathless":"no"}') == {
        "rf_breathless": "yes",
        "RF_breathless": "no",
    }


def test_colons_inside_strings_are_not_taken_for_keys() -> None:
    """Notes and URLs with colons ("10:30", "http://") decode normally when no key repeats."""
    raw = b'{"notes":"seen at 10:30: fine","url":"http://x/y","list":[{"a":"b:c"}]}'
    assert strictjson.loads(raw) == orjson.loads(raw)


def test_escaped_colon_cannot_hide_a_repeat() -> None:
    """A colon written as an escape in a value (\\u003a) cannot balance a dropped key."""
    raw = rb'{"a":"x","a":"\u003a"}'
    assert _refused(raw) == [("a", "duplicate_key")]
    assert strictjson.loads(rb'{"a":"\u003a","b":"\u003A:"}') == {"a": ":", "b": "::"}


def test_every_repeated_key_is_reported_once() -> None:
    """Each repeated key is named (once, however often it repeats), so all can be fixed at once."""
    raw = b'{"a":1,"a":2,"a":3,"b":{"c":1,"c":2},"d":[{"e":1,"e":1}]}'
    assert _refused(raw) == [
        ("a", "duplicate_key"),
        ("b.c", "duplicate_key"),
        ("d[0].e", "duplicate_key"),
    ]


def test_reports_are_bounded() -> None:
    """A body of thousands of repeats gives a short answer, not thousands of errors."""
    raw = "[" + ",".join('{"k":1,"k":2}' for _ in range(500)) + "]"
    assert len(_refused(raw)) == MAX_REPORTED


def test_str_input_and_scalars() -> None:
    """Text given as str is checked like bytes; a JSON scalar has no keys to repeat."""
    assert _refused('{"a":1,"a":1}') == [("a", "duplicate_key")]
    assert strictjson.loads("3") == 3
    assert strictjson.loads('"a:b"') == "a:b"


def test_not_json_keeps_invalid_json() -> None:
    """Broken JSON is still the documented invalid_json error, not a crash."""
    assert _refused(b'{"screened_on": ') == [("", "invalid_json")]


@pytest.mark.parametrize("depth", [10, 600, 1000])
def test_deep_nesting(depth: int) -> None:
    """However deeply a repeat is buried it is found and named, and deep input without one is
    read, not crashed on: nesting cannot be used to slip a second answer past the check."""
    inner = '{"x":1,"x":2}'
    raw = '{"a":' * depth + inner + "}" * depth
    assert _refused(raw) == [(".".join(["a"] * depth) + ".x", "duplicate_key")]
    ok = '{"a":' * depth + '{"x":1}' + "}" * depth
    assert isinstance(strictjson.loads(ok), dict)


def test_duplicate_keys_finds_nothing_in_clean_json() -> None:
    """The path finder does not report a key that is given once."""
    assert duplicate_keys(b'{"a":{"a":{"a":[{"a":1},{"a":2}]}}}') == []


# --- property: any repeated key anywhere in any valid intake ---------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _objects(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every JSON object inside ``node`` with a key, with its path."""
    out: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if node:
            out.append((path, node))
        for k, v in node.items():
            out += _objects(v, f"{path}.{k}" if path else k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _objects(v, f"{path}[{i}]")
    return out


def _dump(node: Any, target: dict[str, Any], extra: tuple[int, str, bytes]) -> bytes:
    """``node`` as JSON, with one more pair (``extra``: position, key, value) in ``target``."""
    if isinstance(node, dict):
        pairs = [orjson.dumps(k) + b":" + _dump(v, target, extra) for k, v in node.items()]
        if node is target:
            at, key_text, value = extra
            pairs.insert(at, key_text.encode() + b":" + value)
        return b"{" + b",".join(pairs) + b"}"
    if isinstance(node, list):
        return b"[" + b",".join(_dump(v, target, extra) for v in node) + b"]"
    return orjson.dumps(node)


def _spelling(key: str, escaped: bool) -> str:
    """The key as JSON text; with ``escaped``, its first character as a \\u escape."""
    if not escaped or not key:
        return orjson.dumps(key).decode()
    return '"' + f"\\u{ord(key[0]):04x}" + orjson.dumps(key[1:]).decode()[1:]


def repeat_key(
    doc: Any, path: tuple[str | int, ...], value: Any, *, escaped: bool = False
) -> bytes:
    """``doc`` as JSON text in which the key at ``path`` is given a second time, right after the
    first, with ``value`` (for the CLI, FHIR and HTTP tests)."""
    target = doc
    for part in path[:-1]:
        target = target[part]
    key = str(path[-1])
    at = list(target).index(key) + 1
    return _dump(doc, target, (at, _spelling(key, escaped), orjson.dumps(value)))


@given(intake=intakes(), data=st.data())
def test_any_repeated_key_in_any_intake_is_refused(intake: dict[str, Any], data: Any) -> None:
    """Whatever object of a valid intake repeats whichever of its keys, with whatever value,
    before or after the original, plainly or escaped, the intake is refused with duplicate_key
    at that key's path and is never screened (POLICY 1.1 §8.1)."""
    path, obj = data.draw(st.sampled_from(_objects(intake)))
    key = data.draw(st.sampled_from(sorted(obj)))
    value = orjson.dumps(data.draw(JSON_VALUES | st.just(obj[key])))
    at = data.draw(st.integers(0, len(obj)))
    spelled = _spelling(key, data.draw(st.booleans()))
    raw = _dump(intake, obj, (at, spelled, value))
    with pytest.raises(IntakeError) as exc:
        parse_intake_json(raw)
    want = f"{path}.{key}" if path else key
    assert ("duplicate_key", want) in [(e.code, e.field) for e in exc.value.errors]
    assert {e.code for e in exc.value.errors} == {"duplicate_key"}


FLOATS = st.floats(allow_nan=False, allow_infinity=False)
KEYS = st.text(alphabet=st.sampled_from('ab:"\\é{} '), max_size=4)
DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | FLOATS | KEYS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


@given(doc=DOCUMENTS, ascii_only=st.booleans())
def test_any_json_without_repeats_decodes_as_orjson_does(doc: Any, ascii_only: bool) -> None:
    """No false refusal: keys and strings full of colons, quotes, backslashes and escapes
    decode exactly as orjson decodes them, so a valid intake is never turned away."""
    raw = json.dumps(doc, ensure_ascii=ascii_only).encode()
    assert strictjson.loads(raw) == orjson.loads(raw)


@given(doc=DOCUMENTS, data=st.data())
def test_any_json_with_a_repeat_is_refused_at_its_path(doc: Any, data: Any) -> None:
    """No missed repeat in any JSON document, whatever its strings hold (POLICY 1.1 §8.1)."""
    objects = _objects(doc)
    if not objects:
        return
    path, obj = data.draw(st.sampled_from(objects))
    key = data.draw(st.sampled_from(sorted(obj)))
    at = data.draw(st.integers(0, len(obj)))
    value = orjson.dumps(data.draw(DOCUMENTS))
    raw = _dump(doc, obj, (at, _spelling(key, data.draw(st.booleans())), value))
    found = [e.field for e in strictjson_errors(raw)]
    assert (f"{path}.{key}" if path else key) in found


def strictjson_errors(raw: bytes) -> list[Any]:
    with pytest.raises(JsonInputError) as exc:
        strictjson.loads(raw)
    assert {e.code for e in exc.value.errors} == {"duplicate_key"}
    return exc.value.errors


@given(docs=st.lists(DOCUMENTS, min_size=1, max_size=4), ascii_only=st.booleans(), data=st.data())
def test_many_texts_at_once_decode_as_each_alone_and_a_repeat_in_any_is_caught(
    docs: list[Any], ascii_only: bool, data: Any
) -> None:
    """``loads_many`` (a bulk export's lines of one patient, checked together) gives what
    orjson gives for each text, and vouches for none of them (None: decode each alone) as soon
    as one text repeats a key, whatever the other texts hold."""
    raws = [json.dumps(doc, ensure_ascii=ascii_only).encode() for doc in docs]
    assert strictjson.loads_many(raws) == [orjson.loads(r) for r in raws]
    assert strictjson.loads_many([r.decode() for r in raws]) == [orjson.loads(r) for r in raws]
    i = data.draw(st.integers(0, len(docs) - 1))
    objects = _objects(docs[i])
    if not objects:
        return
    _path, obj = data.draw(st.sampled_from(objects))
    key = data.draw(st.sampled_from(sorted(obj)))
    at = data.draw(st.integers(0, len(obj)))
    repeat = (at, _spelling(key, data.draw(st.booleans())), orjson.dumps(data.draw(DOCUMENTS)))
    raws[i] = _dump(docs[i], obj, repeat)
    assert strictjson.loads_many(raws) is None
    strictjson_errors(raws[i])


def test_many_texts_with_one_not_json_or_mixed_types_are_left_to_loads() -> None:
    """A text that is not JSON, or bytes and str mixed: None, and ``loads`` tells the error."""
    assert strictjson.loads_many([b'{"a":1}', b'{"a":']) is None
    assert strictjson.loads_many([b'{"a":1}', '{"b":2}']) is None
    assert strictjson.loads_many([b'{"a":"\\u003a"}']) is None  # the escaped colon: each alone
    assert strictjson.loads_many([]) == []
