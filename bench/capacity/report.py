"""What a run prints: each size's figures, then the target beside the baseline and the goals, PASS or FAIL."""

from __future__ import annotations

import json
import math

from bench.capacity.figures import MIRAGE_GROUPS, Result

GOAL_LAG_P95_S = 10.0
GOAL_COST_RATIO = 1.2
GOAL_RSS = 1 << 30


def _tick_limit() -> int:
    from mirage_app.engine.runtime import EngineSettings

    return EngineSettings().tick_limit


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def print_size(r: Result) -> None:
    print(f"\n== {r.size.label}: {r.size.numbers:,} numbers on {r.size.servers} servers, {r.conversations:,} "
          f"conversations; {r.window_s / 60:.1f} min measured ({r.number_hours:,.0f} number-hours) ==")  # fmt: skip
    print(f"sustained sends/s       {r.sends_per_s:8.2f}   ({r.sends:,} sends; per minute: "
          f"{' '.join(str(n) for n in r.per_minute)})")  # fmt: skip
    print(f"send lag p50 / p95      {r.lag_s(0.5):8.2f} s / {r.lag_s(0.95):.2f} s   (p99 {r.lag_s(0.99):.2f} s, "
          f"max {max(r.lags_ms, default=0) / 1000:.1f} s; {r.unclaimed} of them due and not yet claimed at the end, "
          f"with their lag so far)")  # fmt: skip
    print(f"conversation tick p95   {r.tick_ms('elapsed_ms', 0.95):8.0f} ms  (p50 {r.tick_ms('elapsed_ms', 0.5):.0f};"
          f" job {r.tick_ms('job_ms', 0.95):.0f} ms p95; waited in the queue p95 {r.tick_ms('wait_ms', 0.95):.0f} ms;"
          f" {len(r.ticks)} ticks, due per tick p95 {r.tick_ms('due', 0.95):.0f}, max "
          f"{max((t.get('due') or 0 for t in r.ticks), default=0)} of tick_limit {_tick_limit()})")  # fmt: skip
    events = ", ".join(f"{k} {v / r.window_s:.1f}" for k, v in r.webhook_events.items())
    print(f"webhook events/s        {r.events_per_s:8.1f}   ({events})")
    print(f"rounds                  {json.dumps(r.rounds)}")
    if r.failed:
        print(f"failed sends            {json.dumps(r.failed)}")
    print(f"stalled at the end      {r.stalled_at_end} queued sends more than 60 s past their planned time")
    v, h = r.violations, r.headroom
    print(f"cap violations          {sum(v.values())}   (hourly {v['hourly']}, daily {v['daily']}, min gap "
          f"{v['min_gap']}; limits {r.limits['hourly']}/h, {r.limits['daily (day 1)']}/day on day 1, gap "
          f"{r.limits['min gap s']:g} s; seen: {h['max in an hour']} in an hour, {h['max in a day']} in a day, "
          f"min gap {h['min gap s']:.1f} s, {h['claimed sends']:,} claimed sends in the run)")  # fmt: skip
    print("cpu s per 1,000 number-hours (cpu s in the window):")
    for group in (*MIRAGE_GROUPS, "simulator", "postgres", "redis", "bench"):
        secs = r.cpu.get(group, 0.0)
        print(f"  {group:<22}{r.cost((group,)):9.1f}   ({secs:7.1f} s, {secs / r.window_s * 100:5.1f} % of a core)")
    known = sum(v for k, v in r.cpu.items() if k != "machine")
    other = max(0.0, r.cpu.get("machine", 0.0) - known)
    print(f"  {'MIRAGE (first three)':<22}{r.cost():9.1f}   ({sum(r.cpu.get(g, 0) for g in MIRAGE_GROUPS):7.1f} s)")
    print(f"  rest of the machine: {other:.0f} s ({other / r.window_s * 100:.0f} % of a core: other programs)")
    print("peak RSS per process:")
    for group in (*MIRAGE_GROUPS, "simulator", "postgres", "redis"):
        procs = sorted((p for p in r.procs if p.group == group), key=lambda p: -p.peak_rss)
        if not procs:
            continue
        shown = ", ".join(f"{p.name} {_mb(p.peak_rss)}" for p in procs[:6])
        more = f" (+{len(procs) - 6} more, each <= {_mb(procs[6].peak_rss)})" if len(procs) > 6 else ""
        print(f"  {group:<10} {shown}{more}")
    print(f"typing: Mirage asked for {r.typing_busy:.1f} s of typing per second; "
          + ("the simulator answered at once (--typing skip): Evolution's real hold would keep that many "
             "synchronous workers busy on it alone" if r.typing == "skip" else
             f"the simulator held each send typing/{r.pacing.factor:g}: {r.typing_busy / r.pacing.factor:.1f} "
             "worker-seconds per second"))  # fmt: skip
    print("queue depth every 10 s (high/default/low queued | scheduled high | started | inbox | due unsent in DB):")
    t0 = r.queue_series[0]["t"] if r.queue_series else 0
    cells = [
        f"{(q['t'] - t0) / 60:4.1f}m {q['high']}/{q['default']}/{q['low']}|{q['sched_high']}|"
        f"{q['started_high'] + q['started_default'] + q['started_low']}|{q['inbox']}|{q['due_db']}"
        for q in r.queue_series
    ]
    for i in range(0, len(cells), 5):
        print("  " + "   ".join(cells[i : i + 5]))
    for note in r.notes:
        print(f"note: {note}")


def print_comparison(base: Result, big: Result) -> int:
    ratio = big.cost() / base.cost() if base.cost() else float("nan")
    rows = [
        ("numbers / servers", base.size.label, big.size.label, ""),
        ("measured minutes", f"{base.window_s / 60:.1f}", f"{big.window_s / 60:.1f}", ""),
        ("sends/s", f"{base.sends_per_s:.2f}", f"{big.sends_per_s:.2f}", f"x{_div(big.sends_per_s, base.sends_per_s)}"),
        ("sends/s per 1,000 numbers", f"{base.sends_per_s * 1000 / base.size.numbers:.2f}",
         f"{big.sends_per_s * 1000 / big.size.numbers:.2f}", ""),
        ("send lag p50 s", f"{base.lag_s(0.5):.2f}", f"{big.lag_s(0.5):.2f}", ""),
        ("send lag p95 s", f"{base.lag_s(0.95):.2f}", f"{big.lag_s(0.95):.2f}", ""),
        ("tick p95 ms", f"{base.tick_ms('elapsed_ms', 0.95):.0f}", f"{big.tick_ms('elapsed_ms', 0.95):.0f}",
         f"x{_div(big.tick_ms('elapsed_ms', 0.95), base.tick_ms('elapsed_ms', 0.95))}"),
        ("webhook events/s", f"{base.events_per_s:.1f}", f"{big.events_per_s:.1f}",
         f"x{_div(big.events_per_s, base.events_per_s)}"),
        ("cap violations", str(sum(base.violations.values())), str(sum(big.violations.values())), ""),
        ("Mirage cpu s / 1,000 number-h", f"{base.cost():.1f}", f"{big.cost():.1f}", f"x{ratio:.2f}"),
        *[(f"  {g}", f"{base.cost((g,)):.1f}", f"{big.cost((g,)):.1f}",
           f"x{_div(big.cost((g,)), base.cost((g,)))}") for g in MIRAGE_GROUPS],
        ("  simulator (not Mirage)", f"{base.cost(('simulator',)):.1f}", f"{big.cost(('simulator',)):.1f}", ""),
        ("  postgres (not Mirage)", f"{base.cost(('postgres',)):.1f}", f"{big.cost(('postgres',)):.1f}",
         f"x{_div(big.cost(('postgres',)), base.cost(('postgres',)))}"),
        ("  redis (not Mirage)", f"{base.cost(('redis',)):.1f}", f"{big.cost(('redis',)):.1f}", ""),
        ("largest Mirage process", _mb(base.mirage_peak_rss), _mb(big.mirage_peak_rss), ""),
    ]  # fmt: skip
    print(f"\n== {big.size.label} beside the {base.size.label} baseline ==")
    print(f"{'':32}{'baseline':>14}{'target':>14}{'ratio':>10}")
    for name, x, y, z in rows:
        print(f"{name:32}{x:>14}{y:>14}{z:>10}")
    lag = big.lag_s(0.95)
    violations = sum(base.violations.values()) + sum(big.violations.values())
    rss = max(base.mirage_peak_rss, big.mirage_peak_rss)
    goals = [
        (f"p95 send lag < {GOAL_LAG_P95_S:g} s at {big.size.numbers:,}", lag < GOAL_LAG_P95_S, f"{lag:.2f} s"),
        ("0 cap violations (both runs)", violations == 0, str(violations)),
        (f"cost per number <= {GOAL_COST_RATIO:g} x the baseline", ratio <= GOAL_COST_RATIO, f"x{ratio:.2f}"),
        ("no Mirage process above 1 GB", rss <= GOAL_RSS, _mb(rss)),
    ]
    print("\ngoals (2-core machine):")
    for text, ok, value in goals:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}: {value}")
    other = [max(0.0, r.cpu.get("machine", 0) - sum(v for k, v in r.cpu.items() if k != "machine")) / r.window_s
             for r in (base, big)]  # fmt: skip
    if max(other) > 0.1:
        print(f"note: other programs used {other[0] * 100:.0f} % / {other[1] * 100:.0f} % of a core during the runs: "
              f"latencies are pessimistic, CPU seconds of Mirage's own processes are still theirs")  # fmt: skip
    return 0


def _div(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b and not math.isnan(a) and not math.isnan(b) else "-"
