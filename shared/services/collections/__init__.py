"""Collections: non-payment, from the ledger feed to a `non_payment` hold, and credit control.

- `ledger`, `ledger_import`: customer profiles, invoices, payments, the CSV feed;
- `controls`: manual holds and exemptions;
- `customer_change`: the one path every change takes (read, stage, re-evaluate, commit);
- `customer_view`: what a customer's page and audit trail show; `customer_records`: the invoices
  with what is paid on each, the payments and the notices (the console's customer page);
- `scan`, `preview`: the timer scan of the due index, and what it would do now;
- `decision` (the evaluation of a stored customer), `commit` (the one-transaction commit and
  its ordering rules), `actions` (the rows a decided action stages), `outbox` (messages
  published after a commit), `cap` (the blast-radius cap);
- `shadow` (dry run's would-be collections state), `rollout` (the enforcement mode the scan
  saw last, and what the switch to enforce does), `alerts` (partner alerts, once a day), `feed`
  (the payments-feed signal);
- `forecast`: what the policy will do in the next days if nothing changes;
- `approvals`: suspension batches held back by the cap, released by a person;
- `pending`, `four_eyes`: changes one person may not make alone, asked for and listed
  (`pending`), approved or rejected by a second person (`four_eyes`);
- `lists`, `batches`, `alerts`, `ageing`: what staff work from: customers (search, filters),
  open holds, exemptions, suspension batches and their members, alerts and their
  acknowledgement, the ageing report (paged, O(page); see `shared/adapters/lists.py`);
- `notices`: the notice sender (queue-triggered), `notice_channels` (e-mail and webhook);
- `credit` (a credit decision's rows, and the `credit_limit` hold a payment or a raised limit
  lifts at once), `credit_view` (a customer's exposure against its limit, for the views),
  `credit_watch` (the list of customers at or over the credit alert threshold);
- `published_policy`: the policy text customers read;
- `deps`: what these use cases are given (storage, queues, the policy, the clock).
"""
