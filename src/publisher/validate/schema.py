"""JSON Schema validation against the schemas vendored in `validate/schemas/` (Readium Web
Publication Manifest; W3C Audiobooks and Publication Manifest modules), offline: they are loaded
into one `referencing` registry, so no `$ref` is ever fetched. `jsonschema` and `referencing` are
runtime dependencies: `publisher check` works after `make publish` alone."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).resolve().parent / "schemas"
_ECMA_NAMED_GROUP = re.compile(r"\(\?<(?![=!])")


class SchemaUnavailable(Exception):
    """The vendored schemas or the jsonschema package are not there: only structural checks run."""


@lru_cache(maxsize=256)
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """A JSON Schema (ECMA-262) pattern compiled by Python's `re`.

    The only ECMA construct in these schemas that `re` spells differently is the named group
    `(?<name>…)` (Readium's BCP 47 patterns); it becomes `(?P<name>…)`. Lookbehinds are kept.
    """
    return re.compile(_ECMA_NAMED_GROUP.sub("(?P<", pattern))


@lru_cache(maxsize=1)
def _validator_class() -> Any:
    """Draft 7 with ECMA patterns in `pattern`, `patternProperties` and `additionalProperties`."""
    from jsonschema import Draft7Validator, ValidationError, validators

    def pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Iterator[Any]:
        if validator.is_type(instance, "string") and not ecma_regex(patrn).search(instance):
            yield ValidationError(f"{instance!r} does not match {patrn!r}")

    def pattern_properties(validator: Any, patterns: dict[str, Any], instance: Any, schema: Any) -> Iterator[Any]:
        if not validator.is_type(instance, "object"):
            return
        for patrn, subschema in patterns.items():
            for key, value in instance.items():
                if ecma_regex(patrn).search(key):
                    yield from validator.descend(value, subschema, path=key, schema_path=patrn)

    def additional_properties(validator: Any, extra: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if not validator.is_type(instance, "object"):
            return
        known = schema.get("properties", {})
        patterns = [ecma_regex(p) for p in schema.get("patternProperties", {})]
        extras = [k for k in instance if k not in known and not any(p.search(k) for p in patterns)]
        if validator.is_type(extra, "object"):
            for key in extras:
                yield from validator.descend(instance[key], extra, path=key)
        elif extra is False and extras:
            yield ValidationError(f"additional properties are not allowed ({', '.join(map(repr, extras))})")

    return validators.extend(
        Draft7Validator,
        {"pattern": pattern, "patternProperties": pattern_properties, "additionalProperties": additional_properties},
    )


@lru_cache(maxsize=1)
def _registry() -> Any:
    try:
        import jsonschema  # noqa: F401  (the validator; referencing comes with it)
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT7
    except ImportError as exc:
        raise SchemaUnavailable(f"{exc.name or 'jsonschema'} is not installed; reinstall publisher") from exc
    files = sorted(SCHEMAS.rglob("*.schema.json")) if SCHEMAS.is_dir() else []
    if not files:
        raise SchemaUnavailable(f"no vendored schemas in {SCHEMAS}")

    resources = []
    for file in files:
        contents = json.loads(file.read_text(encoding="utf-8"))
        # every one says draft-07; without "$schema" in memory, jsonschema keeps our Draft 7 subclass
        # (with ECMA patterns) when it follows a $ref instead of switching to its stock Draft7Validator
        contents.pop("$schema", None)
        resources.append((contents["$id"], Resource.from_contents(contents, default_specification=DRAFT7)))
    # a Registry without a `retrieve` function never fetches: a $ref outside it is reported, not downloaded
    return Registry().with_resources(resources)


def schema_validator(schema_id: str) -> Any:
    """A Draft 7 validator for the vendored schema `schema_id`, with format checks, resolving offline."""
    registry = _registry()
    from jsonschema import Draft7Validator

    schema = registry.contents(schema_id)
    cls = _validator_class()
    return cls(schema, registry=registry, format_checker=Draft7Validator.FORMAT_CHECKER)


def schema_errors(data: Any, schema_id: str) -> list[str]:
    """Every way `data` breaks the schema, as "where: what" lines (raises SchemaUnavailable)."""
    validator = schema_validator(schema_id)  # SchemaUnavailable first, when jsonschema is missing
    from referencing.exceptions import Unresolvable

    try:
        errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    except Unresolvable as exc:
        return [f"schema reference not available offline: {exc}"]
    lines = []
    for error in errors:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        detail = error.message
        if error.context:  # anyOf/oneOf: say what each branch wanted
            detail += " — " + "; ".join(sorted({c.message for c in error.context}))[:300]
        lines.append(f"{where}: {detail[:400]}")
    return lines
