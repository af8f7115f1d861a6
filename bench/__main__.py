"""`make bench`: run every benchmark, print each figure beside its reference
measured in the same run, then one summary table; write bench/results/*.json."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import time
from pathlib import Path

RESULTS = Path(__file__).with_name("results")
SECTIONS = ("startup", "terminal", "search", "service", "dossier", "booking", "family_import", "bus_link",
            "statistics")


def _machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return {"python": platform.python_version(), "platform": platform.platform(), "cpu": cpu,
            "cpus": os.cpu_count(), "sqlite": sqlite3.sqlite_version, "load_average_at_start": load}


class Summary:
    """Rows of the final table: figure, ours, reference, ratio, target, verdict."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, figure: str, ours: float, unit: str, reference: float | None = None,
            target: str = "", met: bool | None = None) -> None:
        ratio = ours / reference if reference else None
        self.rows.append({"figure": figure, "ours": ours, "unit": unit, "reference": reference,
                          "ratio": ratio, "target": target, "met": met})

    def print(self) -> None:
        print(f"\n{'figure':<46}{'ours':>11}{'reference':>11}{'ratio':>8}  {'target':<14}")
        for row in self.rows:
            ours = _fmt(row["ours"], row["unit"])
            ref = _fmt(row["reference"], row["unit"]) if row["reference"] is not None else "-"
            ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else "-"
            verdict = {True: "met", False: "NOT MET", None: ""}[row["met"]]
            print(f"{row['figure']:<46}{ours:>11}{ref:>11}{ratio:>8}  {row['target']:<14}{verdict}")


def _fmt(value: float, unit: str) -> str:
    if unit == "B":
        return f"{value:,.0f} B"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    if unit == "ms":
        return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"
    return f"{value:g}"


def _startup(args, report, summary) -> None:
    from bench import startup

    print("Start-up (pty 80x24, training mode, database already created)")
    s = startup.measure(args.runs)
    report["startup"] = s
    print(f"  counter search screen usable   {s['counter_usable_s'] * 1000:7.0f} ms")
    print(f"  minimal Textual app (ref.)     {s['minimal_app_usable_s'] * 1000:7.0f} ms")
    print(f"  ratio (of the medians)         {s['ratio']:7.2f}x   (target <= {s['target_ratio']}x; "
          f"run by run {min(s['ratios']):.2f}-{max(s['ratios']):.2f}x)")
    print(f"  first results after start      {s['counter_first_results_s'] * 1000:7.0f} ms  (types 'roux jeanne')")
    summary.add("cold start to the search screen", s["counter_usable_s"] * 1000, "ms",
                s["minimal_app_usable_s"] * 1000, "<= 1.25x", s["ratio"] <= s["target_ratio"])


def _terminal(args, report, summary) -> None:
    from bench import terminal

    runs = 1 if args.quick else args.terminal_runs
    print(f"\nTerminal traffic (pty 80x24; typing '{terminal.QUERY}', then {terminal.MOVES} cursor moves; "
          f"{runs} session(s) of each app)")
    t = terminal.measure(runs)
    report["terminal"] = t
    c, m, r = t["counter"], t["minimal_app"], t["ratios"]
    rows = [
        ("bytes at start-up", "startup_bytes", "B"),
        ("bytes while idle (3 s)", "idle_bytes", "B"),
        ("bytes per keystroke (mean)", "keystroke_bytes_mean", "B"),
        ("bytes per keystroke (max)", "keystroke_bytes_max", "B"),
        ("key to first byte p50", "keystroke_first_byte_p50_ms", "ms"),
        ("key to first byte p95", "keystroke_first_byte_p95_ms", "ms"),
        ("bytes for the first down (focus to results)", "focus_move_bytes", "B"),
        ("bytes per cursor move (mean)", "cursor_move_bytes_mean", "B"),
        ("bytes per cursor move (median)", "cursor_move_bytes_median", "B"),
        ("bytes per cursor move (max, the table scrolls)", "cursor_move_bytes_max", "B"),
        ("cursor move to first byte p95", "cursor_first_byte_p95_ms", "ms"),
        ("peak RSS", "peak_rss_mib", "MiB"),
    ]
    print(f"  {'':<48}{'counter':>11}{'minimal':>11}{'ratio':>8}")
    for label, key, unit in rows:
        ratio = f"{c[key] / m[key]:.2f}x" if m[key] else "-"
        print(f"  {label:<48}{_fmt(c[key], unit):>11}{_fmt(m[key], unit):>11}{ratio:>8}")
    production = t["counter_production_peak_rss_mib"]
    print(f"  {'peak RSS, terminal of a production service':<48}{_fmt(production, 'MiB'):>11}"
          f"{_fmt(m['peak_rss_mib'], 'MiB'):>11}{r['peak_rss_production']:7.2f}x")
    print(f"\n  the counter by terminal colours  {'start-up':>10}{'keystroke':>11}{'cursor':>9}")
    for name, v in t["counter_by_colour_system"].items():
        print(f"  {name:<38}{_fmt(v['startup_bytes'], 'B'):>10}{_fmt(v['keystroke_bytes_mean'], 'B'):>11}"
              f"{_fmt(v['cursor_move_bytes_mean'], 'B'):>9}")
    summary.add("bytes at start-up", c["startup_bytes"], "B", m["startup_bytes"])
    summary.add("bytes per keystroke (results refresh)", c["keystroke_bytes_mean"], "B", m["keystroke_bytes_mean"],
                "<= 1.0x", r["keystroke_bytes"] <= terminal.TARGETS["keystroke_ratio"])
    summary.add("key to first byte p95", c["keystroke_first_byte_p95_ms"], "ms", m["keystroke_first_byte_p95_ms"])
    summary.add("bytes per cursor move (mean)", c["cursor_move_bytes_mean"], "B", m["cursor_move_bytes_mean"],
                "<= 1 KB", c["cursor_move_bytes_mean"] <= terminal.TARGETS["cursor_move_bytes"])
    summary.add("cursor move to first byte p95", c["cursor_first_byte_p95_ms"], "ms", m["cursor_first_byte_p95_ms"])
    summary.add("terminal peak RSS (training)", c["peak_rss_mib"], "MiB", m["peak_rss_mib"], "<= 1.5x",
                r["peak_rss"] <= terminal.TARGETS["rss_ratio"])
    summary.add("terminal peak RSS (production)", production, "MiB", m["peak_rss_mib"], "<= 1.5x",
                r["peak_rss_production"] <= terminal.TARGETS["rss_ratio"])


def _search(args, report, summary) -> None:
    from bench import search

    report["search"] = []
    sizes = args.sizes or ("10000,100000" if args.quick else "10000,100000,1000000")
    runs = [(int(s), None) for s in sizes.split(",") if s]
    pg_url = os.environ.get("COUNTER_BENCH_PG_URL")
    if pg_url:
        runs += [(int(s), pg_url) for s in args.pg_sizes.split(",") if s]
    else:
        print("\n(PostgreSQL search skipped: set COUNTER_BENCH_PG_URL to measure it)")
    for size, url in runs:
        engine = "PostgreSQL tsvector" if url else "SQLite FTS5"
        print(f"\nSearch, about {size:,} persons ({engine})")
        r = search.measure(size, postgres_url=url)
        report["search"].append(r)
        print(f"  {r['persons']:,} persons")
        print(f"  {'query':<26}{'p50 ms':>8}{'p95 ms':>8}{'target':>8}{'bare p95':>10}{'ratio':>7}")
        for kind, k in r["kinds"].items():
            target = f"{k['target_p95_ms']:.0f}" if k["target_p95_ms"] else "-"
            print(f"  {kind:<26}{k['p50_ms']:8.2f}{k['p95_ms']:8.2f}{target:>8}"
                  f"{k['bare_fts_p95_ms']:10.2f}{k['ratio_p95']:7.1f}")
            engine_name = "PostgreSQL" if url else "SQLite"
            size = f"{r['persons'] / 1e6:.0f}M" if r["persons"] >= 900_000 else f"{round(r['persons'] / 1000):,}k"
            summary.add(f"search p95 {kind}, {size} ({engine_name})", k["p95_ms"], "ms",
                        k["bare_fts_p95_ms"],
                        f"<= {k['target_p95_ms']:.0f} ms" if k["target_p95_ms"] and r["persons"] >= 900_000 else "",
                        k["p95_ms"] <= k["target_p95_ms"] if k["target_p95_ms"] and r["persons"] >= 900_000 else None)


def _service(args, report, summary) -> None:
    from bench import service

    persons = 100_000 if args.quick else 1_000_000
    print(f"\nSearch through the counter service, about {persons:,} persons (SQLite FTS5; the service in "
          f"its own process; {service.CLIENTS} terminals typing at once)")
    r = service.measure(persons)
    report["service"] = r
    print(f"  one terminal, full name           p50 {r['one_terminal_p50_ms']:6.2f} ms   p95 "
          f"{r['one_terminal_p95_ms']:6.2f} ms   (in-process p95 {r['in_process_p95_ms']:.2f} ms, "
          f"ratio {r['ratio_p95']:.2f}x; target <= {service.TARGETS_MS['one terminal p95']:.0f} ms)")
    print(f"  {service.CLIENTS} terminals typing at once         p50 {r['thirty_terminals_p50_ms']:6.2f} ms   p95 "
          f"{r['thirty_terminals_p95_ms']:6.2f} ms   ({r['thirty_terminals_searches']} searches; "
          f"target <= {service.TARGETS_MS['thirty terminals p95']:.0f} ms)")
    size = f"{persons / 1e6:.0f}M" if persons >= 900_000 else f"{persons // 1000}k"
    one, crowd = service.TARGETS_MS["one terminal p95"], service.TARGETS_MS["thirty terminals p95"]
    summary.add(f"search through the service p95, {size}", r["one_terminal_p95_ms"], "ms", r["in_process_p95_ms"],
                f"<= {one:.0f} ms", r["one_terminal_p95_ms"] <= one if persons >= 900_000 else None)
    summary.add(f"search, {service.CLIENTS} terminals typing p95, {size}", r["thirty_terminals_p95_ms"], "ms",
                r["one_terminal_p95_ms"], f"<= {crowd:.0f} ms",
                r["thirty_terminals_p95_ms"] <= crowd if persons >= 900_000 else None)


def _dossier(args, report, summary) -> None:
    from bench import dossier

    print("\nDossier fan-out (six emulated sources, 200 ms each, in-process)")
    d = dossier.measure()
    report["dossier"] = d
    print(f"  complete dossier, asked at once     {d['complete_ms']:7.0f} ms   (target <= {d['target_ms']} ms)")
    print(f"  the same six one after the other    {d['sequential_ms']:7.0f} ms   "
          f"(ratio {d['sequential_ms'] / d['complete_ms']:.1f}x)")
    print(f"  last live source, all alive         {d['others_last_ms_all_alive']:7.0f} ms")
    print(f"  last live source, one source dead   {d['others_last_ms_one_dead']:7.0f} ms   "
          f"(dead one cut at its deadline: {d['dead_source_deadline_ms']:.0f} ms)")
    summary.add("dossier, six sources at once", d["complete_ms"], "ms", d["sequential_ms"],
                f"<= {d['target_ms']} ms", d["complete_ms"] <= d["target_ms"])
    summary.add("dossier, last live answer, one source dead", d["others_last_ms_one_dead"], "ms",
                d["others_last_ms_all_alive"])

    from bench import dossier_burst

    print(f"\nA burst of {dossier_burst.DOSSIERS} dossiers opened at once through the service "
          "(training town, emulated agencies; reference: the service's rate limiter off)")
    b = dossier_burst.measure()
    report["dossier_burst"] = b
    ours, ref = b["limited"], b["without_limiter"]
    print(f"  {'':<44}{'limited':>10}{'reference':>11}")
    print(f"  {'requests received by API Particulier':<44}{ours['api_particulier_requests']:>10}"
          f"{ref['api_particulier_requests']:>11}")
    print(f"  {'most of them in any second':<44}{ours['max_requests_in_a_second']:>10}"
          f"{ref['max_requests_in_a_second']:>11}   (target <= {b['target_per_second']})")
    print(f"  {'all dossiers complete':<44}{ours['all_complete_ms']:>7.0f} ms{ref['all_complete_ms']:>8.0f} ms"
          f"   (ratio {ours['all_complete_ms'] / ref['all_complete_ms']:.1f}x)")
    print(f"  {'sections not answered (of ' + str(ours['sections']) + ')':<44}{ours['sections_not_answered']:>10}"
          f"{ref['sections_not_answered']:>11}")
    summary.add(f"burst of {b['dossiers']} dossiers: max req/s at API Part.",
                ours["max_requests_in_a_second"], "", ref["max_requests_in_a_second"],
                f"<= {b['target_per_second']}", ours["max_requests_in_a_second"] <= b["target_per_second"])
    summary.add(f"burst of {b['dossiers']} dossiers: all complete", ours["all_complete_ms"], "ms",
                ref["all_complete_ms"])

    from bench import relay_once

    print(f"\n{relay_once.TERMINALS} visits confirmed at once through the service, one library card each "
          "(emulated Koha counts the patron records it receives)")
    r = relay_once.measure()
    report["relay_once"] = r
    print(f"  registrations confirmed {r['registrations_confirmed']}, patron records received by Koha "
          f"{r['patron_records_received_by_koha']}, delivered {r['delivered']}, left pending or refused "
          f"{r['pending_or_refused']}")
    print(f"  first confirmation to last delivery {r['first_confirmation_to_last_delivery_ms']:,.0f} ms")
    summary.add(f"relay: records received for {r['registrations_confirmed']} cards",
                r["patron_records_received_by_koha"], "", r["registrations_confirmed"], "= registrations",
                r["delivered_once"])


def _booking(args, report, summary) -> None:
    from bench import booking

    report["booking"] = {}
    engines = [("SQLite", None)]
    if os.environ.get("COUNTER_BENCH_PG_URL"):
        engines.append(("PostgreSQL", os.environ["COUNTER_BENCH_PG_URL"]))
    for engine, url in engines:
        print(f"\nBooking: {booking.PROCESSES} processes × {booking.ATTEMPTS} attempts, "
              f"{booking.PLACES} places ({engine})")
        b = booking.measure(url)
        report["booking"][engine] = b
        crowd, alone = b["crowd"], b["alone"]
        print(f"  overbookings {crowd['overbookings']}, lost {crowd['lost']}, errors shown to an agent "
              f"{crowd['agent_errors']}  (targets: 0, 0, 0)")
        print(f"  registered {crowd['registered']}, waiting list {crowd['waiting']}")
        print(f"  confirm p50 {crowd['p50_ms']:.1f} ms, p95 {crowd['p95_ms']:.1f} ms  "
              f"(one process alone: p95 {alone['p95_ms']:.1f} ms, ratio {crowd['p95_ms'] / alone['p95_ms']:.1f}x)")
        faults = crowd["overbookings"] + crowd["lost"] + crowd["agent_errors"]
        summary.add(f"booking: overbooked + lost + errors ({engine})", faults, "", None, "0", faults == 0)
        summary.add(f"booking attempt p95, 8 processes ({engine})", crowd["p95_ms"], "ms", alone["p95_ms"])


def _bus_link(args, report, summary) -> None:
    from bench import bus_link

    print("\nThe roaming bus's terminal while its link flaps (pty 80x24; the bus's service in its own process; "
          "the town's database on PostgreSQL behind a proxy cut every "
          f"{bus_link.FLAP_SECONDS:g} s; a visit confirmed on board every {bus_link.VISIT_EVERY:g} s)")
    r = bus_link.measure()
    report["bus_link"] = r
    if "skipped" in r:
        print(f"  skipped: {r['skipped']}")
        return
    print(f"  key to first byte, link flapping   p50 {r['flapping_p50_ms']:6.1f} ms   p95 {r['flapping_p95_ms']:6.1f} ms"
          f"   max {r['flapping_max_ms']:6.1f} ms   ({r['keys_flapping']} keys; target: max <= {r['target_ms']:.0f} ms)")
    print(f"  the same keys, link steady          p95 {r['steady_p95_ms']:6.1f} ms   max {r['steady_max_ms']:6.1f} ms")
    print(f"  link cut {r['link_cuts']} times; visits confirmed on board {r['visits_confirmed_on_board']} "
          f"({r['visit_failures']} failed), at the town hall {r['visits_at_the_town_hall']} "
          f"({r['distinct_codes_at_the_town_hall']} codes, a draft left by a sync cut short included; "
          f"{r['codes_twice_at_the_town_hall']} code twice; the rest still on board when the bench stopped)")
    summary.add("bus: key to first byte, link flapping (max)", r["flapping_max_ms"], "ms", r["steady_max_ms"],
                f"<= {r['target_ms']:.0f} ms", r["flapping_max_ms"] <= r["target_ms"])
    # A visit doubled would be a code twice among the town's visits. The applied visits and
    # the codes need not be equal: a sync cut between a visit's start at the town (its draft
    # carries the code) and its confirmation leaves a code with no applied item yet, which
    # the next sync takes up again.
    summary.add("bus: visits sent back, doubled", r["codes_twice_at_the_town_hall"], "", None, "0",
                r["codes_twice_at_the_town_hall"] == 0)


def _family_import(args, report, summary) -> None:
    from bench import family_import

    persons = 100_000
    report["family_import"] = []
    engines = [("SQLite", None)]
    if os.environ.get("COUNTER_BENCH_PG_URL"):
        engines.append(("PostgreSQL", os.environ["COUNTER_BENCH_PG_URL"]))
    for engine, url in engines:
        print(f"\nImport of the town's families, about {persons:,} persons (counter import families, {engine}; "
              "reference: the generated town of the same size)")
        r = family_import.measure(persons, postgres_url=url)
        report["family_import"].append(r)
        print(f"  {r['persons']:,} persons, {r['families']:,} families, {r['refused']} refused")
        print(f"  import                          {r['import_s']:7.1f} s")
        print(f"  import, then the search finds   {r['index_ready_s']:7.1f} s   (target <= {r['target_s']:.0f} s)")
        print(f"  {'query':<26}{'p95 ms':>8}{'generated':>11}{'ratio':>7}")
        for kind, k in r["kinds"].items():
            print(f"  {kind:<26}{k['p95_ms']:8.2f}{k['generated_p95_ms']:11.2f}{k['ratio_p95']:7.2f}")
        summary.add(f"import 100k persons, until found ({engine})", r["index_ready_s"] * 1000, "ms", None,
                    f"<= {r['target_s']:.0f} s", r["index_ready_s"] <= r["target_s"] and r["probe_found"])
        for kind, k in r["kinds"].items():
            summary.add(f"after import: p95 {kind} ({engine})", k["p95_ms"], "ms", k["generated_p95_ms"],
                        f"<= {family_import.NOT_SLOWER}x", k["ratio_p95"] <= family_import.NOT_SLOWER)


def _statistics(args, report, summary) -> None:
    from bench import statistics

    print("\nThe statistics over a year of visits (fixtures.activity.YEAR, SQLite): computed as the service does, "
          "through the codec, its totals and first chart drawn at 80x24; reference: the bare driver reading the same rows")
    r = statistics.measure_apart()
    report["statistics"] = r
    print(f"  {r['visits']:,} visits, {r['agency_calls']:,} agency answers, {r['registrations']:,} registrations "
          f"(loaded in {r['load_s']:.1f} s)")
    print(f"  first time (no day kept yet)      {r['cold_ms']:7.0f} ms")
    print(f"  after a restart, median of {statistics.RUNS}     {r['restart_median_ms']:7.0f} ms   "
          f"max {r['restart_max_ms']:.0f} ms   (target <= {r['target_ms']:.0f} ms)")
    print(f"  again, median of {statistics.RUNS}               {r['warm_median_ms']:7.0f} ms   max {r['warm_max_ms']:.0f} ms"
          f"   (target <= {r['target_ms']:.0f} ms)")
    print(f"  bare rows, median                 {r['bare_rows_median_ms']:7.0f} ms")
    print(f"  every chart drawn (11, plotext)   {r['every_chart_ms']:7.0f} ms")
    summary.add("statistics, a year (~100k visits), after restart", r["restart_max_ms"], "ms",
                r["bare_rows_median_ms"], f"<= {r['target_ms']:.0f} ms", r["restart_max_ms"] <= r["target_ms"])
    summary.add("statistics, a year, again", r["warm_median_ms"], "ms", r["bare_rows_median_ms"],
                f"<= {r['target_ms']:.0f} ms", r["warm_median_ms"] <= r["target_ms"])
    summary.add("statistics, a year, first time (once)", r["cold_ms"], "ms", r["bare_rows_median_ms"])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", choices=SECTIONS, help="one benchmark only")
    parser.add_argument("--quick", action="store_true",
                        help="a few minutes: search at 10k and 100k only (no 1M town), one terminal session")
    parser.add_argument("--sizes", help="persons for the search benchmark (default 10000,100000,1000000)")
    parser.add_argument("--runs", type=int, default=7, help="start-up runs per app")
    parser.add_argument("--terminal-runs", type=int, default=3, help="terminal-traffic sessions per app")
    parser.add_argument("--pg-sizes", default="100000",
                        help="persons for the PostgreSQL search benchmark (needs COUNTER_BENCH_PG_URL)")
    args = parser.parse_args()
    report: dict = {"machine": _machine(), "when": time.strftime("%Y-%m-%d %H:%M"), "quick": args.quick,
                    "seconds": {}}
    summary = Summary()
    began = time.perf_counter()
    for name, run in (("startup", _startup), ("terminal", _terminal), ("search", _search),
                      ("service", _service), ("dossier", _dossier), ("booking", _booking),
                      ("family_import", _family_import), ("bus_link", _bus_link), ("statistics", _statistics)):
        if args.only in (None, name):
            started = time.perf_counter()
            run(args, report, summary)
            report["seconds"][name] = round(time.perf_counter() - started, 1)
    report["seconds"]["total"] = round(time.perf_counter() - began, 1)
    report["summary"] = summary.rows

    summary.print()
    machine = report["machine"]
    print(f"\n{machine['cpu']} ({machine['cpus']} CPUs), Python {machine['python']}, {machine['platform']}; "
          f"load average {machine['load_average_at_start']} at start; {report['seconds']['total']:.0f} s")
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in (f"{stamp}.json", "latest.json"):
        (RESULTS / name).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"written: bench/results/{stamp}.json")


if __name__ == "__main__":
    main()
