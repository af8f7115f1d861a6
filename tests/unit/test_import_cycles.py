"""No import cycle among our modules, and the layering contracts name every module.

import-linter's ``no-cycles`` contract (pyproject.toml) finds cycles between the
modules or packages of one package; a package's ``__init__`` and one of its own
modules importing each other is not among them, so the whole module graph is
checked here too. Imports under ``if TYPE_CHECKING:`` load nothing: not counted.
"""

import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("counter", "screens", "backends", "fixtures")


def _graph():
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)  # no stale cache


def cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(imports[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(imports)))
    try:
        for module in sorted(imports):
            if module not in index:
                visit(module)
    finally:
        sys.setrecursionlimit(limit)
    return found


def _described(graph, component: list[str]) -> str:
    members = set(component)
    lines = [" <-> ".join(component)]
    for module in component:
        for imported in sorted(graph.find_modules_directly_imported_by(module) & members):
            where = graph.get_import_details(importer=module, imported=imported)
            lines.append(f"    {module} -> {imported} (line {', '.join(str(d['line_number']) for d in where)})")
    return "\n".join(lines)


def test_the_cycle_finder_finds_a_cycle():
    imports = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(imports) == [["a", "b", "c"]]


def test_no_import_cycle_among_our_modules():
    graph = _graph()
    imports = {m: graph.find_modules_directly_imported_by(m) & graph.modules for m in graph.modules}
    found = cycles(imports)
    assert not found, "import cycles:\n" + "\n".join(_described(graph, c) for c in found)


def _contract(contract_id: str) -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return next(c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == contract_id)


def test_the_domain_and_the_backends_contracts_name_every_module_of_counter():
    """A new module of counter is forbidden to the domain and the backends until it is
    part of what they may import (then this test and the contract are changed)."""
    children = _graph().find_children("counter")
    for contract_id, allowed in (("domain-is-pure", {"counter.domain", "counter.registry"}),
                                 ("backends-see-the-protocol", {"counter.backend", "counter.domain", "counter.registry"})):
        forbidden = set(_contract(contract_id)["forbidden_modules"])
        assert children - allowed - forbidden == set(), contract_id
        assert allowed & forbidden == set(), contract_id
