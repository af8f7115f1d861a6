"""Citizen search: parse the query, ask the index in tiers, rank, describe.

Tiers: every word exact, then every word as a prefix, then with near matches
(one typo, same pronunciation) — each tier only when the previous ones found
fewer than a page. Each tier reads at most ``CANDIDATE_CAP`` rows in index
order, so a short prefix never sorts the whole index.
"""

from __future__ import annotations

import functools

from counter.clock import SystemClock
from counter.domain import query as queries
from counter.domain.dates import BirthDate
from counter.domain.names import split_given_names
from counter.domain.people import AddressView, PersonSummary
from counter.domain.ranking import Match, rank_key
from counter.domain.search_results import PAGE, SearchOutcome, SearchResult
from counter.store import search_sql
from counter.store.engine import Store
from counter.store.search_sql import Term

CANDIDATE_CAP = 200  # ranked per tier; more than that and the agent is asked to say more

MSG_EMPTY = "Aucune personne ne correspond à « {text} »."
HINTS = (
    "Essayez : le nom seul, le début du prénom (« lef alex »), la date de naissance "
    "(27/12/1982, 1982), le NIR, le n° CAF + code postal. Famille nouvelle : F6."
)


class SearchService:
    def __init__(self, store: Store, clock=None) -> None:
        self.store = store
        self.clock = clock or SystemClock()

    def search(self, text: str, page: int = 0) -> SearchOutcome:
        parsed = queries.parse_query(text, self.clock.today())
        if parsed.error:
            return SearchOutcome(parsed, error=parsed.error)
        if parsed.is_empty:
            return SearchOutcome(parsed)
        with self.store.engine.connect() as connection:
            rows: dict[int, object] = {}  # person rows already read for the ranking
            ranked, capped = self._ranked_ids(connection, parsed, rows)
            last_page = max(0, (len(ranked) - 1) // PAGE)
            page = min(max(page, 0), last_page)
            shown = ranked[page * PAGE : (page + 1) * PAGE]
            people = self._summaries(connection, [pid for pid, _ in shown], rows)
        results = tuple(
            SearchResult(people[pid], strength)
            for pid, strength in shown
            if pid in people
        )
        if not results:
            return SearchOutcome(parsed, hints=(MSG_EMPTY.format(text=text.strip()), HINTS))
        return SearchOutcome(parsed, results=results, page=page, total=len(ranked), capped=capped)

    # -- candidates and ranking ------------------------------------------------

    def _ranked_ids(self, connection, parsed: queries.ParsedQuery, rows: dict) -> tuple[list[tuple[int, int]], bool]:
        """Every ranked match (a bounded set) and whether the index had more."""
        if parsed.nir:
            ids = search_sql.nir_candidates(connection, parsed.nir)
            return [(i, int(Match.EXACT)) for i in ids], False
        if parsed.caf:
            ids = search_sql.caf_candidates(connection, parsed.caf.number, parsed.caf.postal_code)
            return [(i, int(Match.EXACT)) for i in ids], False
        if not parsed.words:
            ids = search_sql.birth_candidates(connection, parsed.birth, CANDIDATE_CAP)
            return self._rank(connection, ids, (), rows), len(ids) >= CANDIDATE_CAP

        words = parsed.words
        tiers: list[list[list[Term]]] = [
            [[Term(w)] for w in words],
            [[Term(w, prefix=True)] for w in words],
        ]
        seen: dict[int, None] = {}
        capped = False
        for index in range(3):
            if index == 2:
                near = [search_sql.near_tokens(connection, w) for w in words]
                if not any(near):
                    break
                tiers.append([[Term(w, prefix=True), *(Term(t) for t in n)] for w, n in zip(words, near)])
            ids = search_sql.name_candidates(connection, tiers[index], parsed.birth, CANDIDATE_CAP)
            capped = capped or len(ids) >= CANDIDATE_CAP
            seen.update(dict.fromkeys(ids))
            if len(seen) >= PAGE:
                break  # a page of stronger matches: weaker ones would only come after
        return self._rank(connection, list(seen), words, rows), capped

    def _rank(self, connection, ids: list[int], words, rows: dict) -> list[tuple[int, int]]:
        keyed = []
        # Homonyms share their key: the candidates of a full name are mostly the same name.
        keys: dict[tuple, tuple | None] = {}
        for row in search_sql.person_rows(connection, ids):
            rows[row.id] = row
            name = (row.birth_name, row.usage_name, row.given_names)
            if name not in keys:
                keys[name] = rank_key(words or (), row.birth_name, row.usage_name, _given(row.given_names))
            key = keys[name]
            if key is None:  # a typed word matches nothing of this name
                continue
            keyed.append((key, row.birth_year, row.birth_month or 0, row.birth_day or 0, row.id))
        keyed.sort()
        return [(entry[-1], -entry[0][0]) for entry in keyed]

    # -- display -----------------------------------------------------------------

    def _summaries(self, connection, ids: list[int], known: dict) -> dict[int, PersonSummary]:
        homes: dict[int, tuple] = {}
        for row in search_sql.membership_rows(connection, ids):
            homes.setdefault(row.person_id, row)  # first membership wins
        people: dict[int, PersonSummary] = {}
        missing = [i for i in ids if i not in known]
        found = [known[i] for i in ids if i in known] + list(search_sql.person_rows(connection, missing))
        for row in found:
            home = homes.get(row.id)
            people[row.id] = PersonSummary(
                id=row.id,
                birth_name=row.birth_name,
                usage_name=row.usage_name,
                given_names=tuple(split_given_names(row.given_names)),
                sex=row.sex,
                birth=BirthDate(row.birth_year, row.birth_month, row.birth_day),
                household_id=home.household_id if home else None,
                household_size=home.size if home else 0,
                role=home.role if home else None,
                address=_address(home) if home else None,
            )
        return people


@functools.lru_cache(maxsize=65_536)
def _given(given_names: str) -> tuple[str, ...]:
    # Ranking meets the same names again at each keystroke.
    return tuple(split_given_names(given_names))


def _address(row) -> AddressView | None:
    if row.postal_code is None:
        return None
    return AddressView(
        number=row.number, suffix=row.suffix, street=row.street, line=row.line,
        complement=row.complement, postal_code=row.postal_code, city=row.city,
    )
