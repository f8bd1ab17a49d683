"""Fraud and misuse: reports, cases, triage, and the `fraud` hold that suspends while the partner
investigates.

- `intake`: a report (HTTP or a Partner Center event) opens or joins a case, is triaged, and the
  decision is carried out;
- `cases`: reading, resolving (confirmed or dismissed) and escalating cases (the 21Vianet
  service-request draft and its ticket);
- `case_lists`: the list of cases by status or customer, category, severity and dates;
- `holds`: a case's own hold, placed, lifted, and the reconcile request that follows (used by
  intake, repair and cases);
- `repair`: holds that an interrupted intake decided but never placed;
- `pc_events`: the Partner Center fraud events poll (global cloud);
- `signatures`: the HMAC signature of machine senders;
- `deps`: what these use cases are given (stores, the reconcile queue, the rules, the clock).
"""
