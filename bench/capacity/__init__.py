"""Capacity: 10,000 numbers on 125 simulated Evolution servers beside 1,000 on 13, Mirage run as in production.

    .venv/bin/python -m bench.capacity                      # 1,000/13 for 5 min, then 10,000/125 for 10 min
    .venv/bin/python -m bench.capacity --quick              # the same sizes for 1 and 2 min (a smoke check)
    .venv/bin/python -m bench.capacity --sizes 100/2:1 400/5:1 --factor 2

Each size gets a fresh world (nothing is shared between the runs but the machine):

- an embedded PostgreSQL and Redis in a temporary folder, migrated;
- the simulated servers: one `SimulatorPool` (mirage_app/evolution/simulator/pool.py) in its own process
  (`python -m bench.capacity --serve-sim ...`), capacity 80 per server, demo-like pacing (acks after 0.5/2/6 s,
  10 % of inbound messages with @lid addresses) with its delays divided by the compression factor;
- each server registered as a platform server (`register_platform_server`, probed by the engine every 30 s);
- the numbers: rows bulk-inserted with psycopg (`connecting`, `server_id` = the server it is placed on, a webhook
  secret and token each), then created on their simulated server over HTTP exactly as Mirage creates them
  (`services.instances._register_at`: Mirage's webhook URL, secret header and event list) and scanned, so the
  simulator's webhooks connect them through Mirage's own ingestion; then `paired_at` is moved 30 days back (the
  settle time after pairing is over);
- numbers/2 warming conversations in pair mode, the two numbers of a pair on different servers, all three windows
  of every day open (00-08, 08-16, 16-24 in the tenant's zone, chosen so that the run starts just after local
  midnight: no window closes and no local day ends during the run), quiet hours off, humanised pacing on, the
  production caps (hourly burst 20, warm-up day 1 = 20 per day, minimum gap = the minimum delay);
- Mirage as in production: `reflex run --env prod --backend-only` (Granian, cores + 1 workers; it serves the
  webhook receiver), 2 × `mirage worker`, 1 × `mirage scheduler`; no OPENAI_API_KEY (offline generator).

Compression (`--factor F`, default 1.5): the tenant's reply delays (15..180 s → 15/F..180/F s, also the minimum
gap), the pause between rounds (20..60 min → 20/F..60/F min) and the simulator's acks are divided by F. Not
compressible without changing the engine: the reading time before a reply (logic/pacing.py, 1..15 s) and the
typing time Mirage asks Evolution for (2..8 s). `--typing skip` (default): the simulator answers sendText at once,
as `SimConfig.honour_delay=False`; the report says how many workers Evolution's real hold would keep busy.
`--typing hold`: the simulator holds sendText for the typing time / F, as Evolution does (workers block on it).

Every conversation's first look is spread uniformly over one expected cycle (a round plus the pause plus the
tick's minute), so the load is steady from the start; `--warmup` seconds are run before the measured window.

Measured over the window, for each size: sustained sends/s (messages claimed and accepted by the simulator, from
the database), send lag p50/p95 (`messages.meta.lag_ms`: claim time minus planned time, set by the send
pipeline; a send still due and unclaimed at the end counts with the lag it has reached), the conversation tick
(its own elapsed_ms from the RQ job result, and how long the job waited in the queue), webhook events/s
(`webhook_events` rows), queue depth every 10 s (RQ queues, scheduled registries, the engine's inbox, and
due-but-unsent messages in the database), cap violations counted from the database over the whole run (below),
CPU seconds per 1,000 number-hours of Mirage's processes (backend, workers, scheduler; the simulator, PostgreSQL,
Redis, this process and the rest of the machine are printed apart) and every process's peak RSS. Then the 10k
figures beside the baseline's, and the ratio of cost per number.

Cap violations, from `messages` (claimed sends: `sent_at` set, not failed unless `unknown_delivery`, as the
pipeline counts them): a send whose number has more than the hourly burst limit in the rolling hour ending at it;
more than its warm-up daily cap in its tenant-local day (the cap of the number's n-th local day with sends, from
logic.warmup, computed here and not read back from the engine's own meta); or less than the minimum gap after
the number's previous send. Quiet hours are off in this bench (all windows open), so they are not counted.

Goals (the 2-core machine): p95 send lag < 10 s at 10k, 0 cap violations, Mirage CPU per number at 10k <= 1.2 x
the baseline's, no Mirage process above 1 GB. Exit 0 when the runs completed (met or not), 2 on a harness error.
"""
