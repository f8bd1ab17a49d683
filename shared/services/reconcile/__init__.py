"""Reconcile: bring Partner Center to what the holds say (principles 1 and 2).

- `handler`: the queue entry point (`reconcile customer X`), alerts on the last delivery;
- `executor`: one run for one customer under its lease: read, plan, act per subscription, record
  the enforcement snapshot, reschedule;
- `calls`: the Partner Center steps (suspend, reactivate, restore auto-renew) and what each kind
  of failure makes of the run;
- `outcomes`: what each answer, or its absence, makes of our record of one subscription
  (ours, refused, waiting, unknown, released, undecided), audited and alerted;
- `records`: what a run writes (audit entries, our records, the snapshot: one transaction);
- `retries`: when and how a run that cannot finish tries again;
- `ownership`: a person settles a subscription whose suspension could not be told ours;
- `drift`: the daily sweep that enqueues a reconcile wherever Partner Center and the holds differ;
- `common`: the dependencies object and the reads they share.
"""
