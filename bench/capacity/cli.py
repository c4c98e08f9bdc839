"""The command line: the options, the simulator process's mode, and the sizes run one after the other."""

from __future__ import annotations

import argparse
import os
import sys

from bench import capacity
from bench.capacity.figures import Result
from bench.capacity.plan import Pacing, Size, parse_size
from bench.capacity.report import print_comparison, print_size
from bench.capacity.run import run_size
from bench.capacity.simulator import serve_sim
from bench.webhooks.fixture import HarnessError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.capacity",
        description=capacity.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", type=parse_size, nargs="+", metavar="N/S[:MIN]",
                        help="runs, the first is the baseline and the last the target (default 1000/13:5 "
                             "10000/125:10)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="1 and 2 minutes, 30 s warm-up (a smoke check)")
    parser.add_argument("--factor", type=float, default=1.5, help="delay compression factor (default 1.5)")
    parser.add_argument(
        "--typing",
        choices=("skip", "hold"),
        default="skip",
        help="skip: the simulator answers sendText at once; hold: it holds it typing/factor",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds run before measuring (default: a round + 1 min, at least 120; --quick 30)",
    )
    parser.add_argument("--workers", type=int, default=2, help="mirage worker processes (default 2)")
    parser.add_argument("--backend-workers", type=int, help="GRANIAN_WORKERS (default: Mirage's, cores + 1)")
    parser.add_argument("--threads", type=int, default=16, help="threads creating instances during setup")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep each run's temporary folder (logs)")
    parser.add_argument("--profile-worker", metavar="FILE", help="run worker 1 under cProfile (FILE.<numbers>.prof)")
    parser.add_argument("--serve-sim", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.factor <= 0:
        parser.error("--factor must be positive")
    if args.serve_sim:
        return serve_sim(args)
    sizes = args.sizes or [Size(1000, 13, 1 if args.quick else 5), Size(10000, 125, 2 if args.quick else 10)]
    sizes = [s if s.minutes else Size(s.numbers, s.servers, 1 if args.quick else 5) for s in sizes]
    pacing = Pacing.of(args.factor)
    if args.warmup is None:  # the conversations started first have finished a round
        args.warmup = 30.0 if args.quick else max(120.0, round(pacing.round_s + 60, -1))

    os.environ.pop("OPENAI_API_KEY", None)
    print(f"cpus={os.cpu_count()}; {pacing.describe()}; typing: {args.typing}; {args.workers} workers; caps as in "
          f"production (hourly burst 20, warm-up day 1 = 20/day)", flush=True)  # fmt: skip
    for s in sizes:
        rate = s.numbers // 2 * pacing.turns / pacing.cycle_s
        print(f"  {s.label}: expected ~{rate:.1f} sends/s (a round of ~{pacing.turns:g} messages in ~"
              f"{pacing.round_s / 60:.1f} min, every "
              f"{pacing.cycle_s / 60:.1f} min per conversation)", flush=True)  # fmt: skip
    results: list[Result] = []
    try:
        for size in sizes:
            print(f"\n-- {size.label}: setting up", flush=True)
            result = run_size(args, size, pacing)
            print_size(result)
            sys.stdout.flush()
            results.append(result)
    except HarnessError as exc:
        print(f"harness error: {exc}", flush=True)
        return 2
    if len(results) >= 2:
        print_comparison(results[0], results[-1])
    return 0
