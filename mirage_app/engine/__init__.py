"""The engine: everything a job or a tick drives, from a webhook delivery to a message accepted by Evolution.

Public entry points (what services, API routes and pages may import; import-linter holds the rest private):

- `ingest`: store a webhook delivery (one SQL statement) and the webhook secret directory
- `inbox`: hand received messages to the drain jobs
- `optout`: the inbound opt-out check the webhook route runs at once
- `suppression`: the tenant's suppression list (one path for inbound opt-outs and operators)
- `evolution_gateway`: the Evolution client of each server and its failures, for instance commands
- `server_health`: probing an Evolution server (saving one, the settings page's "probe now", the periodic tick)
- `effective_settings`: tenant defaults merged with a conversation's overrides
- `outreach_sends`: what counts as an outreach send, and the counts shown beside a policy
- `round_state`: aborting a round (a conversation switched off) and the pairing order
- `alerts`: `emit`, the one entry point for alerts to people, and a channel's test alert
- `safety_stop`: the tenant's emergency stop (on or off, releasing the sends it held); a platform suspension
  closes the same gate
- `plan_use`: the tenant's plan limits and their use (services check them; the outreach tick asks before openers)
- `reputation`: each number's reputation, recomputed (the number's detail reads what it stores)
- `number_safety`: whether a number may contact anyone new (reach-out restriction, monthly allowance) and the
  restriction detection the sweep runs; `proxy_health`: checking a proxy from Mirage's side
- `replies`, `llm`, `runtime`: the reply generator a persona preview uses, its label, the engine's runtime

Private: `dispatch` (routes an inbound message by kind), `rounds`, `sending` (with `send_context`, what one
attempt reads) and `contact_guard` (the send guard), `number_health`, `inbox_drain`, `outreach_exchange`,
`outreach_sender`, `llm_client`, `alert_transports`, and the two ticks `conversation_scheduler` and
`outreach_scheduler`. Jobs reach them through `workers/jobs.py`.
"""
