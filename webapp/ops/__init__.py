"""Operations on a running station: backup and restore (`flask backup`, `flask restore`).

What a backup holds and why (README, "Deploying for a city"): the database — photos, letter and
agreement PDFs and exports are rows in it — and the instance files that cannot be rebuilt: the
secret key (sessions, and the key sealing second-factor secrets), the Web Push key pair (every
phone's subscription is bound to it), the sealing key (phones' queued DV and minor items are
encrypted for it) and the audit anchors. The job queue is not kept: its durable state is in the
database, and the minute sweep re-enqueues whatever is pending.
"""
