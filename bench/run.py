"""`make bench`: run every measurement, print the table, write bench/results.md and .json.

Not a test: nothing here fails the build. A target that is not met is marked "no" in the
table; the README's "Benchmarks" section says why.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import ROOT, setup_django

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--peer-python", default="", help="python of the venv with xblock-ai-eval")
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "60")))
    parser.add_argument("--quick", action="store_true", help="few runs, to try the bench out")
    parser.add_argument(
        "--table-only", action="store_true", help="rebuild results.md from results.json"
    )
    options = parser.parse_args()
    if options.table_only:
        results = json.loads((HERE / "results.json").read_text())
        results["table"] = rows = table(results)
        (HERE / "results.md").write_text(markdown := render(results, rows))
        (HERE / "results.json").write_text(json.dumps(results, indent=1, default=str))
        print(markdown)
        return
    runs = 8 if options.quick else options.runs
    runs_large = max(5, runs // 2)

    setup_django()
    from ai_tutor.config import TutorConfig
    from bench import ours, workbench_memory

    started = time.time()
    results: dict[str, Any] = {"machine": machine(), "runs": runs, "runs_large": runs_large}
    step(
        "overhead and student view",
        lambda: results.update(grid=ours.overhead_grid(runs, runs_large)),
    )
    step("input tokens over 100 turns", lambda: results.update(tokens=ours.token_curve(100)))
    step(
        "identity provider, 1,000 questions",
        lambda: results.update(identity=ours.identity_requests(50, 100 if options.quick else 1000)),
    )
    step(
        "throughput, provider answering in 1 s",
        lambda: results.update(throughput=ours.throughput()),
    )
    step(
        "workbench memory",
        lambda: results.update(memory=workbench_memory.measure(50, 100 if options.quick else 1000)),
    )
    step("xblock-ai-eval", lambda: results.update(peer=peer(options.peer_python, runs)))
    if "error" not in results["peer"]:
        step(
            "ours again, beside xblock-ai-eval",
            lambda: results.update(ours_beside_peer=ours.twenty_turns_10kb(runs)),
        )
    results["history_turns"] = TutorConfig.history_turns
    results["seconds"] = time.time() - started

    rows = table(results)
    results["table"] = rows
    markdown = render(results, rows)
    print(markdown)
    (HERE / "results.md").write_text(markdown)
    (HERE / "results.json").write_text(json.dumps(results, indent=1, default=str))
    print(f"Written: {HERE / 'results.md'} and results.json ({results['seconds']:.0f} s)")


def step(name: str, run: Any) -> None:
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    began = time.time()
    run()
    print(f"bench: {name}: {time.time() - began:.1f} s", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = ""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": commit,
    }


def peer(python: str, runs: int) -> dict[str, Any]:
    """xblock-ai-eval measured in its own venv; on failure, why."""
    if not python or not Path(python).exists():
        return {"error": f"no benchmark venv with xblock-ai-eval ({python or 'not given'})"}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "peer.json"
        done = subprocess.run(
            [python, "-m", "bench.peer", str(out)],
            cwd=ROOT,
            env={**os.environ, "BENCH_RUNS": str(runs)},
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0 or not out.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return {"error": "xblock-ai-eval did not run: " + " / ".join(tail)}
        return json.loads(out.read_text())


# ---------------------------------------------------------------------- the table


def ms(summary: dict[str, float]) -> str:
    return f"{summary['median_ms']:.1f} ms (p95 {summary['p95_ms']:.1f})"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("yes" if ok else "**no**")


def table(results: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    grid = results["grid"]
    for key, cell in grid["handler"].items():
        target, limit = "", None
        if key == "20 turns / 10KB":
            target, limit = "< 5 ms median", 5.0
        elif key == "200 turns / 1MB":
            target, limit = "< 50 ms median", 50.0
        own = cell["own"]["median_ms"]
        rows.append(
            [
                f"Handler overhead, {key}",
                f"{ms(cell['own'])}; CPU {ms(cell['cpu'])}; whole handler {ms(cell['total'])}",
                target or "—",
                verdict(own < limit if limit else None),
            ]
        )
    for key, cell in grid["view"].items():
        rows.append(
            [f"Student view, {key}", ms(cell), "< 10 ms median", verdict(cell["median_ms"] < 10)]
        )
    identity = results["identity"]
    rows.append(["Token validation, warm key cache", ms(identity["validation"]), "—", "—"])

    tokens = results["tokens"]
    ours, naive = tokens["ours"], tokens["naive"]
    window = results["history_turns"] // 2 + 1
    blocks = [statistics.mean(ours[start : start + 10]) for start in range(10, 100, 10)]
    # Flat: no growth from the first half after the window filled to the second half; what
    # varies from question to question is how many passages match it.
    first, second = statistics.mean(ours[10:55]), statistics.mean(ours[55:100])
    growth = second / first - 1
    history = tokens["ours_messages"]
    rows.append(
        [
            "Input tokens per question after the history window fills (turn "
            f"{window}): mean of turns 11-55 vs 56-100",
            f"{first:.0f} vs {second:.0f} ({growth:+.0%}); 10-turn means {min(blocks):.0f}-"
            f"{max(blocks):.0f}; turns + question alone {min(history[10:]):.0f}-"
            f"{max(history[10:]):.0f}",
            "flat within 10 %",
            verdict(abs(growth) <= 0.10),
        ]
    )
    ratio = naive[99] / ours[99]
    rows.append(
        [
            "Input tokens at turn 100: naive / ours",
            f"{naive[99]} / {ours[99]} = {ratio:.1f}x",
            ">= 5x",
            verdict(ratio >= 5),
        ]
    )
    rows.append(
        [
            f"Identity provider requests, {identity['questions']} questions from "
            f"{identity['learners']} learners",
            f"{identity['discovery_fetches']} discovery + {identity['jwks_fetches']} JWKS",
            "1 + 1 per key-cache lifetime",
            verdict(identity["discovery_fetches"] == 1 and identity["jwks_fetches"] == 1),
        ]
    )
    builds = grid["index_builds"]
    rows.append(
        [
            "Material index builds per content version",
            ", ".join(
                f"{k}: {v['builds']} for {v['questions']} questions" for k, v in builds.items()
            ),
            "1 per version",
            verdict(all(v["builds"] == 1 for v in builds.values())),
        ]
    )
    memory = results["memory"]
    rows.append(
        [
            f"Workbench RSS, fresh / after 1st question / after {memory['questions']} "
            f"from {memory['learners']} learners",
            f"{memory['rss_fresh_kib'] / 1024:.0f} / {memory['rss_after_first_kib'] / 1024:.0f}"
            f" / {memory['rss_after_kib'] / 1024:.0f} MiB (answers: {memory['statuses']})",
            "—",
            "—",
        ]
    )
    throughput = results["throughput"]
    for learners, level in throughput["levels"].items():
        rows.append(
            [
                f"Throughput, {learners} concurrent learners, provider 1 s, "
                f"process cap {throughput['cap']}",
                f"{level['answered_per_second']:.2f} answered/s; "
                f"{level['rejected']} of {level['asked']} refused as busy",
                "—",
                "—",
            ]
        )

    peer_results = results.get("peer") or {}
    if "error" in peer_results:
        rows.append(["xblock-ai-eval comparison", peer_results["error"], "—", "not run"])
    else:
        theirs = peer_results["tokens"]
        turn = min(30, len(theirs))
        ratio = ours[turn - 1] / theirs[turn - 1]
        rows.append(
            [
                f"Input tokens at turn {turn}: ours / xblock-ai-eval",
                f"{ours[turn - 1]} / {theirs[turn - 1]} = {ratio:.2f}",
                "<= 0.33",
                verdict(ratio <= 1 / 3),
            ]
        )
        mine = results["ours_beside_peer"]
        other = peer_results["handler_20_turns_10KB"]
        ratios = {
            name: mine[name]["median_ms"] / other[name]["median_ms"]
            for name in ("own", "cpu", "total")
        }
        rows.append(
            [
                "Handler overhead, 20 turns / 10KB, measured one after the other: "
                "ours / xblock-ai-eval",
                f"own {mine['own']['median_ms']:.1f} / {other['own']['median_ms']:.1f} ms = "
                f"{ratios['own']:.2f}; request-thread CPU {mine['cpu']['median_ms']:.1f} / "
                f"{other['cpu']['median_ms']:.1f} ms = {ratios['cpu']:.2f}; whole handler "
                f"{mine['total']['median_ms']:.1f} / {other['total']['median_ms']:.1f} ms = "
                f"{ratios['total']:.2f}",
                "<= 1 (own and CPU)",
                # Wall times swing with the machine's load; CPU time says the same thing
                # from run to run, so both must hold.
                verdict(ratios["own"] <= 1 and ratios["cpu"] <= 1),
            ]
        )
    return rows


def render(results: dict[str, Any], rows: list[list[str]]) -> str:
    info = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Run {info['date']} on commit {info['commit']} (plus uncommitted changes, if any): "
        f"{info['nproc']} cores ({info['cpu']}), {info['memory']}, Python {info['python']}, "
        f"load average {info['load_average']} at the start (the machine is shared). "
        f"{results['runs']} runs per cell ({results['runs_large']} with 1 MB of material), "
        "after 3 warm-up questions. Overhead is the handler's wall time less the time inside "
        "the provider call (SDK and loopback HTTP); CPU is the request thread's CPU time, "
        "which a busy machine does not inflate (our provider call runs in a worker thread; "
        "xblock-ai-eval's litellm call, in the request thread, is subtracted).",
        "",
        "| Measure | Result | Target | Met |",
        "|---|---|---|---|",
    ]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    ours, naive = results["tokens"]["ours"], results["tokens"]["naive"]
    theirs = (results.get("peer") or {}).get("tokens") or []
    lines += [
        "",
        "Input tokens per question (characters / 4 of what the loopback provider received):",
        "",
        "| Turn | Ours | Naive (whole history + all material) | xblock-ai-eval |",
        "|---|---|---|---|",
    ]
    for turn in (1, 2, 5, 7, 10, 20, 30, 50, 75, 100):
        other = str(theirs[turn - 1]) if turn <= len(theirs) else "—"
        lines.append(f"| {turn} | {ours[turn - 1]} | {naive[turn - 1]} | {other} |")
    peer_results = results.get("peer") or {}
    if "versions" in peer_results:
        versions = ", ".join(f"{k} {v}" for k, v in peer_results["versions"].items())
        lines += [
            "",
            f"Peer: {versions}; its `shortanswer_ai_eval` block built from OLX with "
            f'`max_responses="{peer_results["max_responses"]}"` (its maximum; default 3), '
            "the same 10 KB of material as its attachment, litellm offline.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
