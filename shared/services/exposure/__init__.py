"""Exposure and credit control: what each customer is running up at Partner Center, against the
credit the partner chose to give it, and usage spikes opened as fraud cases (docs/exposure.md).

- `refresh`: one run of the timer (`%EXPOSURE_SCHEDULE%`): start or resume a run, read, apply;
- `read`: the partner-wide unbilled line-item listings, page by page, tallied per customer;
- `apply`: one customer: seat counts, usage history, anomalies, exposure, the credit decision,
  all in one transaction of its partition;
- `anomalies`: an anomaly as a fraud report (source `usage_anomaly`) through the fraud intake;
- `status`: what `GET /api/exposure/run` shows of the run;
- `deps`: what these use cases are given.
"""
