"""Metadata filters a channel may apply: the five factors, document type, publisher, year, source.

One value object turns into both a Chroma ``where`` clause and a predicate for the lexical index, so the two
retrievers always filter alike. Values are validated here: a client can narrow a search, never widen its scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.errors import InputError
from assistant.types import FACTORS, Chunk

_MAX_VALUES = 20


@dataclass(frozen=True)
class Filters:
    """Conjunction of fields; inside one field any of the values matches."""

    factors: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    publishers: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    sources: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: dict[str, Any] | None) -> Filters:
        """Build filters from user input (API JSON, CLI flags); unknown keys and bad values are refused."""
        if not raw:
            return cls()
        allowed = {"factors", "doc_types", "publishers", "years", "sources"}
        unknown = set(raw) - allowed
        if unknown:
            raise InputError(
                f"Unbekannte Filter: {', '.join(sorted(unknown))}. Erlaubt: {', '.join(sorted(allowed))}.",
                f"Unknown filters: {', '.join(sorted(unknown))}. Allowed: {', '.join(sorted(allowed))}.",
            )
        values: dict[str, tuple[Any, ...]] = {}
        for key in allowed:
            items = raw.get(key) or []
            if isinstance(items, (str, int)):
                items = [items]
            if not isinstance(items, list) or len(items) > _MAX_VALUES:
                raise InputError(
                    f"Filter '{key}' muss eine Liste mit höchstens {_MAX_VALUES} Werten sein.",
                    f"Filter '{key}' must be a list of at most {_MAX_VALUES} values.",
                )
            if key == "years":
                try:
                    values[key] = tuple(int(v) for v in items)
                except (TypeError, ValueError) as e:
                    raise InputError("Filter 'years' erwartet Jahreszahlen.", "Filter 'years' expects years.") from e
            else:
                values[key] = tuple(str(v).strip()[:200] for v in items if str(v).strip())
        bad = [f for f in values["factors"] if f not in FACTORS]
        if bad:
            raise InputError(
                f"Unbekannter Erfolgsfaktor: {', '.join(bad)}. Erlaubt: {', '.join(FACTORS)}.",
                f"Unknown success factor: {', '.join(bad)}. Allowed: {', '.join(FACTORS)}.",
            )
        return cls(**values)

    def __bool__(self) -> bool:
        return any((self.factors, self.doc_types, self.publishers, self.years, self.sources))

    def to_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.factors:
            parts = [{f"factor_{f}": True} for f in self.factors]
            clauses.append(parts[0] if len(parts) == 1 else {"$or": parts})
        for key, field in (("doc_type", self.doc_types), ("publisher", self.publishers),
                           ("year", self.years), ("source", self.sources)):
            if field:
                clauses.append({key: {"$in": list(field)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def predicate(self) -> Callable[[Chunk], bool] | None:
        if not self:
            return None

        def match(chunk: Chunk) -> bool:
            meta = chunk.metadata
            if self.factors and not any(meta.get(f"factor_{f}") for f in self.factors):
                return False
            if self.doc_types and meta.get("doc_type") not in self.doc_types:
                return False
            if self.publishers and meta.get("publisher") not in self.publishers:
                return False
            if self.years and meta.get("year") not in self.years:
                return False
            return not (self.sources and chunk.source not in self.sources)

        return match
