"""Sustained `messages.upsert` webhook ingestion against Mirage as it runs in production, beside a bare baseline.

    .venv/bin/python -m bench.webhooks [--seconds 15] [--warmup 3] [--connections 64] [--workers N]

What it does, in one run:

1. starts an embedded PostgreSQL and Redis in a temporary folder, migrates, creates a tenant and 4 numbers whose
   webhook secrets it knows;
2. starts Mirage exactly as production does: `reflex run --env prod --backend-only` with DATABASE_URL, REDIS_URL
   and EVOLUTION_URL set (so no embedded supervisor starts, Reflex picks the Redis state manager, and Mirage's
   rxconfig its Granian worker count: cores + 1), and reads back how many Granian workers it forked;
3. starts a bare FastAPI app (one POST endpoint that reads the body and answers `{"ok": true}`) through the very
   function Reflex uses to serve its prod backend (`reflex.utils.exec.run_granian_backend_prod`), with the same
   worker count, and loads it: that is the ceiling this machine allows an ASGI app served this way;
4. loads Mirage with unique `messages.upsert` deliveries (wrk + a Lua script when wrk is installed, else a
   multi-process asyncio generator), after a warm-up, at fixed concurrency, and checks the rows it stored;
5. loads both at a fixed rate (open loop, default 1,000 deliveries/s) to see the latency of a sustained rate;
6. sends N unique deliveries 3 times each, shuffled and concurrently, and checks that only N events and N
   messages were stored.

The goal (>= 1,000 events/s with p99 < 50 ms) is judged as: the closed loop's saturation throughput reaches 1,000/s,
and at a sustained 1,000/s (open loop) every delivery is answered with p99 < 50 ms. The closed loop's own p99 is
printed but not judged: at saturation a closed loop's latency is its queue (Little's law: 64 connections /
throughput), which is why the bare baseline misses 50 ms there too.

Exit status: 0 when the run completed (whether or not the goal was met), 2 on a harness error.
"""
