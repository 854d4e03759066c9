#!/usr/bin/env python3
"""Checks Loupe's event contract in topics/ with an independent JSON Schema implementation.

- every schema in topics/schemas is a valid draft 2020-12 schema and every $ref in it resolves;
- every example in topics/examples/<family>/valid passes <family>.schema.json;
- every example in topics/examples/<family>/invalid fails it. Invalid examples are named
  <reason_code>--<what>.json; those whose reason is invalid_json or invalid_utf8 are not
  schema-checked but must fail to parse as strict RFC 8259 JSON in UTF-8, as Loupe parses it.

The Swift tests (Tests/LoupeEventsTests/ExampleFilesTests.swift) feed the same files to Loupe's
decoder, which must accept the valid ones and reject each invalid one with its reason code.

Prints one line per failure and a final "N passed, M failed"; exits 1 when anything failed.
Needs jsonschema and rfc3339-validator (without it, jsonschema does not check date-time).
"""

import json
import math
import re
import sys
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "topics" / "schemas"
EXAMPLES = ROOT / "topics" / "examples"
SCHEMA_BASE = "https://loupe.example/schemas/"
SHARED_SCHEMAS = {"common"}
UNPARSEABLE_REASONS = {"invalid_json", "invalid_utf8"}
INVALID_NAME = re.compile(r"^(?P<reason>[a-z0-9_]+)--[a-z0-9-]+\.json$")
# Loupe's parser rejects documents nested deeper than this (JSONParser.maximumDepth).
MAXIMUM_DEPTH = 64


class NotJSON(Exception):
    """The bytes are not a document Loupe's strict parser accepts."""


def _reject_constant(name):
    raise NotJSON(f"{name} is not a JSON number")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise NotJSON(f"number {text} is out of range")
    return value


def _finite_int(text):
    if not math.isfinite(float(text)):
        raise NotJSON(f"number {text} is out of range")
    return int(text)


def _object_without_duplicates(pairs):
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise NotJSON(f'duplicate field "{key}"')
        seen.add(key)
    return dict(pairs)


def _check_nesting_and_strings(value, depth=0):
    if isinstance(value, str):
        if any(0xD800 <= ord(character) <= 0xDFFF for character in value):
            raise NotJSON("unpaired surrogate in a string")
    elif isinstance(value, (list, dict)):
        if depth + 1 > MAXIMUM_DEPTH:
            raise NotJSON(f"nesting deeper than {MAXIMUM_DEPTH} levels")
        children = value.items() if isinstance(value, dict) else ((None, element) for element in value)
        for key, child in children:
            if key is not None:
                _check_nesting_and_strings(key, depth + 1)
            _check_nesting_and_strings(child, depth + 1)


def parse_strict(data):
    """Parses bytes the way Loupe's JSONParser does, raising NotJSON where it would fail."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotJSON(f"not UTF-8: {error}") from None
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_finite_int,
        )
    except json.JSONDecodeError as error:
        raise NotJSON(str(error)) from None
    _check_nesting_and_strings(value)
    return value


def _is_utf8(data):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _references(node):
    if isinstance(node, dict):
        for key, child in node.items():
            if key == "$ref" and isinstance(child, str):
                yield child
            else:
                yield from _references(child)
    elif isinstance(node, list):
        for child in node:
            yield from _references(child)


def _describe(error):
    location = "/".join(str(part) for part in error.absolute_path) or "(document)"
    return f"at {location}: {error.message}"


def _relative(path):
    return path.relative_to(ROOT)


class Check:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self):
        self.passed += 1

    def fail(self, subject, message):
        self.failed += 1
        print(f"FAIL {subject}: {message}")


def date_time_checker(check):
    checker = FormatChecker()
    if "date-time" not in checker.checkers or checker.conforms("2026-02-30T12:00:00Z", "date-time"):
        check.fail("format checker", "date-time is not checked; install rfc3339-validator")
    else:
        check.ok()
    return checker


def load_schemas(check):
    """Returns the usable schemas as {family: schema}, a registry holding them under their $id,
    and the families whose schema exists but is unusable (already reported)."""
    schemas = {}
    unusable = set()
    registry = Registry()
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        family = path.name.removesuffix(".schema.json")
        try:
            schema = parse_strict(path.read_bytes())
        except NotJSON as error:
            check.fail(_relative(path), f"is not valid JSON: {error}")
            unusable.add(family)
            continue
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as error:
            location = "/".join(str(part) for part in error.absolute_path) or "(document)"
            check.fail(_relative(path), f"not a valid draft 2020-12 schema at {location}: {error.message}")
            unusable.add(family)
            continue
        expected_id = SCHEMA_BASE + path.name
        if schema.get("$id") != expected_id:
            check.fail(_relative(path), f'$id must be "{expected_id}" so that references between files resolve')
            unusable.add(family)
            continue
        schemas[family] = schema
        registry = registry.with_resource(expected_id, Resource.from_contents(schema))
    for family, schema in list(schemas.items()):
        resolver = registry.resolver(base_uri=schema["$id"])
        broken = set()
        for reference in _references(schema):
            try:
                resolver.lookup(reference)
            except Unresolvable:
                broken.add(reference)
        if broken:
            check.fail(_relative(SCHEMAS / f"{family}.schema.json"), f"unresolvable $ref: {', '.join(sorted(broken))}")
            unusable.add(family)
            del schemas[family]
        else:
            check.ok()
    return schemas, registry, unusable


def check_family(check, family, validator):
    directory = EXAMPLES / family
    for kind in ("valid", "invalid"):
        if not any((directory / kind).glob("*.json")):
            check.fail(_relative(directory / kind), "has no examples")
    for path in sorted((directory / "valid").glob("*.json")):
        try:
            instance = parse_strict(path.read_bytes())
        except NotJSON as error:
            check.fail(_relative(path), f"is not valid JSON: {error}")
            continue
        errors = sorted(validator.iter_errors(instance), key=lambda error: list(error.absolute_path))
        if errors:
            check.fail(_relative(path), "; ".join(_describe(error) for error in errors))
        else:
            check.ok()
    for path in sorted((directory / "invalid").glob("*.json")):
        match = INVALID_NAME.match(path.name)
        if not match:
            check.fail(_relative(path), "name it <reason_code>--<what>.json, lowercase with hyphens")
            continue
        data = path.read_bytes()
        try:
            instance = parse_strict(data)
        except NotJSON as error:
            reason = match["reason"]
            if reason == "invalid_utf8" and _is_utf8(data):
                check.fail(_relative(path), "is valid UTF-8, so Loupe would not reject it as invalid_utf8")
            elif reason == "invalid_json" and not _is_utf8(data):
                check.fail(_relative(path), "is not UTF-8, so Loupe would reject it as invalid_utf8")
            elif reason not in UNPARSEABLE_REASONS:
                check.fail(_relative(path), f"does not parse ({error}), so Loupe would not reject it as {reason}")
            else:
                check.ok()
            continue
        if match["reason"] in UNPARSEABLE_REASONS:
            check.fail(_relative(path), f"parses as JSON, so Loupe would not reject it as {match['reason']}")
        elif validator.is_valid(instance):
            check.fail(_relative(path), f"the schema accepts it, but Loupe rejects it as {match['reason']}")
        else:
            check.ok()


def main():
    check = Check()
    format_checker = date_time_checker(check)
    schemas, registry, unusable = load_schemas(check)
    families = {path.name for path in EXAMPLES.iterdir() if path.is_dir()} if EXAMPLES.is_dir() else set()
    event_schemas = set(schemas) - SHARED_SCHEMAS
    for family in sorted(families - event_schemas - unusable):
        check.fail(_relative(EXAMPLES / family), f"has no schema {family}.schema.json")
    for family in sorted(event_schemas - families):
        check.fail(_relative(SCHEMAS / f"{family}.schema.json"), f"has no examples in topics/examples/{family}")
    for family in sorted(families & event_schemas):
        validator = Draft202012Validator(schemas[family], registry=registry, format_checker=format_checker)
        check_family(check, family, validator)
    print(f"{check.passed} passed, {check.failed} failed")
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
