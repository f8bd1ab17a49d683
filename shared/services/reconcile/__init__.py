"""Reconcile: bring Partner Center to what the holds say (principles 1 and 2).

- `handler`: the queue entry point (`reconcile customer X`), alerts on the last delivery;
- `executor`: one run for one customer under its lease: read, plan, act, record, reschedule;
- `records`: what a run writes (audit entries and our suspension records, one transaction);
- `retries`: when and how a run that cannot finish tries again;
- `drift`: the daily sweep that enqueues a reconcile wherever Partner Center and the holds differ;
- `common`: the dependencies object and the reads the three share.
"""
