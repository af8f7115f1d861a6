"""Citizen search: parse the query, ask the index in tiers, rank, describe.

Tiers: every word exact, then every word as a prefix, then with near matches
(one typo, same pronunciation) — each tier only when the previous ones found
fewer than a page. Each tier reads at most ``CANDIDATE_CAP`` rows in index
order, so a short prefix never sorts the whole index.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import threading

from counter.clock import SystemClock
from counter.domain import query as queries
from counter.domain.dates import BirthDate
from counter.domain.names import split_given_names
from counter.domain.people import AddressView, PersonSummary
from counter.domain.ranking import Match, rank_key
from counter.domain.search_results import PAGE, SearchOutcome, SearchResult
from counter.store import search_sql
from counter.store.engine import Store
from counter.store.search_sql import (
    BIRTH_DAY, BIRTH_MONTH, BIRTH_NAME, BIRTH_YEAR, GIVEN_NAMES, ID, M_CITY, M_COMPLEMENT, M_HOUSEHOLD,
    M_LINE, M_NUMBER, M_PERSON, M_POSTAL_CODE, M_ROLE, M_SIZE, M_STREET, M_SUFFIX, SEX, USAGE_NAME, Term,
)

CANDIDATE_CAP = 200  # ranked per tier; more than that and the agent is asked to say more

MSG_EMPTY = "Aucune personne ne correspond à « {text} »."
HINTS = (
    "Essayez : le nom seul, le début du prénom (« lef alex »), la date de naissance "
    "(27/12/1982, 1982), le NIR, le n° CAF + code postal. Famille nouvelle : F6."
)


ANSWERS_KEPT = 128  # recent answers per process, each valid while the database is unchanged


class SearchService:
    def __init__(self, store: Store, clock=None, *, keep_answers: bool = True) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.keep_answers = keep_answers  # False: every search computed (the benchmarks' cost of one)
        # Recent answers by what the query means (``dupont`` and ``dupont `` alike, a
        # page asked again, a prefix another agent just typed), each with the database
        # version it was read at (``_data_version``): never served once the data changed.
        self._answers: collections.OrderedDict[tuple, tuple[object, SearchOutcome]] = collections.OrderedDict()
        self._answers_lock = threading.Lock()  # the service's threads may share one SearchService

    def search(self, text: str, page: int = 0) -> SearchOutcome:
        parsed = queries.parse_query(text, self.clock.today())
        if parsed.error:
            return SearchOutcome(parsed, error=parsed.error)
        if parsed.is_empty:
            return SearchOutcome(parsed)
        with self.store.engine.connect() as connection:
            version = _data_version(connection) if self.keep_answers else None
            key = (parsed.words, parsed.birth, parsed.nir, parsed.caf, page)
            kept = self._answers.get(key) if version is not None else None
            if kept is not None and kept[0] == version:
                return self._answer(kept[1], parsed, text)
            outcome = self._search(connection, parsed, text, page)
        if version is not None:
            with self._answers_lock:
                self._answers[key] = (version, outcome)
                self._answers.move_to_end(key)
                while len(self._answers) > ANSWERS_KEPT:
                    self._answers.popitem(last=False)
        return outcome

    @staticmethod
    def _answer(outcome: SearchOutcome, parsed: queries.ParsedQuery, text: str) -> SearchOutcome:
        """A kept answer, told in the words typed this time."""
        if not outcome.results:
            return SearchOutcome(parsed, hints=(MSG_EMPTY.format(text=text.strip()), HINTS))
        return dataclasses.replace(outcome, query=parsed)

    def _search(self, connection, parsed: queries.ParsedQuery, text: str, page: int) -> SearchOutcome:
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
        """Every ranked match (a bounded set) and whether the index had more.

        ``rows`` receives the person rows read on the way (tuples: search_sql's
        column constants), so that the page's summaries need not read them again."""
        if parsed.nir:
            ids = search_sql.nir_candidates(connection, parsed.nir)
            return [(i, int(Match.EXACT)) for i in ids], False
        if parsed.caf:
            ids = search_sql.caf_candidates(connection, parsed.caf.number, parsed.caf.postal_code)
            return [(i, int(Match.EXACT)) for i in ids], False
        if not parsed.words:
            found = search_sql.birth_rows(connection, parsed.birth, CANDIDATE_CAP)
            return self._rank(found, (), rows), len(found) >= CANDIDATE_CAP

        words = parsed.words
        tiers: list[list[list[Term]]] = [
            [[Term(w)] for w in words],
            [[Term(w, prefix=True)] for w in words],
        ]
        seen: dict[int, tuple] = {}
        capped = False
        for index in range(3):
            if index == 2:
                near = [search_sql.near_tokens(connection, w) for w in words]
                if not any(near):
                    break
                tiers.append([[Term(w, prefix=True), *(Term(t) for t in n)] for w, n in zip(words, near)])
            found = search_sql.candidate_rows(connection, tiers[index], parsed.birth, CANDIDATE_CAP)
            capped = capped or len(found) >= CANDIDATE_CAP
            for row in found:
                seen.setdefault(row[ID], row)
            if len(seen) >= PAGE:
                break  # a page of stronger matches: weaker ones would only come after
        return self._rank(seen.values(), words, rows), capped

    def _rank(self, found, words, rows: dict) -> list[tuple[int, int]]:
        keyed = []
        # Homonyms share their key: the candidates of a full name are mostly the same name.
        keys: dict[tuple, tuple | None] = {}
        words = words or ()
        for row in found:
            rows[row[ID]] = row
            name = row[BIRTH_NAME:BIRTH_NAME + 3]
            key = keys.get(name, _UNSEEN)
            if key is _UNSEEN:
                key = keys[name] = rank_key(words, row[BIRTH_NAME], row[USAGE_NAME], _given(row[GIVEN_NAMES]))
            if key is not None:  # None: a typed word matches nothing of this name
                keyed.append((key, row[BIRTH_YEAR], row[BIRTH_MONTH] or 0, row[BIRTH_DAY] or 0, row[ID]))
        keyed.sort()
        return [(entry[-1], -entry[0][0]) for entry in keyed]

    # -- display -----------------------------------------------------------------

    def _summaries(self, connection, ids: list[int], known: dict) -> dict[int, PersonSummary]:
        homes: dict[int, tuple] = {}
        for row in search_sql.membership_tuples(connection, ids):
            homes.setdefault(row[M_PERSON], row)  # first membership wins
        people: dict[int, PersonSummary] = {}
        missing = [i for i in ids if i not in known]
        found = [known[i] for i in ids if i in known] + search_sql.rows_of(connection, missing)
        for row in found:
            home = homes.get(row[ID])
            people[row[ID]] = PersonSummary(
                id=row[ID],
                birth_name=row[BIRTH_NAME],
                usage_name=row[USAGE_NAME],
                given_names=_given(row[GIVEN_NAMES]),
                sex=row[SEX],
                birth=BirthDate(row[BIRTH_YEAR], row[BIRTH_MONTH], row[BIRTH_DAY]),
                household_id=home[M_HOUSEHOLD] if home else None,
                household_size=home[M_SIZE] if home else 0,
                role=home[M_ROLE] if home else None,
                address=_address(home) if home else None,
            )
        return people


_UNSEEN = object()


def _data_version(connection) -> tuple[object, int, int] | None:
    """This SQLite connection's view of the database's version (None: not SQLite).

    data_version moves at every commit made by *another* connection and
    total_changes counts this connection's own; the token kept in the driver
    connection's ``info`` tells connections apart (their counters are not comparable)."""
    if connection.dialect.name != "sqlite":
        return None
    fairy = connection.connection
    token = fairy.info.get("search_answers")
    if token is None:
        token = fairy.info["search_answers"] = object()
    version = connection.exec_driver_sql("PRAGMA data_version").scalar()
    return token, version, fairy.dbapi_connection.total_changes


@functools.lru_cache(maxsize=65_536)
def _given(given_names: str) -> tuple[str, ...]:
    # Ranking meets the same names again at each keystroke.
    return tuple(split_given_names(given_names))


def _address(row: tuple) -> AddressView | None:
    if row[M_POSTAL_CODE] is None:
        return None
    return AddressView(
        number=row[M_NUMBER], suffix=row[M_SUFFIX], street=row[M_STREET], line=row[M_LINE],
        complement=row[M_COMPLEMENT], postal_code=row[M_POSTAL_CODE], city=row[M_CITY],
    )
